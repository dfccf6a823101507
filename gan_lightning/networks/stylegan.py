"""StyleGAN networks (Karras et al. 2019) with progressive growing (Karras et al. 2018).

Generator: the :class:`~gan_lightning.networks.style_layers.MappingNetwork` turns z (and the label)
into w. The synthesis network starts from a learned constant at the first side of
:func:`~gan_lightning.networks.style_layers.synthesis_sides` (4x4 for 16, 32, 64 px; 7x7 for 28 px);
every resolution has two layers, each a 3x3 convolution (none for the constant; the first of the
higher resolutions after [1, 3, 3, 1] filtered upsampling) followed by per-channel noise, bias,
lrelu and AdaIN driven by its own w: ``num_ws = 2 * len(sides)``, ``ws[:, 2 l]`` and
``ws[:, 2 l + 1]`` for resolution ``l``. Each resolution has a toRGB (1x1 convolution). The output is
linear, as in the paper (``tanh_output`` is accepted and ignored).

Discriminator (progressive GAN blocks): a fromRGB (1x1, lrelu) per resolution; per resolution above
the start two 3x3 convolutions (lrelu) and a 2x2 average pooling; at the start side minibatch
standard deviation, a 3x3 convolution, a dense layer and the output. Conditional: projection on the
label's embedding, as StyleGAN2's. Equalized learning rate throughout.

Progressive growing: both networks have ``set_progress(level, alpha)``, with ``level`` the index of
the current top resolution in ``sides`` (0: the constant's side only) and ``alpha`` in [0, 1] the
fade-in of that level; both are buffers (``progress_level``, ``progress_alpha``) saved in
checkpoints. The default is fully grown (last level, alpha 1): a network built without a schedule is
a plain StyleGAN. Images keep the data's shape at every level:

- G: ``rgb = lerp(toRGB_{l-1}(x_{l-1}), toRGB_l(x_l), alpha)``, each upsampled (nearest) to the
  final side, so alpha = 0 gives exactly the lower level's image, alpha = 1 exactly the upper one's.
- D: the input (final side) is average-pooled to the level's side, then
  ``h = lerp(fromRGB_{l-1}(pool(x)), block_l(fromRGB_l(pool(x))), alpha)`` at side ``s_{l-1}``,
  then the lower blocks: alpha = 0 is exactly D at level ``l - 1``.

At full growth the toRGB / fromRGB of the lower levels are unused (no gradient): distributed
training needs ``find_unused_parameters`` (as with any network that grows).
:class:`~gan_lightning.core.progressive.ProgressiveSchedule` says which ``(level, alpha)`` trains when.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_lightning.errors import ConfigError
from gan_lightning.networks.style_layers import (
    AdaIN,
    EqualConv2d,
    NoiseInjection,
    StyleDiscriminator,
    StyleGenerator,
    Upsample2d,
    activate,
    broadcast_ws,
    channels_at,
    check_noise_mode,
    synthesis_sides,
)

__all__ = ["StyleGANGenerator", "StyleGANDiscriminator", "synthesis_sides"]


class Progressive(nn.Module):
    """``set_progress(level, alpha)`` and the buffers ``progress_level`` (long), ``progress_alpha``.

    The buffers are what checkpoints hold; the forward pass reads their host mirrors (kept by
    :meth:`set_progress` and on loading), so that a training step never waits for the device."""

    num_levels: int

    def _init_progress(self, num_levels: int) -> None:
        self.num_levels = num_levels
        self.register_buffer("progress_level", torch.tensor(num_levels - 1, dtype=torch.long))
        self.register_buffer("progress_alpha", torch.tensor(1.0))
        self._progress = (num_levels - 1, 1.0)

    def set_progress(self, level: int, alpha: float = 1.0) -> None:
        """Grow to ``level`` (index in ``sides``; 0: the start only) faded in by ``alpha`` in [0, 1]
        (ignored at level 0, which has nothing to fade from)."""
        if not 0 <= level < self.num_levels:
            raise ConfigError(f"The progressive level must be in [0, {self.num_levels - 1}], got {level}.")
        if not 0.0 <= alpha <= 1.0:
            raise ConfigError(f"The progressive fade-in alpha must be in [0, 1], got {alpha}.")
        self._progress = (int(level), float(alpha))
        self.progress_level.fill_(int(level))
        self.progress_alpha.fill_(float(alpha))

    @property
    def progress(self) -> tuple[int, float]:
        """``(level, alpha)``; alpha is 1.0 at level 0."""
        level, alpha = self._progress
        return level, (alpha if level > 0 else 1.0)

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args) -> None:
        super()._load_from_state_dict(state_dict, prefix, *args)
        self._progress = (int(self.progress_level), float(self.progress_alpha))  # at load time only


class StyleLayer(nn.Module):
    """Per-channel noise, bias, lrelu, AdaIN (the end of every synthesis layer)."""

    def __init__(self, channels: int, w_dim: int, side: int) -> None:
        super().__init__()
        self.noise = NoiseInjection(side, channels)
        self.bias = nn.Parameter(torch.zeros(channels))
        self.adain = AdaIN(channels, w_dim)

    def forward(
        self, x: Tensor, w: Tensor, noise_mode: str = "random", noise_rng: torch.Generator | None = None
    ) -> Tensor:
        x = self.noise(x, noise_mode, noise_rng)
        return self.adain(activate(x + self.bias.view(1, -1, 1, 1).to(x.dtype), "lrelu"), w)


class StyleBlock(nn.Module):
    """One resolution: [upsampling +] 3x3 convolution (the start: a learned constant), style layer,
    3x3 convolution, style layer."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, side: int, start: bool) -> None:
        super().__init__()
        if start:
            self.const = nn.Parameter(torch.ones(out_channels, side, side))
            self.up, self.conv0 = None, None
        else:
            self.up = Upsample2d()
            self.conv0 = EqualConv2d(in_channels, out_channels, 3, bias=False)
        self.style0 = StyleLayer(out_channels, w_dim, side)
        self.conv1 = EqualConv2d(out_channels, out_channels, 3, bias=False)
        self.style1 = StyleLayer(out_channels, w_dim, side)

    def forward(
        self,
        x: Tensor | None,
        w0: Tensor,
        w1: Tensor,
        noise_mode: str = "random",
        noise_rng: torch.Generator | None = None,
    ) -> Tensor:
        if self.conv0 is None:
            x = self.const[None].expand(w0.shape[0], -1, -1, -1).to(w0.dtype)
        else:
            x = self.conv0(self.up(x))
        x = self.style0(x, w0, noise_mode, noise_rng)
        return self.style1(self.conv1(x), w1, noise_mode, noise_rng)


