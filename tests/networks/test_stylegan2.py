"""StyleGAN2 networks: shapes at every size, mapping / synthesis, truncation, style mixing, w_avg, noise,
conditioning, gradients and the path-length penalty."""

from __future__ import annotations

import pytest
import torch

from gan_lightning.errors import ConfigError
from gan_lightning.losses.regularizers import path_length_penalty
from gan_lightning.networks.style_layers import ModulatedConv2d, NoiseInjection
from gan_lightning.networks.stylegan2 import StyleGAN2Discriminator, StyleGAN2Generator, synthesis_sides

Z_DIM = 16
SMALL = {"w_dim": 32, "mapping_layers": 2, "channel_base": 128, "channel_max": 16}
SMALL_D = {"channel_base": 128, "channel_max": 16, "mapping_layers": 2}
SHAPES = [(1, 28, 28), (3, 32, 32), (1, 32, 32), (3, 64, 64)]


def small_generator(shape=(1, 28, 28), **kwargs) -> StyleGAN2Generator:
    return StyleGAN2Generator(Z_DIM, shape, **{**SMALL, **kwargs})


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("num_classes", [None, 10], ids=["uncond", "cond"])
def test_shapes(shape: tuple[int, int, int], num_classes: int | None) -> None:
    gen = small_generator(shape, num_classes=num_classes)
    disc = StyleGAN2Discriminator(shape, num_classes=num_classes, **SMALL_D)
    labels = torch.tensor([0, 4, 9]) if num_classes else None
    x = gen(torch.randn(3, Z_DIM), labels)
    assert x.shape == (3, *shape)
    assert torch.isfinite(x).all() and x.std().item() > 0
    logits = disc(x, labels)
    assert logits.shape == (3,)
    assert torch.isfinite(logits).all()
    assert gen.num_ws == 2 * len(synthesis_sides(shape[1]))
    assert gen.mapping(torch.randn(3, Z_DIM), labels).shape == (3, 32)


def test_28px_structure() -> None:
    gen = StyleGAN2Generator(Z_DIM, (1, 28, 28))
    assert gen.sides == [7, 14, 28]
    assert gen.synthesis_network.const.shape == (256, 7, 7)
    assert gen.num_ws == 6
    assert gen.layer_sides == [7, 14, 14, 28, 28, 28]
    assert gen.style_ranges() == {"coarse": range(0, 1), "middle": range(1, 3), "fine": range(3, 6)}
    assert len(gen.mapping_network.layers) == 8 and gen.w_avg.shape == (256,)
    disc = StyleGAN2Discriminator((1, 28, 28))
    h = disc.from_rgb(torch.randn(2, 1, 28, 28))
    sides = []
    for block in disc.blocks:
        h = block(h)
        sides.append(h.shape[-1])
    assert sides == [14, 7]
    assert disc.epilogue.fc.in_features == 256 * 7 * 7


def test_64px_style_ranges_follow_the_paper() -> None:
    gen = small_generator((3, 64, 64))
    assert gen.num_ws == 10
    ranges = gen.style_ranges()
    assert {gen.layer_sides[i] for i in ranges["coarse"]} == {4, 8}
    assert {gen.layer_sides[i] for i in ranges["middle"]} == {16, 32}
    assert {gen.layer_sides[i] for i in ranges["fine"]} == {64}


@pytest.mark.parametrize("shape", [(3, 30, 30), (1, 28, 32), (2,)])
def test_unsupported_shapes(shape: tuple[int, ...]) -> None:
    with pytest.raises(ConfigError):
        StyleGAN2Generator(Z_DIM, shape)
    with pytest.raises(ConfigError):
        StyleGAN2Discriminator(shape)


