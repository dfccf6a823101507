"""StyleGAN building blocks: equalized learning rate, FIR resampling, modulated convolution, noise,
AdaIN, minibatch standard deviation, mapping network, style mixing and ranges, size plans."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from gan_lightning.errors import ConfigError
from gan_lightning.networks.style_layers import (
    AdaIN,
    DiscriminatorEpilogue,
    EqualConv2d,
    EqualLinear,
    MappingNetwork,
    MinibatchStdDev,
    ModulatedConv2d,
    NoiseInjection,
    activate,
    broadcast_ws,
    channels_at,
    downsample2d,
    fir_kernel,
    mix_styles,
    style_ranges,
    synthesis_sides,
    upsample2d,
)

# --- sizes ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("side", "sides"),
    [
        (28, [7, 14, 28]),
        (32, [4, 8, 16, 32]),
        (64, [4, 8, 16, 32, 64]),
        (16, [4, 8, 16]),
        (8, [4, 8]),
        (48, [6, 12, 24, 48]),
        (128, [4, 8, 16, 32, 64, 128]),
    ],
)
def test_synthesis_sides(side: int, sides: list[int]) -> None:
    assert synthesis_sides(side) == sides


@pytest.mark.parametrize("side", [4, 7, 30, 36, 9, 2, 0])
def test_unsupported_sides_name_the_supported_ones(side: int) -> None:
    with pytest.raises(ConfigError, match="28, 32"):
        synthesis_sides(side)


def test_channels_at() -> None:
    assert [channels_at(s, 4096, 256) for s in (4, 7, 8, 14, 16, 28, 32, 64)] == [
        256, 256, 256, 256, 256, 128, 128, 64
    ]  # fmt: skip
    assert channels_at(1024, 512, 64) == 1


# --- equalized learning rate ------------------------------------------------------------------------


@pytest.mark.parametrize("lr_multiplier", [1.0, 0.01])
def test_equal_linear_init_and_effective_weight(lr_multiplier: float) -> None:
    layer = EqualLinear(256, 128, lr_multiplier=lr_multiplier, bias_init=0.5)
    assert layer.weight.std().item() == pytest.approx(1.0 / lr_multiplier, rel=0.05)
    assert layer.weight_gain == pytest.approx(lr_multiplier / math.sqrt(256))
    torch.testing.assert_close(layer.effective_weight(), layer.weight * lr_multiplier / 16)
    # effective weights have He's scale 1/sqrt(fan_in); the effective bias starts at bias_init
    assert layer.effective_weight().std().item() == pytest.approx(1 / 16, rel=0.05)
    x = torch.randn(5, 256)
    torch.testing.assert_close(layer(x), F.linear(x, layer.effective_weight(), torch.full((128,), 0.5)))


def test_lr_multiplier_scales_the_gradient_of_the_stored_weights() -> None:
    mapping = MappingNetwork(32, 64, num_layers=3, lr_multiplier=0.01)
    for layer in mapping.layers:
        assert layer.weight_gain == pytest.approx(0.01 / math.sqrt(layer.in_features))
        assert layer.bias_gain == 0.01
    layer = mapping.layers[1]
    x = torch.randn(8, 64)
    layer(x).square().sum().backward()
    effective = layer.effective_weight().detach().requires_grad_(True)
    bias = (layer.bias * layer.bias_gain).detach().requires_grad_(True)
    activate(F.linear(x, effective, bias), "lrelu").square().sum().backward()
    torch.testing.assert_close(layer.weight.grad, effective.grad * 0.01 / 8)
    torch.testing.assert_close(layer.bias.grad, bias.grad * 0.01)


def test_equal_conv() -> None:
    conv = EqualConv2d(16, 8, 3, activation="lrelu")
    assert conv.weight_gain == pytest.approx(1 / math.sqrt(16 * 9))
    x = torch.randn(2, 16, 7, 7)
    expected = F.leaky_relu(F.conv2d(x, conv.weight / 12, conv.bias, padding=1), 0.2) * math.sqrt(2)
    torch.testing.assert_close(conv(x), expected)
    assert EqualConv2d(16, 8, 3, down=True)(torch.randn(2, 16, 28, 28)).shape == (2, 8, 14, 14)
    assert EqualConv2d(16, 8, 1, down=True)(torch.randn(2, 16, 14, 14)).shape == (2, 8, 7, 7)
    with pytest.raises(ConfigError, match="activation"):
        EqualConv2d(1, 1, 3, activation="relu")


def test_lrelu_gain() -> None:
    x = torch.tensor([-1.0, 2.0])
    torch.testing.assert_close(activate(x, "lrelu"), torch.tensor([-0.2, 2.0]) * math.sqrt(2))
    assert activate(x, None) is x


# --- FIR resampling ---------------------------------------------------------------------------------


def test_fir_kernel() -> None:
    k = fir_kernel()
    taps = torch.tensor([1.0, 3.0, 3.0, 1.0]) / 8
    torch.testing.assert_close(k, torch.outer(taps, taps))
    assert k.sum().item() == pytest.approx(1.0)


@pytest.mark.parametrize("side", [7, 14, 4, 5])
def test_upsample_any_side_keeps_constants(side: int) -> None:
    x = torch.full((2, 3, side, side), 2.0)
    y = upsample2d(x, fir_kernel())
    assert y.shape == (2, 3, 2 * side, 2 * side)
    torch.testing.assert_close(y[..., 1:-1, 1:-1], torch.full_like(y[..., 1:-1, 1:-1], 2.0))


def test_upsample_is_zero_insertion_then_filter() -> None:
    x = torch.randn(1, 2, 5, 5)
    zeros = torch.zeros(1, 2, 10, 10)
    zeros[..., ::2, ::2] = x
    k = fir_kernel() * 4
    expected = F.conv2d(F.pad(zeros, [2, 1, 2, 1]), k[None, None].expand(2, 1, 4, 4), groups=2)
    torch.testing.assert_close(upsample2d(x, fir_kernel()), expected)


def test_downsample() -> None:
    x = torch.full((2, 3, 28, 28), -1.0)
    y = downsample2d(x, fir_kernel())
    assert y.shape == (2, 3, 14, 14)
    torch.testing.assert_close(y[..., 1:-1, 1:-1], torch.full_like(y[..., 1:-1, 1:-1], -1.0))
    assert downsample2d(y, fir_kernel()).shape == (2, 3, 7, 7)


# --- modulated convolution --------------------------------------------------------------------------


def test_demodulation_keeps_unit_variance() -> None:
    conv = ModulatedConv2d(64, 64, 3, w_dim=8)
    x = torch.randn(8, 64, 12, 12)
    styles = torch.rand(8, 64) * 3 + 0.1  # random, far from 1
    with torch.no_grad():
        y = conv.modulated_conv(x, styles)[..., 1:-1, 1:-1]  # without the zero-padded border
    assert 0.7 < y.var().item() < 1.3
    assert y.shape == (8, 64, 10, 10)


def test_demodulation_ignores_the_style_scale_and_no_demod_scales_with_it() -> None:
    x, styles = torch.randn(3, 8, 6, 6), torch.rand(3, 8) + 0.5
    demod = ModulatedConv2d(8, 4, 3, w_dim=8)
    torch.testing.assert_close(demod.modulated_conv(x, 5 * styles), demod.modulated_conv(x, styles))
    plain = ModulatedConv2d(8, 4, 1, w_dim=8, demodulate=False)
    y = plain.modulated_conv(x, styles)
    torch.testing.assert_close(plain.modulated_conv(x, 5 * styles), 5 * y)
    # without demodulation: a 1x1 convolution of the input scaled by the styles, with He's gain
    expected = F.conv2d(x * styles[:, :, None, None], plain.weight / math.sqrt(8))
    torch.testing.assert_close(y, expected)
    # the styles of the sample, not of another one
    first = plain.modulated_conv(x[:1], styles[:1])
    torch.testing.assert_close(first, y[:1])


@pytest.mark.parametrize("up", [False, True])
@pytest.mark.parametrize("demodulate", [False, True])
def test_fused_equals_unfused(up: bool, demodulate: bool) -> None:
    conv = ModulatedConv2d(6, 5, 3, w_dim=4, demodulate=demodulate, up=up)
    x, w = torch.randn(3, 6, 7, 7), torch.randn(3, 4)
    fused, unfused = conv(x, w, fused=True), conv(x, w, fused=False)
    assert fused.shape == ((3, 5, 14, 14) if up else (3, 5, 7, 7))
    torch.testing.assert_close(fused, unfused, rtol=1e-4, atol=1e-5)


def test_upsampling_conv_is_a_convolution_of_the_upsampled_input() -> None:
    """Transposed convolution + filter = filter (upsampling) + convolution, away from the border."""
    conv = ModulatedConv2d(4, 3, 3, w_dim=4, demodulate=False, up=True)
    x, styles = torch.randn(2, 4, 7, 7), torch.rand(2, 4) + 0.5
    y = conv.modulated_conv(x, styles)
    weight = torch.flip(conv.weight, [2, 3]) * conv.weight_gain
    expected = F.conv2d(upsample2d(x * styles[:, :, None, None], fir_kernel()), weight, padding=1)
    assert y.shape == expected.shape == (2, 3, 14, 14)
    torch.testing.assert_close(y[..., 2:-2, 2:-2], expected[..., 2:-2, 2:-2], rtol=1e-4, atol=1e-5)


def test_modulation_affine_starts_at_one() -> None:
    conv = ModulatedConv2d(16, 4, 3, w_dim=32)
    with torch.no_grad():
        styles = conv.affine(torch.zeros(2, 32))
    torch.testing.assert_close(styles, torch.ones(2, 16))


# --- noise, AdaIN, mapping --------------------------------------------------------------------------


def test_noise_injection() -> None:
    noise = NoiseInjection(side=5)
    per_channel = NoiseInjection(side=5, channels=3)
    assert torch.count_nonzero(noise.strength) == 0 and noise.strength.shape == (1,)
    assert torch.count_nonzero(per_channel.strength) == 0 and per_channel.strength.shape == (3,)
    x = torch.randn(2, 3, 5, 5)
    torch.testing.assert_close(noise(x), x)  # zero strength: no change
    with torch.no_grad():
        noise.strength.fill_(0.5)
        per_channel.strength.copy_(torch.tensor([0.0, 1.0, 2.0]))
    assert not torch.allclose(noise(x), noise(x))  # new noise every call
    torch.testing.assert_close(noise(x, "const"), noise(x, "const"))
    torch.testing.assert_close(noise(x, "const"), x + 0.5 * noise.noise_const)
    torch.testing.assert_close(noise(x, "none"), x)
    a = noise(x, rng=torch.Generator().manual_seed(3))
    torch.testing.assert_close(a, noise(x, rng=torch.Generator().manual_seed(3)))
    y = per_channel(x, "const")
    torch.testing.assert_close(y[:, 0], x[:, 0])
    torch.testing.assert_close(y[:, 2] - x[:, 2], 2 * (y[:, 1] - x[:, 1]))
    with pytest.raises(ConfigError, match="noise mode"):
        noise(x, "fixed")
    assert "noise_const" in noise.state_dict()


def test_adain() -> None:
    adain = AdaIN(4, w_dim=8)
    x = torch.randn(3, 4, 6, 6) * 5 + 2
    w = torch.randn(3, 8)
    y = adain(x, w)
    scale, shift = adain.scale(w), adain.shift(w)
    normalised = (y - shift[:, :, None, None]) / scale[:, :, None, None]
    torch.testing.assert_close(normalised.mean(dim=(2, 3)), torch.zeros(3, 4), atol=1e-5, rtol=0)
    torch.testing.assert_close(normalised.var(dim=(2, 3), unbiased=False), torch.ones(3, 4))
    torch.testing.assert_close(adain.scale(torch.zeros(1, 8)), torch.ones(1, 4))


def test_mapping_network() -> None:
    mapping = MappingNetwork(16, 32, num_layers=4)
    assert len(mapping.layers) == 4
    z = torch.randn(5, 16)
    w = mapping(z)
    assert w.shape == (5, 32)
    torch.testing.assert_close(mapping(3 * z), w)  # z is normalised first
    conditional = MappingNetwork(16, 32, num_layers=2, num_classes=10)
    a, b = conditional(z, torch.zeros(5, dtype=torch.long)), conditional(z, torch.full((5,), 7))
    assert not torch.allclose(a, b)
    with pytest.raises(ValueError, match="labels"):
        conditional(z)
    labels_only = MappingNetwork(0, 8, num_layers=2, num_classes=10)
    assert labels_only(None, torch.arange(10)).shape == (10, 8)
    with pytest.raises(ConfigError):
        MappingNetwork(0, 8)
    with pytest.raises(ConfigError):
        MappingNetwork(4, 8, num_layers=0)


# --- discriminator layers ---------------------------------------------------------------------------


def test_minibatch_stddev() -> None:
    layer = MinibatchStdDev(group_size=4)
    x = torch.randn(8, 6, 3, 3)
    y = layer(x)
    assert y.shape == (8, 7, 3, 3)
    torch.testing.assert_close(y[:, :6], x)
    # groups are samples {i, i + 2, i + 4, i + 6}
    group = x[0::2]
    expected = group.std(dim=0, unbiased=False).mean()
    torch.testing.assert_close(y[0, 6], torch.full((3, 3), expected.item()), rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(y[6, 6], y[0, 6])
    # a batch of 6 (not divisible by 4) uses groups of 3; a batch of 1 a group of 1
    assert layer(torch.randn(6, 6, 3, 3)).shape == (6, 7, 3, 3)
    assert layer(torch.randn(1, 6, 3, 3))[0, 6].max().item() == pytest.approx(1e-4)
    same = layer(torch.randn(1, 6, 3, 3).repeat(4, 1, 1, 1))
    assert same[:, 6].max().item() == pytest.approx(1e-4)
    assert MinibatchStdDev(2, num_channels=2)(x).shape == (8, 8, 3, 3)


def test_discriminator_epilogue() -> None:
    epilogue = DiscriminatorEpilogue(8, side=7)
    assert epilogue(torch.randn(4, 8, 7, 7)).shape == (4,)
    projection = DiscriminatorEpilogue(8, side=4, cmap_dim=6)
    h = torch.randn(4, 8, 4, 4)
    cmap = torch.randn(4, 6)
    out = projection(h, cmap)
    assert out.shape == (4,)
    features = projection.out(projection.fc(projection.conv(projection.mbstd(h)).flatten(1)))
    torch.testing.assert_close(out, (features * cmap).sum(1) / math.sqrt(6))


# --- ws -----------------------------------------------------------------------------------------------


def test_mix_styles() -> None:
    w1, w2 = torch.randn(3, 8), torch.randn(3, 8)
    for cutoff in range(6):
        ws = mix_styles(w1, w2, cutoff, num_ws=5)
        assert ws.shape == (3, 5, 8)
        torch.testing.assert_close(ws[:, :cutoff], w1[:, None].expand(-1, cutoff, -1))
        torch.testing.assert_close(ws[:, cutoff:], w2[:, None].expand(-1, 5 - cutoff, -1))
    ws1 = torch.randn(3, 5, 8)
    torch.testing.assert_close(mix_styles(ws1, w2, 2, 5)[:, :2], ws1[:, :2])
    with pytest.raises(ConfigError, match="cutoff"):
        mix_styles(w1, w2, 6, num_ws=5)
    with pytest.raises(ValueError, match="num_ws|5"):
        broadcast_ws(torch.randn(3, 4, 8), 5)


@pytest.mark.parametrize(
    ("layer_sides", "expected"),
    [
        ([4, 8, 8, 16, 16, 32, 32, 64, 64, 64], (range(0, 3), range(3, 7), range(7, 10))),  # paper's split
        ([4, 4, 8, 8, 16, 16, 32, 32, 64, 64], (range(0, 4), range(4, 8), range(8, 10))),
        ([7, 14, 14, 28, 28, 28], (range(0, 1), range(1, 3), range(3, 6))),  # by resolution: 7 | 14 | 28
        ([7, 7, 14, 14, 28, 28], (range(0, 2), range(2, 4), range(4, 6))),
        ([4, 4, 8, 8, 16, 16, 32, 32], (range(0, 4), range(4, 6), range(6, 8))),  # 4, 8 | 16 | 32
        ([4, 8, 8, 8], (range(0, 2), range(2, 3), range(3, 4))),  # two resolutions: by layer
    ],
)
def test_style_ranges(layer_sides: list[int], expected: tuple[range, range, range]) -> None:
    ranges = style_ranges(layer_sides)
    assert list(ranges) == ["coarse", "middle", "fine"]
    assert tuple(ranges.values()) == expected