def _resize_nearest(x: Tensor, side: int) -> Tensor:
    return x if x.shape[-1] == side else F.interpolate(x, size=(side, side), mode="nearest")


def _pool_to(x: Tensor, side: int) -> Tensor:
    """Average-pool a (N, C, S, S) map to side ``side`` (which divides S)."""
    factor = x.shape[-1] // side
    return x if factor == 1 else F.avg_pool2d(x, factor)


class StyleGANSynthesis(nn.Module):
    """ws (N, num_ws, w_dim) -> images (N, C, S, S), grown to ``level`` and faded in by ``alpha``."""

    def __init__(
        self, w_dim: int, img_channels: int, sides: Sequence[int], channel_base: int, channel_max: int
    ) -> None:
        super().__init__()
        self.sides = list(sides)
        widths = [channels_at(s, channel_base, channel_max) for s in self.sides]
        self.blocks = nn.ModuleList(
            StyleBlock(widths[max(i - 1, 0)], widths[i], w_dim, s, start=i == 0)
            for i, s in enumerate(self.sides)
        )
        self.to_rgb = nn.ModuleList(EqualConv2d(c, img_channels, 1) for c in widths)
        self.num_ws = 2 * len(self.sides)
        self.layer_sides = [s for s in self.sides for _ in range(2)]

    def forward(
        self,
        ws: Tensor,
        noise_mode: str = "random",
        noise_rng: torch.Generator | None = None,
        level: int | None = None,
        alpha: float = 1.0,
        alpha_weight: Tensor | None = None,
    ) -> Tensor:
        """``alpha`` (a host number) decides whether the level fades in; the lerp's weight is
        ``alpha_weight``, the same value as a 0-d tensor already on the device (the progress buffer),
        so nothing is copied there during a step."""
        level = len(self.sides) - 1 if level is None else level
        x, lower = None, None
        for i in range(level + 1):
            if i == level:
                lower = x
            x = self.blocks[i](x, ws[:, 2 * i], ws[:, 2 * i + 1], noise_mode, noise_rng)
        final = self.sides[-1]
        rgb = _resize_nearest(self.to_rgb[level](x), final)
        if alpha < 1.0:  # fading in: lerp(lower level's image, this level's image, alpha)
            rgb_lower = _resize_nearest(self.to_rgb[level - 1](lower), final)
            weight = alpha_weight if alpha_weight is not None else torch.as_tensor(alpha, device=rgb.device)
            rgb = torch.lerp(rgb_lower, rgb, weight.to(rgb.dtype))
        return rgb