def test_forward_is_mapping_then_synthesis() -> None:
    gen = small_generator(noise_mode="const").eval()
    z = torch.randn(4, Z_DIM)
    with torch.no_grad():
        torch.testing.assert_close(gen(z), gen.synthesis(gen.mapping(z)))
        ws = gen.mapping(z)[:, None].repeat(1, gen.num_ws, 1)
        torch.testing.assert_close(gen.synthesis(ws), gen.synthesis(gen.mapping(z)))


def test_noise_strengths_start_at_zero_and_noise_modes() -> None:
    gen = small_generator().eval()
    noises = [m for m in gen.modules() if isinstance(m, NoiseInjection)]
    assert len(noises) == 1 + 2 * 2  # one per synthesis layer at 7, 14, 28
    assert all(torch.count_nonzero(m.strength) == 0 for m in noises)
    z = torch.randn(2, Z_DIM)
    with torch.no_grad():
        torch.testing.assert_close(gen(z), gen(z))  # zero strengths: random noise changes nothing
        for m in noises:
            m.strength.fill_(0.3)
        assert not torch.allclose(gen(z), gen(z))
        torch.testing.assert_close(gen(z, noise_mode="const"), gen(z, noise_mode="const"))
        assert not torch.allclose(gen(z, noise_mode="none"), gen(z, noise_mode="const"))
        seeded = [gen(z, noise_rng=torch.Generator().manual_seed(1)) for _ in range(2)]
        torch.testing.assert_close(*seeded)
    with pytest.raises(ConfigError, match="noise mode"):
        small_generator(noise_mode="fixed")


def test_style_mixing_switches_at_the_cutoff() -> None:
    gen = small_generator(noise_mode="const").eval()
    z1, z2 = torch.randn(3, Z_DIM), torch.randn(3, Z_DIM)
    with torch.no_grad():
        w1, w2 = gen.mapping(z1), gen.mapping(z2)
        for cutoff in (0, 2, gen.num_ws):
            ws = gen.mix_styles(w1, w2, cutoff)
            assert ws.shape == (3, gen.num_ws, 32)
            torch.testing.assert_close(ws[:, :cutoff], w1[:, None].expand(-1, cutoff, -1))
            torch.testing.assert_close(ws[:, cutoff:], w2[:, None].expand(-1, gen.num_ws - cutoff, -1))
            mixed = gen(z1, mixing_z=z2, mixing_cutoff=cutoff)
            torch.testing.assert_close(mixed, gen.synthesis(ws))
        torch.testing.assert_close(gen(z1, mixing_z=z2, mixing_cutoff=gen.num_ws), gen(z1))
        torch.testing.assert_close(gen(z1, mixing_z=z2, mixing_cutoff=0), gen(z2))
        assert not torch.allclose(gen(z1, mixing_z=z2, mixing_cutoff=3), gen(z1))


def test_truncation() -> None:
    gen = small_generator().eval()
    with torch.no_grad():
        gen.w_avg.normal_()
        z = torch.randn(4, Z_DIM)
        average = gen(z, truncation=0.0)
        for i in range(1, 4):
            torch.testing.assert_close(average[i], average[0])
        torch.testing.assert_close(average, gen.synthesis(gen.w_avg[None].expand(4, -1)))
        torch.testing.assert_close(gen(z, truncation=1.0), gen(z))
        half = gen.truncate(gen.mapping(z), 0.5)
        torch.testing.assert_close(half, (gen.mapping(z) + gen.w_avg) / 2)
    for psi in (-0.1, 1.5):
        with pytest.raises(ConfigError, match="truncation"):
            gen(z, truncation=psi)


def test_w_avg_moves_in_train_mode_only() -> None:
    gen = small_generator()
    z = torch.randn(8, Z_DIM)
    gen.eval()
    gen(z)
    assert torch.count_nonzero(gen.w_avg) == 0
    gen.train()
    with torch.no_grad():
        w = gen.mapping(z)
    gen(z)
    torch.testing.assert_close(gen.w_avg, 0.005 * w.mean(0))
    gen(z)
    torch.testing.assert_close(gen.w_avg, (0.005 + 0.005 * 0.995) * w.mean(0))
    assert "w_avg" in gen.state_dict()


