"""StyleGAN (v1) networks: shapes, progressive growing (fade-in exactness for G and D, buffers,
schedule), truncation, mixing, w_avg, noise, conditioning and gradients."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from gan_lightning.errors import ConfigError
from gan_lightning.networks.style_layers import AdaIN, NoiseInjection
from gan_lightning.networks.stylegan import StyleGANDiscriminator, StyleGANGenerator

Z_DIM = 16
SMALL = {"w_dim": 32, "mapping_layers": 2, "channel_base": 128, "channel_max": 16}
SMALL_D = {"channel_base": 128, "channel_max": 16, "mapping_layers": 2}
SHAPES = [(1, 28, 28), (3, 32, 32), (1, 32, 32), (3, 64, 64)]


def small_generator(shape=(1, 28, 28), **kwargs) -> StyleGANGenerator:
    return StyleGANGenerator(Z_DIM, shape, **{**SMALL, **kwargs})


def small_discriminator(shape=(1, 28, 28), **kwargs) -> StyleGANDiscriminator:
    return StyleGANDiscriminator(shape, **{**SMALL_D, **kwargs})


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("num_classes", [None, 10], ids=["uncond", "cond"])
def test_shapes(shape: tuple[int, int, int], num_classes: int | None) -> None:
    gen = small_generator(shape, num_classes=num_classes)
    disc = small_discriminator(shape, num_classes=num_classes)
    labels = torch.tensor([0, 4, 9]) if num_classes else None
    x = gen(torch.randn(3, Z_DIM), labels)
    assert x.shape == (3, *shape)
    assert torch.isfinite(x).all() and x.std().item() > 0
    logits = disc(x, labels)
    assert logits.shape == (3,) and torch.isfinite(logits).all()
    for level in range(gen.num_levels):  # the output keeps the data's shape while growing
        gen.set_progress(level, 0.5)
        disc.set_progress(level, 0.5)
        assert disc(gen(torch.randn(3, Z_DIM), labels), labels).shape == (3,)


def test_structure_28px() -> None:
    gen = StyleGANGenerator(Z_DIM, (1, 28, 28))
    assert gen.sides == [7, 14, 28] and gen.num_levels == 3
    assert gen.synthesis_network.blocks[0].const.shape == (256, 7, 7)
    assert gen.num_ws == 6
    assert gen.layer_sides == [7, 7, 14, 14, 28, 28]
    assert gen.style_ranges() == {"coarse": range(0, 2), "middle": range(2, 4), "fine": range(4, 6)}
    assert sum(isinstance(m, AdaIN) for m in gen.modules()) == 6
    disc = StyleGANDiscriminator((1, 28, 28))
    assert len(disc.from_rgb) == 3 and len(disc.blocks) == 2
    assert disc.epilogue.fc.in_features == 256 * 7 * 7


def test_default_progress_is_fully_grown_and_saved() -> None:
    gen, disc = small_generator(), small_discriminator()
    for net in (gen, disc):
        assert net.progress == (2, 1.0)
        assert net.progress_level.dtype == torch.long
        net.set_progress(1, 0.25)
        state = net.state_dict()
        assert state["progress_level"].item() == 1 and state["progress_alpha"].item() == 0.25
    gen2, disc2 = small_generator(), small_discriminator()
    gen2.load_state_dict(gen.state_dict())
    disc2.load_state_dict(disc.state_dict())
    assert gen2.progress == disc2.progress == (1, 0.25)
    gen.set_progress(0, 0.3)
    assert gen.progress == (0, 1.0)  # nothing to fade from at level 0


@pytest.mark.parametrize(("level", "alpha"), [(3, 1.0), (-1, 1.0), (1, 1.5), (1, -0.1)])
def test_bad_progress(level: int, alpha: float) -> None:
    for net in (small_generator(), small_discriminator()):
        with pytest.raises(ConfigError, match="progressive"):
            net.set_progress(level, alpha)


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32)], ids=str)
def test_generator_fade_in_ends_are_exact(shape: tuple[int, int, int]) -> None:
    gen = small_generator(shape, noise_mode="const").eval()
    z = torch.randn(3, Z_DIM)
    final = shape[1]
    with torch.no_grad():
        ws = gen.mapping_network(z)[:, None].expand(-1, gen.num_ws, -1)
        for level in range(1, gen.num_levels):
            gen.set_progress(level - 1, 1.0)
            lower = gen.synthesis(ws)
            gen.set_progress(level, 0.0)
            assert torch.equal(gen.synthesis(ws), lower)  # alpha 0: the lower level exactly
            gen.set_progress(level, 1.0)
            upper = gen.synthesis(ws)
            # alpha 1: this level's toRGB, nearest-upsampled, with nothing of the lower level
            x = None
            for i in range(level + 1):
                x = gen.synthesis_network.blocks[i](x, ws[:, 2 * i], ws[:, 2 * i + 1], "const")
            expected = F.interpolate(gen.synthesis_network.to_rgb[level](x), size=(final, final))
            assert torch.equal(upper, expected)
            gen.set_progress(level, 0.25)
            torch.testing.assert_close(gen.synthesis(ws), 0.75 * lower + 0.25 * upper)
            # the lower toRGB matters while fading only
            gen.synthesis_network.to_rgb[level - 1].weight.mul_(2)
            assert not torch.allclose(gen.synthesis(ws), 0.75 * lower + 0.25 * upper)
            gen.set_progress(level, 1.0)
            assert torch.equal(gen.synthesis(ws), upper)
            gen.synthesis_network.to_rgb[level - 1].weight.div_(2)
        # below full growth the image is the lower resolution's, upsampled (blocks of equal pixels)
        gen.set_progress(0)
        image = gen.synthesis(ws)
        factor = final // gen.sides[0]
        assert torch.equal(image, F.interpolate(image[..., ::factor, ::factor], size=(final, final)))


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32)], ids=str)
def test_discriminator_fade_in_ends_are_exact(shape: tuple[int, int, int]) -> None:
    disc = small_discriminator(shape, num_classes=10).eval()
    x, labels = torch.randn(4, *shape), torch.tensor([0, 1, 2, 3])
    with torch.no_grad():
        for level in range(1, disc.num_levels):
            disc.set_progress(level - 1, 1.0)
            lower = disc(x, labels)
            disc.set_progress(level, 0.0)
            assert torch.equal(disc(x, labels), lower)  # alpha 0: D of the lower level exactly
            disc.set_progress(level, 1.0)
            upper = disc(x, labels)
            assert not torch.allclose(upper, lower)
            # alpha 1: no residual of the lower level's fromRGB
            disc.from_rgb[level - 1].weight.mul_(3)
            assert torch.equal(disc(x, labels), upper)
            disc.set_progress(level, 0.5)
            faded = disc(x, labels)
            disc.from_rgb[level - 1].weight.div_(3)
            assert not torch.allclose(faded, disc(x, labels))
        # the fully grown D is the plain chain fromRGB -> blocks -> epilogue
        disc.set_progress(disc.num_levels - 1)
        h = disc.from_rgb[-1](x)
        for block in reversed(disc.blocks):
            h = block(h)
        expected = disc.epilogue(h, disc.mapping_network(None, labels))
        assert torch.equal(disc(x, labels), expected)
        # at a lower level D looks at the average-pooled image only
        disc.set_progress(0)
        blocky = F.interpolate(F.avg_pool2d(x, shape[1] // disc.sides[0]), size=shape[1:])
        torch.testing.assert_close(disc(x, labels), disc(blocky, labels))


def test_noise_strengths_start_at_zero() -> None:
    gen = small_generator()
    noises = [m for m in gen.modules() if isinstance(m, NoiseInjection)]
    assert len(noises) == 6
    assert [m.strength.numel() for m in noises] == [16, 16, 8, 8, 4, 4]  # one per channel
    assert all(torch.count_nonzero(m.strength) == 0 for m in noises)
    gen.eval()
    z = torch.randn(2, Z_DIM)
    with torch.no_grad():
        torch.testing.assert_close(gen(z), gen(z))
        for m in noises:
            m.strength.fill_(0.5)
        assert not torch.allclose(gen(z), gen(z))
        torch.testing.assert_close(gen(z, noise_mode="const"), gen(z, noise_mode="const"))


def test_truncation_mixing_and_w_avg() -> None:
    gen = small_generator(num_classes=10)
    labels = torch.tensor([3, 3, 3, 3])
    z, z2 = torch.randn(4, Z_DIM), torch.randn(4, Z_DIM)
    gen.eval()
    gen(z, labels)
    assert torch.count_nonzero(gen.w_avg) == 0
    gen.train()
    gen(z, labels)
    with torch.no_grad():
        torch.testing.assert_close(gen.w_avg, 0.005 * gen.mapping(z, labels).mean(0))
        gen.eval()
        average = gen(z, labels, truncation=0.0)
        for i in range(1, 4):
            torch.testing.assert_close(average[i], average[0])
        torch.testing.assert_close(gen(z, labels, truncation=1.0), gen(z, labels))
        ws = gen.mix_styles(gen.mapping(z, labels), gen.mapping(z2, labels), 2)
        torch.testing.assert_close(gen(z, labels, mixing_z=z2, mixing_cutoff=2), gen.synthesis(ws))
        assert not torch.allclose(gen(z, labels, mixing_z=z2, mixing_cutoff=2), gen(z, labels))
    with pytest.raises(ConfigError, match="truncation"):
        gen(z, labels, truncation=2.0)


def test_conditioning_changes_both_networks() -> None:
    gen = small_generator(num_classes=10).eval()
    disc = small_discriminator(num_classes=10).eval()
    z = torch.randn(1, Z_DIM).repeat(2, 1)
    pair = torch.tensor([1, 7])
    with torch.no_grad():
        images = gen(z, pair)
        assert not torch.allclose(images[0], images[1])
        scores = disc(images[:1].repeat(2, 1, 1, 1), pair)
        assert not torch.allclose(scores[0], scores[1])


@pytest.mark.parametrize("num_classes", [None, 10])
def test_gradients_reach_every_parameter_while_fading_in(num_classes: int | None) -> None:
    """At the top level, mid fade-in, every parameter but the toRGB / fromRGB of the levels below the
    faded one gets a gradient (those are unused once a network has grown past them)."""
    gen = small_generator((3, 32, 32), num_classes=num_classes)
    disc = small_discriminator((3, 32, 32), num_classes=num_classes)
    top = gen.num_levels - 1
    gen.set_progress(top, 0.5)
    disc.set_progress(top, 0.5)
    labels = torch.tensor([1, 2, 3, 4]) if num_classes else None
    disc(gen(torch.randn(4, Z_DIM), labels), labels).sum().backward()
    unused = {f"synthesis_network.to_rgb.{i}." for i in range(top - 1)} | {
        f"from_rgb.{i}." for i in range(top - 1)
    }
    for net in (gen, disc):
        for name, param in net.named_parameters():
            if any(name.startswith(prefix) for prefix in unused):
                assert param.grad is None, name
                continue
            assert param.grad is not None, name
            assert torch.isfinite(param.grad).all(), name
            assert param.grad.abs().sum() > 0, name  # noise strengths at zero included
    assert gen.mapping_network.layers[0].weight.grad.abs().sum() > 0


def test_unsupported_shapes() -> None:
    with pytest.raises(ConfigError, match="28, 32"):
        StyleGANGenerator(Z_DIM, (1, 30, 30))
    with pytest.raises(ConfigError, match="square"):
        StyleGANDiscriminator((1, 28, 32))