class StyleGANGenerator(StyleGenerator, Progressive):
    """z (N, z_dim) [+ labels (N,)] -> images (N, C, S, S), linear output, with progressive growing; the
    options are :class:`~gan_lightning.networks.style_layers.StyleGenerator`'s."""

    def __init__(self, z_dim: int, out_shape: Sequence[int], *args: Any, **options: Any) -> None:
        super().__init__(z_dim, out_shape, *args, **options)
        self._init_progress(len(self.sides))

    def build_synthesis(self, w_dim: int, channels: int, channel_base: int, channel_max: int) -> nn.Module:
        return StyleGANSynthesis(w_dim, channels, self.sides, channel_base, channel_max)

    def synthesis(
        self, ws: Tensor, noise_mode: str | None = None, noise_rng: torch.Generator | None = None
    ) -> Tensor:
        """ws (N, w_dim) or (N, num_ws, w_dim) -> images (N, C, S, S) at the current progress (the ws
        of the levels not grown yet are unused)."""
        mode = check_noise_mode(noise_mode or self.noise_mode)
        level, alpha = self.progress
        return self.synthesis_network(
            broadcast_ws(ws, self.num_ws), mode, noise_rng, level, alpha, self.progress_alpha
        )


class DownBlock(nn.Module):
    """Two 3x3 convolutions (lrelu) and a 2x2 average pooling: side ``s -> s / 2``."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv0 = EqualConv2d(in_channels, in_channels, 3, activation="lrelu")
        self.conv1 = EqualConv2d(in_channels, out_channels, 3, activation="lrelu")

    def forward(self, x: Tensor) -> Tensor:
        return F.avg_pool2d(self.conv1(self.conv0(x)), 2)


class StyleGANDiscriminator(Progressive, StyleDiscriminator):
    """images (N, C, S, S) [+ labels (N,)] -> logits (N,), with progressive growing; the options are
    :class:`~gan_lightning.networks.style_layers.StyleDiscriminator`'s."""

    def __init__(self, in_shape: Sequence[int], num_classes: int | None = None, **options: Any) -> None:
        super().__init__(in_shape, num_classes, **options)
        self._init_progress(len(self.sides))

    def build_trunk(self, channels: int, widths: Sequence[int]) -> None:
        self.from_rgb = nn.ModuleList(EqualConv2d(channels, c, 1, activation="lrelu") for c in widths)
        # blocks[l - 1] takes level l's side to level l - 1's
        self.blocks = nn.ModuleList(DownBlock(widths[i], widths[i - 1]) for i in range(1, len(widths)))

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        level, alpha = self.progress
        h = self.from_rgb[level](_pool_to(x, self.sides[level]))
        if level > 0:
            h = self.blocks[level - 1](h)
            if alpha < 1.0:  # fading in: lerp(lower level's input, this level's features, alpha)
                lower = self.from_rgb[level - 1](_pool_to(x, self.sides[level - 1]))
                h = torch.lerp(lower, h, self.progress_alpha.to(h.dtype))
            for i in range(level - 1, 0, -1):
                h = self.blocks[i - 1](h)
        return self.head(h, labels)
