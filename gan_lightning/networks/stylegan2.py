"""StyleGAN2 networks (Karras et al. 2020, configs E/F: skip generator, residual discriminator).

Generator: the :class:`~gan_lightning.networks.style_layers.MappingNetwork` turns z (and the label)
into w; the synthesis network starts from a learned constant at the first side of
:func:`synthesis_sides` (4x4 for 16, 32, 64 px; 7x7 for 28 px) and has, per resolution, two
modulated 3x3 convolutions (the first upsamples; a single one at the start), each followed by noise,
bias and lrelu, and a toRGB (modulated 1x1 convolution without demodulation). The RGB outputs are
upsampled with the [1, 3, 3, 1] filter and summed (skip architecture). ``ws[:, i]`` drive the layers
in order, the toRGB of a resolution sharing its w with the next resolution's first convolution:
``num_ws = 2 * len(sides)`` (6 at 28 px, 10 at 64 px).

The output is linear, as in the paper: ``tanh_output`` is accepted for the common interface but
ignored, so the images are only roughly in [-1, 1] (the sample and metric code clamp).

Discriminator ('resnet'): fromRGB (1x1) at the image side, then per resolution two 3x3 convolutions
(the second downsampling: blur, stride 2) plus a downsampling 1x1 skip, summed and scaled by
1/sqrt(2), down to the start side (28 -> 14 -> 7); then minibatch standard deviation, a 3x3
convolution, a dense layer and the output. Conditional: the label's embedding ``cmap`` (a mapping
network of the label) is projected on the output features. Equalized learning rate throughout.

Widths: ``min(channel_base // side, channel_max)`` with the side rounded up to a power of two; the
defaults (4096, 256) give 256 channels up to 16x16, 128 at 32 (and 28), 64 at 64.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from gan_lightning.networks.style_layers import (
    EqualConv2d,
    ModulatedConv2d,
    NoiseInjection,
    StyleDiscriminator,
    StyleGenerator,
    Upsample2d,
    activate,
    channels_at,
    synthesis_sides,
)

__all__ = ["StyleGAN2Generator", "StyleGAN2Discriminator", "synthesis_sides"]


class SynthesisLayer(nn.Module):
    """Modulated 3x3 convolution (``up``: s -> 2 s), noise, bias, lrelu."""

    def __init__(
        self, in_channels: int, out_channels: int, w_dim: int, side: int, up: bool = False, fused: bool = True
    ) -> None:
        super().__init__()
        self.fused = fused
        self.conv = ModulatedConv2d(in_channels, out_channels, 3, w_dim, up=up)
        self.noise = NoiseInjection(side)
        self.bias = nn.Parameter(torch.zeros(out_channels))

    def forward(
        self, x: Tensor, w: Tensor, noise_mode: str = "random", noise_rng: torch.Generator | None = None
    ) -> Tensor:
        x = self.noise(self.conv(x, w, self.fused), noise_mode, noise_rng)
        return activate(x + self.bias.view(1, -1, 1, 1).to(x.dtype), "lrelu")


class ToRGB(nn.Module):
    """Modulated 1x1 convolution without demodulation, plus bias."""

    def __init__(self, in_channels: int, img_channels: int, w_dim: int, fused: bool = True) -> None:
        super().__init__()
        self.fused = fused
        self.conv = ModulatedConv2d(in_channels, img_channels, 1, w_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(img_channels))

    def forward(self, x: Tensor, w: Tensor) -> Tensor:
        return self.conv(x, w, self.fused) + self.bias.view(1, -1, 1, 1).to(x.dtype)


class SynthesisBlock(nn.Module):
    """One resolution above the start: an upsampling layer, a layer and a toRGB."""

    def __init__(
        self, in_channels: int, out_channels: int, img_channels: int, w_dim: int, side: int, fused: bool
    ) -> None:
        super().__init__()
        self.conv0 = SynthesisLayer(in_channels, out_channels, w_dim, side, up=True, fused=fused)
        self.conv1 = SynthesisLayer(out_channels, out_channels, w_dim, side, fused=fused)
        self.to_rgb = ToRGB(out_channels, img_channels, w_dim, fused=fused)


class StyleGAN2Synthesis(nn.Module):
    """ws (N, num_ws, w_dim) -> images (N, C, S, S), skip architecture."""

    def __init__(
        self,
        w_dim: int,
        img_channels: int,
        sides: Sequence[int],
        channel_base: int,
        channel_max: int,
        fused_modconv: bool = False,
    ) -> None:
        super().__init__()
        self.sides = list(sides)
        widths = [channels_at(s, channel_base, channel_max) for s in self.sides]
        self.const = nn.Parameter(torch.randn(widths[0], self.sides[0], self.sides[0]))
        self.input_layer = SynthesisLayer(widths[0], widths[0], w_dim, self.sides[0], fused=fused_modconv)
        self.input_rgb = ToRGB(widths[0], img_channels, w_dim, fused=fused_modconv)
        self.blocks = nn.ModuleList(
            SynthesisBlock(widths[i - 1], widths[i], img_channels, w_dim, self.sides[i], fused_modconv)
            for i in range(1, len(self.sides))
        )
        self.upsample = Upsample2d()
        self.num_ws = 2 * len(self.sides)
        # the side of the convolution each w drives (the last one drives only the last toRGB)
        self.layer_sides = [self.sides[0]] + [s for s in self.sides[1:] for _ in range(2)] + [self.sides[-1]]

    def forward(
        self, ws: Tensor, noise_mode: str = "random", noise_rng: torch.Generator | None = None
    ) -> Tensor:
        x = self.const[None].expand(ws.shape[0], -1, -1, -1).to(ws.dtype)
        x = self.input_layer(x, ws[:, 0], noise_mode, noise_rng)
        img = self.input_rgb(x, ws[:, 1])
        for i, block in enumerate(self.blocks):
            x = block.conv0(x, ws[:, 2 * i + 1], noise_mode, noise_rng)
            x = block.conv1(x, ws[:, 2 * i + 2], noise_mode, noise_rng)
            img = self.upsample(img) + block.to_rgb(x, ws[:, 2 * i + 3])
        return img


class StyleGAN2Generator(StyleGenerator):
    """z (N, z_dim) [+ labels (N,)] -> images (N, C, S, S), linear output.

    Args:
        fused_modconv: modulated convolutions as one grouped convolution (per-sample weights);
            the default scales the activations instead (same result; as StyleGAN2 does in training):
            measured 1.5x faster on an H200 and 4x on a CPU for training steps at 28 px.
        *args, **options: those of :class:`~gan_lightning.networks.style_layers.StyleGenerator`.
    """

    def __init__(
        self, z_dim: int, out_shape: Sequence[int], *args: Any, fused_modconv: bool = False, **options: Any
    ) -> None:
        self.fused_modconv = fused_modconv  # read by build_synthesis, inside the base's __init__
        super().__init__(z_dim, out_shape, *args, **options)

    def build_synthesis(self, w_dim: int, channels: int, channel_base: int, channel_max: int) -> nn.Module:
        return StyleGAN2Synthesis(w_dim, channels, self.sides, channel_base, channel_max, self.fused_modconv)


class ResidualBlock(nn.Module):
    """Two 3x3 convolutions (the second halving the side) plus a 1x1 downsampling skip, scaled by
    1/sqrt(2)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv0 = EqualConv2d(in_channels, in_channels, 3, activation="lrelu")
        self.conv1 = EqualConv2d(in_channels, out_channels, 3, activation="lrelu", down=True)
        self.skip = EqualConv2d(in_channels, out_channels, 1, bias=False, down=True)

    def forward(self, x: Tensor) -> Tensor:
        return (self.skip(x) + self.conv1(self.conv0(x))) * math.sqrt(0.5)


class StyleGAN2Discriminator(StyleDiscriminator):
    """images (N, C, S, S) [+ labels (N,)] -> logits (N,), residual architecture; the options are
    :class:`~gan_lightning.networks.style_layers.StyleDiscriminator`'s."""

    def build_trunk(self, channels: int, widths: Sequence[int]) -> None:
        self.from_rgb = EqualConv2d(channels, widths[-1], 1, activation="lrelu")
        self.blocks = nn.ModuleList(
            ResidualBlock(widths[i], widths[i - 1]) for i in range(len(widths) - 1, 0, -1)
        )

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        h = self.from_rgb(x)
        for block in self.blocks:
            h = block(h)
        return self.head(h, labels)
