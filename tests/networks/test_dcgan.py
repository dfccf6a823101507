"""DCGAN networks: size plans, shapes and ranges at every supported size, conditioning, init."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gan_lightning.errors import ConfigError
from gan_lightning.networks import DCGANDiscriminator, DCGANGenerator, build_networks
from gan_lightning.networks.dcgan import conv_plan

Z_DIM = 16
SHAPES = [(1, 28, 28), (3, 32, 32), (3, 64, 64), (1, 16, 16), (3, 8, 8)]


@pytest.mark.parametrize(
    ("side", "plan"), [(28, (7, 2)), (32, (2, 4)), (64, (4, 4)), (16, (2, 3)), (8, (2, 2))]
)
def test_conv_plan(side: int, plan: tuple[int, int]) -> None:
    assert conv_plan(side) == plan
    start, doublings = plan
    assert start * 2**doublings == side


@pytest.mark.parametrize("side", [30, 4, 6, 0, 33])
def test_conv_plan_unsupported(side: int) -> None:
    with pytest.raises(ConfigError, match="multiple of 4"):
        conv_plan(side)


@pytest.mark.parametrize("side", [30, 4, 6])
def test_unsupported_size_in_networks(side: int) -> None:
    with pytest.raises(ConfigError, match="multiple of 4"):
        build_networks("conv", Z_DIM, (3, side, side))


@pytest.mark.parametrize("shape", [(2,), (28, 28), (1, 28, 32), (3, 32, 16)])
def test_non_square_or_2d_shape_mentions_mlp(shape: tuple[int, ...]) -> None:
    with pytest.raises(ConfigError, match="MLP"):
        DCGANGenerator(Z_DIM, shape)
    with pytest.raises(ConfigError, match="MLP"):
        DCGANDiscriminator(shape)


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("num_classes", [None, 10], ids=["uncond", "cond"])
def test_shapes_and_range(shape: tuple[int, int, int], num_classes: int | None) -> None:
    gen, disc = build_networks(
        "conv", Z_DIM, shape, num_classes=num_classes, generator_kwargs={"base_channels": 32}
    )
    assert isinstance(gen, DCGANGenerator)
    assert isinstance(disc, DCGANDiscriminator)
    n = 3
    labels = torch.tensor([0, 4, 9]) if num_classes else None
    x = gen(torch.randn(n, Z_DIM), labels)
    assert x.shape == (n, *shape)
    assert x.min().item() >= -1.0
    assert x.max().item() <= 1.0
    assert x.std().item() > 0
    logits = disc(x, labels)
    assert logits.shape == (n,)
    assert torch.isfinite(logits).all()
    # The discriminator also takes real-range images directly.
    assert disc(torch.rand(n, *shape) * 2 - 1, labels).shape == (n,)


@pytest.mark.parametrize(
    ("shape", "project_shape"),
    [((3, 32, 32), (512, 2, 2)), ((3, 64, 64), (512, 4, 4)), ((1, 28, 28), (128, 7, 7))],
)
def test_first_feature_map(shape: tuple[int, int, int], project_shape: tuple[int, int, int]) -> None:
    gen = DCGANGenerator(128, shape, base_channels=64)
    assert gen.project(torch.randn(2, 128)).shape == (2, *project_shape)


def test_cifar_generator_first_map_is_2x2x512() -> None:
    gen, _ = build_networks("conv", 128, (3, 32, 32))
    assert gen.start == 2
    assert gen.project(torch.randn(4, 128)).shape == (4, 512, 2, 2)
    assert gen(torch.randn(4, 128)).shape == (4, 3, 32, 32)


def test_tanh_bounds_even_large_activations() -> None:
    gen = DCGANGenerator(Z_DIM, (1, 16, 16), base_channels=8)
    assert isinstance(gen.upsample[-1], nn.Tanh)
    last_conv = [m for m in gen.upsample if isinstance(m, nn.ConvTranspose2d)][-1]
    with torch.no_grad():
        last_conv.weight.mul_(1e4)
        x = gen(torch.randn(4, Z_DIM))
    assert x.abs().max().item() <= 1.0
    assert x.abs().max().item() > 0.99


def test_tanh_output_false() -> None:
    gen = DCGANGenerator(Z_DIM, (1, 16, 16), base_channels=8, tanh_output=False)
    assert isinstance(gen.upsample[-1], nn.Identity)
    last_conv = [m for m in gen.upsample if isinstance(m, nn.ConvTranspose2d)][-1]
    with torch.no_grad():
        last_conv.weight.mul_(1e4)
    assert gen(torch.randn(4, Z_DIM)).abs().max().item() > 1.0


@pytest.mark.parametrize("shape", [(3, 32, 32), (1, 28, 28)])
def test_conditioning_changes_generator_output(shape: tuple[int, int, int]) -> None:
    gen = DCGANGenerator(Z_DIM, shape, base_channels=16, num_classes=10).eval()
    z = torch.randn(1, Z_DIM).repeat(10, 1)
    with torch.no_grad():
        x = gen(z, torch.arange(10))
        same = gen(z, torch.zeros(10, dtype=torch.long))
    for k in range(1, 10):
        assert (x[0] - x[k]).abs().max().item() > 1e-6, k
    torch.testing.assert_close(same[0], same[5])


def test_conditioning_changes_discriminator_output() -> None:
    disc = DCGANDiscriminator((1, 28, 28), base_channels=16, num_classes=10).eval()
    x = torch.randn(1, 1, 28, 28).repeat(10, 1, 1, 1)
    with torch.no_grad():
        logits = disc(x, torch.arange(10))
    assert len(set(logits.tolist())) == 10


def test_dcgan_init() -> None:
    gen, disc = build_networks("conv", 100, (3, 64, 64))
    convs = [m for net in (gen, disc) for m in net.modules() if isinstance(m, nn.Conv2d | nn.ConvTranspose2d)]
    assert len(convs) == 8
    for conv in convs:
        weight = conv.weight.detach()
        tol = 0.004 if weight.numel() < 10_000 else 0.001
        assert weight.std().item() == pytest.approx(0.02, abs=tol)
        assert weight.mean().item() == pytest.approx(0.0, abs=0.003)
        if conv.bias is not None:
            assert torch.count_nonzero(conv.bias) == 0
    linears = [m for net in (gen, disc) for m in net.modules() if isinstance(m, nn.Linear)]
    for linear in linears:
        assert linear.weight.detach().std().item() == pytest.approx(0.02, abs=0.002)
    norms = [m for net in (gen, disc) for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    assert norms
    for bn in norms:
        assert bn.weight.detach().mean().item() == pytest.approx(1.0, abs=0.01)
        assert bn.weight.detach().std().item() == pytest.approx(0.02, abs=0.01)
        assert torch.count_nonzero(bn.bias) == 0


def test_layer_structure_32() -> None:
    gen = DCGANGenerator(Z_DIM, (3, 32, 32))
    channels = [(m.in_channels, m.out_channels) for m in gen.upsample if isinstance(m, nn.ConvTranspose2d)]
    assert channels == [(512, 256), (256, 128), (128, 64), (64, 3)]
    disc = DCGANDiscriminator((3, 32, 32))
    channels = [(m.in_channels, m.out_channels) for m in disc.features if isinstance(m, nn.Conv2d)]
    assert channels == [(3, 64), (64, 128), (128, 256), (256, 512)]
    # BatchNorm on every discriminator layer but the first.
    assert not isinstance(disc.features[1], nn.BatchNorm2d)
    assert sum(isinstance(m, nn.BatchNorm2d) for m in disc.features) == 3
    assert disc.head[1].in_features == 512 * 2 * 2


def test_conditional_adds_one_channel() -> None:
    gen = DCGANGenerator(Z_DIM, (1, 28, 28), base_channels=16, num_classes=10)
    first = next(m for m in gen.upsample if isinstance(m, nn.ConvTranspose2d))
    assert first.in_channels == 32 + 1
    disc = DCGANDiscriminator((1, 28, 28), base_channels=16, num_classes=10)
    assert disc.features[0].in_channels == 2


@pytest.mark.parametrize("num_classes", [None, 10])
def test_gradients_flow(num_classes: int | None) -> None:
    gen, disc = build_networks(
        "conv",
        Z_DIM,
        (3, 32, 32),
        num_classes=num_classes,
        generator_kwargs={"base_channels": 16},
        discriminator_kwargs={"base_channels": 16},
    )
    labels = torch.tensor([1, 2, 3, 4]) if num_classes else None
    disc(gen(torch.randn(4, Z_DIM), labels), labels).sum().backward()
    for module in (gen, disc):
        for name, param in module.named_parameters():
            assert param.grad is not None, name
            assert torch.isfinite(param.grad).all(), name
        assert any(p.grad.abs().sum() > 0 for p in module.parameters())


def test_unknown_arch_lists_choices() -> None:
    with pytest.raises(ConfigError, match="dcgan") as info:
        build_networks("dcgan", Z_DIM, (3, 32, 32))
    assert "mlp" in str(info.value)
    assert "conv" in str(info.value)


@pytest.mark.parametrize(
    "kwargs",
    [{"generator_kwargs": {"hidden_dims": [8]}}, {"discriminator_kwargs": {"dropout": 0.1}}],
)
def test_bad_kwarg(kwargs: dict) -> None:
    with pytest.raises(ConfigError, match="conv"):
        build_networks("conv", Z_DIM, (1, 28, 28), **kwargs)


@pytest.mark.parametrize(("g_mode", "d_mode"), [("latent", "projection"), ("channel", "projection")])
def test_other_conditionings_use_the_label(g_mode: str, d_mode: str) -> None:
    torch.manual_seed(0)
    gen = DCGANGenerator(Z_DIM, (1, 28, 28), base_channels=8, num_classes=10, conditioning=g_mode)
    disc = DCGANDiscriminator((1, 28, 28), base_channels=8, num_classes=10, conditioning=d_mode)
    z = torch.randn(4, Z_DIM)
    zeros, threes = torch.zeros(4, dtype=torch.long), torch.full((4,), 3)
    images = gen(z, zeros)
    assert images.shape == (4, 1, 28, 28)
    assert not torch.allclose(images, gen(z, threes))  # the label changes the sample...
    assert not torch.allclose(disc(images, zeros), disc(images, threes))  # ...and D's score
    if d_mode == "projection":  # the label enters through the class embedding, not an input channel
        assert disc.features[0].in_channels == 1 and disc.class_embedding.weight.shape[0] == 10


def test_unknown_conditioning_is_refused() -> None:
    with pytest.raises(ConfigError, match="discriminator conditioning 'concat'"):
        DCGANDiscriminator((1, 28, 28), num_classes=10, conditioning="concat")