@pytest.mark.parametrize("num_classes", [None, 10])
@pytest.mark.parametrize("fused", [True, False])
def test_gradients_reach_every_parameter(num_classes: int | None, fused: bool) -> None:
    gen = small_generator((3, 32, 32), num_classes=num_classes, fused_modconv=fused)
    disc = StyleGAN2Discriminator((3, 32, 32), num_classes=num_classes, **SMALL_D)
    labels = torch.tensor([1, 2, 3, 4]) if num_classes else None
    disc(gen(torch.randn(4, Z_DIM), labels), labels).sum().backward()
    for net in (gen, disc):
        for name, param in net.named_parameters():
            assert param.grad is not None, name
            assert torch.isfinite(param.grad).all(), name
            assert param.grad.abs().sum() > 0, name  # noise strengths at zero included


def test_fused_and_unfused_generators_agree() -> None:
    fused = small_generator(noise_mode="const").eval()
    unfused = small_generator(noise_mode="const", fused_modconv=False).eval()
    unfused.load_state_dict(fused.state_dict())
    z = torch.randn(3, Z_DIM)
    with torch.no_grad():
        torch.testing.assert_close(fused(z), unfused(z), rtol=1e-4, atol=1e-4)


def test_conditioning_changes_both_networks() -> None:
    gen = small_generator(num_classes=10, noise_mode="const").eval()
    disc = StyleGAN2Discriminator((1, 28, 28), num_classes=10, **SMALL_D).eval()
    z = torch.randn(1, Z_DIM).repeat(2, 1)
    pair = torch.tensor([1, 7])
    with torch.no_grad():
        images = gen(z, pair)
        assert not torch.allclose(images[0], images[1])
        scores = disc(images[:1].repeat(2, 1, 1, 1), pair)
        assert not torch.allclose(scores[0], scores[1])
    assert disc.mapping_network.w_dim == disc.epilogue.out.out_features == 16


def test_tanh_output_is_ignored() -> None:
    torch.manual_seed(1)
    linear = small_generator(tanh_output=True, noise_mode="const")
    torch.manual_seed(1)
    same = small_generator(tanh_output=False, noise_mode="const")
    z = torch.randn(2, Z_DIM)
    torch.testing.assert_close(linear.eval()(z), same.eval()(z))


def test_path_length_penalty_runs_through_mapping_and_synthesis() -> None:
    gen = small_generator(num_classes=10)
    labels = torch.tensor([0, 5])
    w = gen.mapping(torch.randn(2, Z_DIM), labels)
    images = gen.synthesis(w)
    penalty, mean, lengths = path_length_penalty(images, w, torch.zeros(()))
    assert lengths.shape == (2,) and torch.isfinite(penalty)
    penalty.backward()
    assert gen.synthesis_network.blocks[-1].conv1.conv.weight.grad.abs().sum() > 0
    # one w per layer works too
    ws = gen.mapping(torch.randn(2, Z_DIM), labels)[:, None].repeat(1, gen.num_ws, 1)
    penalty, _, lengths = path_length_penalty(gen.synthesis(ws), ws, mean)
    assert torch.isfinite(penalty) and lengths.shape == (2,)


def test_default_sizes() -> None:
    """Default widths (4096, 256): 256 channels up to 16 px, 128 at 28 / 32 px, 64 at 64 px."""
    gen = StyleGAN2Generator(128, (3, 64, 64))
    widths = [b.conv1.conv.out_channels for b in gen.synthesis_network.blocks]
    assert widths == [256, 256, 128, 64]
    convs = [m for m in gen.modules() if isinstance(m, ModulatedConv2d)]
    assert len(convs) == 1 + 2 * 4 + 5  # layers and toRGBs
    assert gen(torch.randn(2, 128)).shape == (2, 3, 64, 64)
