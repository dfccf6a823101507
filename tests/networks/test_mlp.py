"""Fully connected generator / discriminator: shapes, value ranges, conditioning, build_networks."""

from __future__ import annotations

import pytest
import torch

from gan_lightning.errors import ConfigError
from gan_lightning.networks import ARCHITECTURES, MLPDiscriminator, MLPGenerator, build_networks

Z_DIM = 8
SHAPES = [(2,), (1, 28, 28)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("num_classes", [None, 10])
def test_shapes_and_range(shape: tuple[int, ...], num_classes: int | None) -> None:
    gen, disc = build_networks("mlp", Z_DIM, shape, num_classes=num_classes)
    assert isinstance(gen, MLPGenerator)
    assert isinstance(disc, MLPDiscriminator)
    n = 6
    labels = torch.arange(n) % 10 if num_classes else None
    x = gen(torch.randn(n, Z_DIM), labels)
    assert x.shape == (n, *shape)
    assert x.min().item() >= -1.0
    assert x.max().item() <= 1.0
    logits = disc(x, labels)
    assert logits.shape == (n,)
    assert torch.isfinite(logits).all()


def test_tanh_output_false_can_leave_unit_range() -> None:
    gen = MLPGenerator(Z_DIM, (2,), hidden_dims=(16,), tanh_output=False)
    tanh_gen = MLPGenerator(Z_DIM, (2,), hidden_dims=(16,), tanh_output=True)
    tanh_gen.load_state_dict(gen.state_dict())
    with torch.no_grad():
        for g in (gen, tanh_gen):
            g.head.weight.mul_(1000.0)
    z = torch.randn(32, Z_DIM)
    raw = gen(z)
    assert raw.abs().max().item() > 1.0
    squashed = tanh_gen(z)
    assert squashed.abs().max().item() <= 1.0
    torch.testing.assert_close(squashed, torch.tanh(raw))


def test_tanh_output_via_build_networks() -> None:
    gen, _ = build_networks("mlp", Z_DIM, (2,), tanh_output=False)
    assert isinstance(gen.out_act, torch.nn.Identity)
    gen, _ = build_networks("mlp", Z_DIM, (2,))
    assert isinstance(gen.out_act, torch.nn.Tanh)


def test_conditioning_changes_generator_output() -> None:
    gen = MLPGenerator(Z_DIM, (2,), hidden_dims=(32, 32), num_classes=8)
    gen.eval()
    z = torch.randn(1, Z_DIM).repeat(8, 1)
    x = gen(z, torch.arange(8))
    for k in range(1, 8):
        assert not torch.allclose(x[0], x[k]), k
    # Same z, same label -> same output.
    torch.testing.assert_close(gen(z[:2], torch.tensor([3, 3]))[0], gen(z[:2], torch.tensor([3, 3]))[1])


def test_conditioning_changes_discriminator_output() -> None:
    disc = MLPDiscriminator((2,), hidden_dims=(32,), num_classes=4)
    disc.eval()
    x = torch.randn(1, 2).repeat(4, 1)
    logits = disc(x, torch.arange(4))
    assert len(set(logits.tolist())) == 4


def test_embed_dim_and_hidden_dims() -> None:
    gen = MLPGenerator(Z_DIM, (1, 28, 28), hidden_dims=(64,), num_classes=10, embed_dim=3)
    assert gen.embed.embedding_dim == 3
    assert gen.body[0].in_features == Z_DIM + 3
    assert gen.head.out_features == 28 * 28
    disc = MLPDiscriminator((1, 28, 28), hidden_dims=(), num_classes=10)
    assert disc.head.in_features == 28 * 28 + 10
    assert disc(torch.zeros(3, 1, 28, 28), torch.tensor([0, 1, 2])).shape == (3,)


def test_batch_norm_and_dropout_layers() -> None:
    gen = MLPGenerator(Z_DIM, (2,), hidden_dims=(16, 16), batch_norm=True, dropout=0.5)
    kinds = [type(m).__name__ for m in gen.body]
    assert kinds == ["Linear", "BatchNorm1d", "LeakyReLU", "Dropout"] * 2
    assert gen(torch.randn(4, Z_DIM)).shape == (4, 2)


def test_gradients_flow() -> None:
    gen, disc = build_networks("mlp", Z_DIM, (2,), num_classes=5)
    labels = torch.tensor([0, 1, 2, 3, 4, 0])
    disc(gen(torch.randn(6, Z_DIM), labels), labels).sum().backward()
    for module in (gen, disc):
        for name, param in module.named_parameters():
            assert param.grad is not None, name
        assert any(p.grad.abs().sum() > 0 for p in module.parameters())


def test_unknown_arch_lists_choices() -> None:
    with pytest.raises(ConfigError) as info:
        build_networks("resnet", Z_DIM, (2,))
    message = str(info.value)
    assert "resnet" in message
    assert set(ARCHITECTURES) == {"mlp", "conv", "transformer", "stylegan", "stylegan2"}
    assert all(name in message for name in ARCHITECTURES)  # every choice is listed


@pytest.mark.parametrize(
    "kwargs",
    [{"generator_kwargs": {"bogus": 1}}, {"discriminator_kwargs": {"tanh_output": False}}],
)
def test_bad_kwarg(kwargs: dict) -> None:
    with pytest.raises(ConfigError, match="mlp"):
        build_networks("mlp", Z_DIM, (2,), **kwargs)


def test_kwargs_are_forwarded() -> None:
    gen, disc = build_networks(
        "mlp",
        Z_DIM,
        (2,),
        generator_kwargs={"hidden_dims": [7]},
        discriminator_kwargs={"hidden_dims": [5, 3]},
    )
    assert gen.head.in_features == 7
    assert disc.head.in_features == 3
