"""Building blocks shared by the StyleGAN networks (Karras et al. 2019, 2020).

- Equalized learning rate (:class:`EqualLinear`, :class:`EqualConv2d`; Karras et al. 2018): weights
  are stored as N(0, 1) / ``lr_multiplier`` and scaled at run time by ``lr_multiplier / sqrt(fan_in)``,
  biases by ``lr_multiplier``, so every layer learns at the same pace whatever its fan-in, and the
  mapping network (``lr_multiplier=0.01``) a hundred times slower. ``activation='lrelu'`` is a leaky
  ReLU of slope 0.2 times the gain sqrt(2), which keeps the activations' second moment.
- :class:`MappingNetwork`: z (and the label) -> w through fully connected layers.
- [1, 3, 3, 1] FIR resampling (:func:`upsample2d`, :func:`downsample2d`, :func:`fir_filter`): depthwise
  convolutions with the normalised separable kernel. Upsampling inserts zeros (a stride-2 transposed
  convolution) and filters with 4 times the kernel, so it turns any side ``s`` into ``2 s`` (7 -> 14 ->
  28); downsampling filters and keeps every second pixel, ``s -> s / 2`` for even ``s``.
- :class:`NoiseInjection`, :class:`AdaIN` (StyleGAN), :class:`ModulatedConv2d` (StyleGAN2),
  :class:`MinibatchStdDev` and :class:`DiscriminatorEpilogue` (the discriminators' last layers).
- :class:`StyleGenerator`: what both generators share on top of their synthesis network: the mapping,
  the tracked average ``w_avg``, truncation in W, style mixing and the coarse / middle / fine ranges.

Sizes (:func:`synthesis_sides`): the synthesis network starts from a learned constant of side
``4 <= s0 <= 7`` and doubles it up to the image, so the image side must be ``s0 * 2**k`` with
``k >= 1``: 28 -> 7, 14, 28; 32 -> 4, 8, 16, 32; 64 -> 4, ..., 64. Widths (:func:`channels_at`) are
``min(channel_base // side, channel_max)``, with ``side`` rounded up to a power of two (7 counts as
8, 28 as 32).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_lightning.errors import ConfigError

LRELU_SLOPE = 0.2
LRELU_GAIN = math.sqrt(2.0)
ACTIVATIONS = (None, "linear", "lrelu")
NOISE_MODES = ("random", "const", "none")
FIR_TAPS = (1.0, 3.0, 3.0, 1.0)
MIN_START, MAX_START = 4, 7


# --- sizes ------------------------------------------------------------------------------------------


def synthesis_sides(side: int) -> list[int]:
    """Sides of the synthesis network's resolutions, from the constant to the image.

    ``side`` is halved while it stays even and at least 8: 28 -> [7, 14, 28], 32 -> [4, 8, 16, 32],
    64 -> [4, 8, 16, 32, 64], 16 -> [4, 8, 16]. The start must end between 4 and 7 after at least
    one halving; other sides raise :class:`ConfigError`.
    """
    sides = [side]
    while sides[0] % 2 == 0 and sides[0] >= 2 * MIN_START:
        sides.insert(0, sides[0] // 2)
    if len(sides) < 2 or not MIN_START <= sides[0] <= MAX_START:
        raise ConfigError(
            f"Image size {side} is not supported by the StyleGAN networks: the side must be s * 2**k with "
            f"k >= 1 and {MIN_START} <= s <= {MAX_START}, e.g. 8, 14, 16, 28, 32, 48, 64, 128. "
            "Set data.image_size accordingly."
        )
    return sides


def channels_at(side: int, channel_base: int, channel_max: int) -> int:
    """Feature maps at a resolution: ``min(channel_base // side, channel_max)`` (at least 1), with
    ``side`` rounded up to a power of two (7 -> 8, 28 -> 32)."""
    rounded = 1 << (side - 1).bit_length()
    return max(1, min(channel_base // rounded, channel_max))


def check_image_shape(shape: Sequence[int]) -> tuple[int, int]:
    """``(channels, side)`` of a square image shape ``(C, S, S)``; :class:`ConfigError` otherwise."""
    if len(shape) != 3 or shape[1] != shape[2]:
        raise ConfigError(
            f"The StyleGAN networks need square images shaped (C, H, W), got data shape {tuple(shape)}. "
            "For 2-D toy data use an MLP model (model.arch=mlp)."
        )
    return int(shape[0]), int(shape[1])


def check_noise_mode(mode: str) -> str:
    if mode not in NOISE_MODES:
        raise ConfigError(f"Unknown noise mode '{mode}'. Choose one of: {', '.join(NOISE_MODES)}.")
    return mode


# --- equalized learning rate ------------------------------------------------------------------------


def activate(x: Tensor, activation: str | None) -> Tensor:
    """``'lrelu'``: leaky ReLU 0.2 times sqrt(2); ``None`` / ``'linear'``: ``x``."""
    if activation == "lrelu":
        return F.leaky_relu(x, LRELU_SLOPE) * LRELU_GAIN
    return x


def _check_activation(activation: str | None) -> str | None:
    if activation not in ACTIVATIONS:
        raise ConfigError(f"Unknown activation '{activation}'. Choose one of: None, linear, lrelu.")
    return activation


class EqualLinear(nn.Module):
    """A dense layer with equalized learning rate.

    The stored ``weight`` is N(0, 1) / ``lr_multiplier``; the layer uses ``weight * weight_gain`` with
    ``weight_gain = lr_multiplier / sqrt(in_features)`` (He's init at run time), so the gradient of the
    stored weight is ``weight_gain`` times that of the effective one. The stored bias is
    ``bias_init / lr_multiplier`` and used times ``lr_multiplier``: the effective bias starts at
    ``bias_init``.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        lr_multiplier: float = 1.0,
        bias_init: float = 0.0,
        activation: str | None = None,
    ) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.activation = _check_activation(activation)
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_multiplier)
        self.bias = nn.Parameter(torch.full((out_features,), bias_init / lr_multiplier)) if bias else None
        self.weight_gain = lr_multiplier / math.sqrt(in_features)
        self.bias_gain = lr_multiplier

    def effective_weight(self) -> Tensor:
        return self.weight * self.weight_gain

    def forward(self, x: Tensor) -> Tensor:
        bias = None if self.bias is None else self.bias * self.bias_gain
        return activate(F.linear(x, self.effective_weight(), bias), self.activation)

    def extra_repr(self) -> str:
        return (
            f"{self.in_features}, {self.out_features}, bias={self.bias is not None}, "
            f"lr_multiplier={self.bias_gain}, activation={self.activation}"
        )


class EqualConv2d(nn.Module):
    """A square convolution with equalized learning rate (fan-in = in_channels * k * k), 'same'
    padding; ``down=True`` blurs with the [1, 3, 3, 1] filter then keeps every second pixel
    (stride 2): ``s -> s / 2`` for even ``s``."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        bias: bool = True,
        lr_multiplier: float = 1.0,
        bias_init: float = 0.0,
        activation: str | None = None,
        down: bool = False,
    ) -> None:
        super().__init__()
        if kernel_size % 2 != 1:
            raise ConfigError(f"EqualConv2d needs an odd kernel size, got {kernel_size}.")
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel_size
        self.activation = _check_activation(activation)
        self.down = down
        self.weight = nn.Parameter(
            torch.randn(out_channels, in_channels, kernel_size, kernel_size) / lr_multiplier
        )
        self.bias = nn.Parameter(torch.full((out_channels,), bias_init / lr_multiplier)) if bias else None
        self.weight_gain = lr_multiplier / math.sqrt(in_channels * kernel_size**2)
        self.bias_gain = lr_multiplier
        if down:
            self.register_buffer("fir", fir_kernel(), persistent=False)

    def effective_weight(self) -> Tensor:
        return self.weight * self.weight_gain

    def forward(self, x: Tensor) -> Tensor:
        bias = None if self.bias is None else self.bias * self.bias_gain
        pad = self.kernel_size // 2
        if self.down:  # blur padded so that the stride-2 'valid' convolution halves the side
            fw = self.fir.shape[-1]
            x = fir_filter(x, self.fir, (pad + (fw - 1) // 2, pad + (fw - 2) // 2))
            x = F.conv2d(x, self.effective_weight(), bias, stride=2)
        else:
            x = F.conv2d(x, self.effective_weight(), bias, padding=pad)
        return activate(x, self.activation)

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"bias={self.bias is not None}, activation={self.activation}, down={self.down}"
        )


# --- FIR resampling ---------------------------------------------------------------------------------


def fir_kernel(taps: Sequence[float] = FIR_TAPS) -> Tensor:
    """The separable 2-D kernel ``outer(taps, taps)`` normalised to sum 1 (4x4 for [1, 3, 3, 1])."""
    k = torch.tensor(taps, dtype=torch.float32)
    k = torch.outer(k, k)
    return k / k.sum()


def _depthwise(kernel: Tensor, x: Tensor, gain: float = 1.0) -> Tensor:
    """``kernel`` (k, k) as a depthwise weight (C, 1, k, k) for ``x``'s channels, dtype and device."""
    kernel = (kernel * gain).to(device=x.device, dtype=x.dtype)
    return kernel[None, None].expand(x.shape[1], 1, *kernel.shape)


def fir_filter(x: Tensor, kernel: Tensor, pad: tuple[int, int], gain: float = 1.0) -> Tensor:
    """Zero-pad ``pad = (before, after)`` on both axes, then filter every channel with ``kernel``
    (symmetric, so correlation = convolution): side ``s -> s + before + after - k + 1``."""
    x = F.pad(x, [pad[0], pad[1], pad[0], pad[1]])
    return F.conv2d(x, _depthwise(kernel, x, gain), groups=x.shape[1])


def upsample2d(x: Tensor, kernel: Tensor) -> Tensor:
    """``s -> 2 s`` for any ``s``: zero insertion and the filter times 4 (the 4 keeps the mean), as
    one depthwise stride-2 transposed convolution. The kernel side must be even (4 for [1, 3, 3, 1])."""
    k = kernel.shape[-1]
    return F.conv_transpose2d(
        x, _depthwise(kernel, x, 4.0), stride=2, padding=(k - 2) // 2, groups=x.shape[1]
    )


def downsample2d(x: Tensor, kernel: Tensor) -> Tensor:
    """``s -> s / 2`` (even ``s``): filter, then keep every second pixel."""
    k = kernel.shape[-1]
    x = F.pad(x, [(k - 2) // 2] * 4)
    return F.conv2d(x, _depthwise(kernel, x), stride=2, groups=x.shape[1])


class Upsample2d(nn.Module):
    """:func:`upsample2d` with the [1, 3, 3, 1] kernel."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("fir", fir_kernel(), persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        return upsample2d(x, self.fir)


class Downsample2d(nn.Module):
    """:func:`downsample2d` with the [1, 3, 3, 1] kernel."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("fir", fir_kernel(), persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        return downsample2d(x, self.fir)


# --- generator layers -------------------------------------------------------------------------------


def normalize_2nd_moment(x: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """Scale ``x`` to unit mean square along ``dim`` (pixel norm)."""
    return x * (x.square().mean(dim=dim, keepdim=True) + eps).rsqrt()


class MappingNetwork(nn.Module):
    """z (N, z_dim) [+ labels (N,)] -> w (N, w_dim).

    z is normalised to unit second moment; with ``num_classes`` the one-hot label goes through an
    :class:`EqualLinear` embedding (``embed_dim``, default ``w_dim``), is normalised too and
    concatenated. Then ``num_layers`` :class:`EqualLinear` layers (``hidden_dim`` wide, default
    ``w_dim``) with lrelu and learning-rate multiplier ``lr_multiplier``. ``z_dim=0`` maps the label
    alone (the discriminators' class embedding).
    """

    def __init__(
        self,
        z_dim: int,
        w_dim: int,
        num_layers: int = 8,
        num_classes: int | None = None,
        lr_multiplier: float = 0.01,
        hidden_dim: int | None = None,
        embed_dim: int | None = None,
    ) -> None:
        super().__init__()
        if num_layers < 1:
            raise ConfigError(f"The mapping network needs at least one layer, got {num_layers}.")
        if z_dim <= 0 and not num_classes:
            raise ConfigError("The mapping network needs a latent (z_dim > 0) or labels (num_classes).")
        self.z_dim, self.w_dim, self.num_classes = z_dim, w_dim, num_classes
        embed_dim = embed_dim or w_dim
        self.embed = EqualLinear(num_classes, embed_dim) if num_classes else None
        dims = (
            [z_dim + (embed_dim if num_classes else 0)] + [hidden_dim or w_dim] * (num_layers - 1) + [w_dim]
        )
        self.layers = nn.ModuleList(
            EqualLinear(a, b, lr_multiplier=lr_multiplier, activation="lrelu")
            for a, b in zip(dims[:-1], dims[1:], strict=True)
        )

    def forward(self, z: Tensor | None, labels: Tensor | None = None) -> Tensor:
        parts = []
        if self.z_dim > 0:
            parts.append(normalize_2nd_moment(z))
        if self.embed is not None:
            if labels is None:
                raise ValueError("This mapping network is conditional: pass the labels.")
            one_hot = F.one_hot(labels.long(), self.num_classes).to(self.embed.weight.dtype)
            parts.append(normalize_2nd_moment(self.embed(one_hot)))
        x = torch.cat(parts, dim=1) if len(parts) > 1 else parts[0]
        for layer in self.layers:
            x = layer(x)
        return x


class NoiseInjection(nn.Module):
    """Adds ``strength * noise`` where ``noise`` is one (N, 1, H, W) map of N(0, 1) shared by the
    channels. ``strength`` is learned, one per layer (``channels=1``, StyleGAN2) or per channel
    (StyleGAN), and starts at zero.

    Modes: ``random`` draws new noise (from ``rng`` if given: drawn on its device, then moved),
    ``const`` uses the fixed buffer ``noise_const`` (1, 1, side, side) saved with the weights, ``none``
    adds nothing.
    """

    def __init__(self, side: int, channels: int = 1) -> None:
        super().__init__()
        self.strength = nn.Parameter(torch.zeros(channels))
        self.register_buffer("noise_const", torch.randn(1, 1, side, side))

    def forward(self, x: Tensor, mode: str = "random", rng: torch.Generator | None = None) -> Tensor:
        if check_noise_mode(mode) == "none":
            return x
        if mode == "const":
            noise = self.noise_const.to(x.dtype)
        else:
            n, _, h, w = x.shape
            where = rng.device if rng is not None else x.device
            noise = torch.randn(n, 1, h, w, generator=rng, device=where).to(x.device, x.dtype)
        return x + noise * self.strength.view(1, -1, 1, 1).to(x.dtype)


class AdaIN(nn.Module):
    """Adaptive instance normalisation (StyleGAN): each channel is normalised to zero mean and unit
    variance over its pixels, then scaled and shifted by affine maps of w (scale starts at 1: bias
    init 1, shift at 0)."""

    def __init__(self, channels: int, w_dim: int) -> None:
        super().__init__()
        self.scale = EqualLinear(w_dim, channels, bias_init=1.0)
        self.shift = EqualLinear(w_dim, channels, bias_init=0.0)

    def forward(self, x: Tensor, w: Tensor) -> Tensor:
        x = x - x.mean(dim=(2, 3), keepdim=True)
        x = normalize_2nd_moment(x.flatten(2), dim=2).view_as(x)
        return x * self.scale(w)[:, :, None, None] + self.shift(w)[:, :, None, None]


class ModulatedConv2d(nn.Module):
    """StyleGAN2's modulated convolution: ``styles = affine(w)`` (an :class:`EqualLinear` of bias
    init 1) scale the input channels of the weight, separately for every sample; with ``demodulate``
    each output filter is then divided by ``sqrt(sum of its squared weights + 1e-8)``, which brings
    unit-variance inputs back to unit-variance outputs.

    ``fused=True`` (default) convolves with the per-sample weights as one grouped convolution
    (groups = N); ``fused=False`` scales the activations instead (same result, one shared weight).
    ``up=True``: a stride-2 transposed convolution followed by the [1, 3, 3, 1] filter, ``s -> 2 s``.
    No bias: the synthesis layers add noise, bias and the activation.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        w_dim: int,
        demodulate: bool = True,
        up: bool = False,
    ) -> None:
        super().__init__()
        if kernel_size % 2 != 1:
            raise ConfigError(f"ModulatedConv2d needs an odd kernel size, got {kernel_size}.")
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel_size
        self.demodulate, self.up = demodulate, up
        self.affine = EqualLinear(w_dim, in_channels, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.weight_gain = 1.0 / math.sqrt(in_channels * kernel_size**2)
        if up:
            self.register_buffer("fir", fir_kernel(), persistent=False)

    def forward(self, x: Tensor, w: Tensor, fused: bool = True) -> Tensor:
        return self.modulated_conv(x, self.affine(w), fused)

    def modulated_conv(self, x: Tensor, styles: Tensor, fused: bool = True) -> Tensor:
        """The convolution of ``x`` (N, I, H, W) for given ``styles`` (N, I)."""
        n, i, h, w = x.shape
        o, k = self.out_channels, self.kernel_size
        weight = self.weight * self.weight_gain  # (O, I, k, k)
        styles = styles.to(weight.dtype)
        if fused:
            weights = weight[None] * styles[:, None, :, None, None]  # (N, O, I, k, k)
            if self.demodulate:
                weights = weights * (weights.square().sum(dim=(2, 3, 4), keepdim=True) + 1e-8).rsqrt()
            x = x.reshape(1, n * i, h, w)
            if self.up:
                weights = weights.transpose(1, 2).reshape(n * i, o, k, k)
                x = self._blur_up(F.conv_transpose2d(x, weights.to(x.dtype), stride=2, groups=n))
            else:
                x = F.conv2d(x, weights.reshape(n * o, i, k, k).to(x.dtype), padding=k // 2, groups=n)
            return x.reshape(n, o, *x.shape[2:])
        x = x * styles[:, :, None, None].to(x.dtype)
        if self.up:
            x = self._blur_up(F.conv_transpose2d(x, weight.transpose(0, 1).to(x.dtype), stride=2))
        else:
            x = F.conv2d(x, weight.to(x.dtype), padding=k // 2)
        if self.demodulate:  # sum over (I, k, k) of (W s)^2 = s^2 @ (sum over k, k of W^2)
            coefs = (styles.square() @ weight.square().sum(dim=(2, 3)).T + 1e-8).rsqrt()  # (N, O)
            x = x * coefs[:, :, None, None].to(x.dtype)
        return x

    def _blur_up(self, x: Tensor) -> Tensor:
        """The transposed convolution gave ``2 s + k - 2``; the padded 4-tap filter brings it to ``2 s``."""
        pad = (self.fir.shape[-1] + 1 - self.kernel_size) // 2
        return fir_filter(x, self.fir, (pad, pad), gain=4.0)

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"demodulate={self.demodulate}, up={self.up}"
        )


# --- discriminator layers ---------------------------------------------------------------------------


class MinibatchStdDev(nn.Module):
    """Appends ``num_channels`` feature maps holding the standard deviation of the features over groups
    of ``group_size`` samples (averaged over channels and pixels; Karras et al. 2018), so that the
    discriminator sees the variety of a batch. The group is ``min(group_size, N)``, lowered to the
    largest size that divides N."""

    def __init__(self, group_size: int = 4, num_channels: int = 1) -> None:
        super().__init__()
        self.group_size, self.num_channels = group_size, num_channels

    def forward(self, x: Tensor) -> Tensor:
        n, c, h, w = x.shape
        g = max(1, min(self.group_size, n))
        while n % g:
            g -= 1
        f = self.num_channels
        if c % f:
            raise ValueError(f"MinibatchStdDev: {c} channels do not split into {f} groups.")
        y = x.reshape(g, -1, f, c // f, h, w)  # sample i is in group i % (N / g)
        y = (y - y.mean(dim=0)).square().mean(dim=0)
        y = (y + 1e-8).sqrt().mean(dim=(2, 3, 4))  # (N / g, f)
        y = y.reshape(-1, f, 1, 1).repeat(g, 1, h, w)
        return torch.cat([x, y], dim=1)

    def extra_repr(self) -> str:
        return f"group_size={self.group_size}, num_channels={self.num_channels}"


class DiscriminatorEpilogue(nn.Module):
    """The last layers of both discriminators, at side ``side``: minibatch standard deviation, a 3x3
    convolution, a dense layer and the output layer, all with equalized learning rate.

    Unconditional: one logit. With ``cmap_dim`` (conditional): the output has ``cmap_dim`` features
    ``h`` and the logit is the projection ``(h * cmap).sum(1) / sqrt(cmap_dim)`` on the class
    embedding ``cmap`` (Miyato & Koyama 2018, as StyleGAN2-ADA).
    """

    def __init__(
        self,
        in_channels: int,
        side: int,
        cmap_dim: int = 0,
        mbstd_group_size: int = 4,
        mbstd_channels: int = 1,
    ) -> None:
        super().__init__()
        self.cmap_dim = cmap_dim
        self.mbstd = MinibatchStdDev(mbstd_group_size, mbstd_channels) if mbstd_channels > 0 else None
        self.conv = EqualConv2d(in_channels + max(mbstd_channels, 0), in_channels, 3, activation="lrelu")
        self.fc = EqualLinear(in_channels * side * side, in_channels, activation="lrelu")
        self.out = EqualLinear(in_channels, cmap_dim or 1)

    def forward(self, x: Tensor, cmap: Tensor | None = None) -> Tensor:
        if self.mbstd is not None:
            x = self.mbstd(x)
        x = self.out(self.fc(self.conv(x).flatten(1)))
        if self.cmap_dim:
            return (x * cmap).sum(dim=1) / math.sqrt(self.cmap_dim)
        return x.squeeze(1)


class StyleDiscriminator(nn.Module):
    """images (N, C, S, S) [+ labels (N,)] -> logits (N,): what both StyleGAN discriminators share.

    A trunk from the image side down to the lowest side (:meth:`build_trunk`, the family's), then
    :class:`DiscriminatorEpilogue` there and, for labelled data, the label's embedding ``cmap`` (a
    :class:`MappingNetwork` of the label alone) that the logit is projected on.

    Args:
        in_shape, num_classes: the common interface.
        channel_base, channel_max: widths, as the generator's.
        mbstd_group_size, mbstd_channels: minibatch standard deviation (0 channels: none).
        cmap_dim: width of the class embedding (default: the last feature maps' channels).
        mapping_layers: depth of the label's mapping network (conditional only).
    """

    def __init__(
        self,
        in_shape: Sequence[int],
        num_classes: int | None = None,
        channel_base: int = 4096,
        channel_max: int = 256,
        mbstd_group_size: int = 4,
        mbstd_channels: int = 1,
        cmap_dim: int | None = None,
        mapping_layers: int = 8,
    ) -> None:
        super().__init__()
        channels, side = check_image_shape(in_shape)
        self.sides = synthesis_sides(side)
        widths = [channels_at(s, channel_base, channel_max) for s in self.sides]
        self.build_trunk(channels, widths)
        cmap_dim = (cmap_dim or widths[0]) if num_classes else 0
        self.mapping_network = (
            MappingNetwork(0, cmap_dim, mapping_layers, num_classes) if num_classes else None
        )
        self.epilogue = DiscriminatorEpilogue(
            widths[0], self.sides[0], cmap_dim, mbstd_group_size, mbstd_channels
        )

    def build_trunk(self, channels: int, widths: Sequence[int]) -> None:
        """The layers from images of ``channels`` channels to features of ``widths[0]`` channels at the
        lowest side; ``widths[i]`` is the width at ``self.sides[i]``."""
        raise NotImplementedError

    def head(self, h: Tensor, labels: Tensor | None) -> Tensor:
        """Features (N, channels, side, side) -> logits (N,)."""
        cmap = self.mapping_network(None, labels) if self.mapping_network is not None else None
        return self.epilogue(h, cmap)


# --- latent W: truncation, mixing, style ranges -----------------------------------------------------


def broadcast_ws(w: Tensor, num_ws: int) -> Tensor:
    """(N, w_dim) -> (N, num_ws, w_dim) (a view); (N, num_ws, w_dim) is returned as is."""
    if w.ndim == 2:
        return w[:, None].expand(-1, num_ws, -1)
    if w.ndim != 3 or w.shape[1] != num_ws:
        raise ValueError(f"Expected w shaped (N, w_dim) or (N, {num_ws}, w_dim), got {tuple(w.shape)}.")
    return w


def mix_styles(w1: Tensor, w2: Tensor, cutoff: int, num_ws: int) -> Tensor:
    """(N, num_ws, w_dim): the layers before ``cutoff`` take ``w1``, the others ``w2`` (each
    (N, w_dim) or (N, num_ws, w_dim))."""
    if not 0 <= cutoff <= num_ws:
        raise ConfigError(f"The style mixing cutoff must be in [0, {num_ws}], got {cutoff}.")
    ws1, ws2 = broadcast_ws(w1, num_ws), broadcast_ws(w2, num_ws)
    return torch.cat([ws1[:, :cutoff], ws2[:, cutoff:]], dim=1)


def style_ranges(layer_sides: Sequence[int]) -> dict[str, range]:
    """Indices of the ws that drive ``coarse``, ``middle`` and ``fine`` styles.

    ``layer_sides[i]`` is the side of the layer that ``ws[:, i]`` modulates. As in the StyleGAN paper:
    coarse up to 8 px, middle 16 to 32 px, fine from 64 px. When that leaves a range empty (images
    under 64 px), the resolutions are split into three consecutive groups instead (the first groups
    larger: 28 px -> 7 | 14 | 28, 32 px -> 4, 8 | 16 | 32); with fewer than three resolutions, the
    layers themselves are split in three.
    """
    count = len(layer_sides)
    bounds = (0, sum(s <= 8 for s in layer_sides), sum(s <= 32 for s in layer_sides), count)
    if any(a == b for a, b in zip(bounds[:-1], bounds[1:], strict=False)):
        levels = sorted(set(layer_sides))
        if len(levels) >= 3:
            per, extra = divmod(len(levels), 3)
            last = [per * (i + 1) + min(i + 1, extra) - 1 for i in range(3)]  # last level of each group
            bounds = (0, *(sum(s <= levels[j] for s in layer_sides) for j in last))
        else:
            per, extra = divmod(count, 3)
            sizes = [per + (i < extra) for i in range(3)]
            bounds = (0, sizes[0], sizes[0] + sizes[1], count)
    return {name: range(bounds[i], bounds[i + 1]) for i, name in enumerate(("coarse", "middle", "fine"))}


class StyleGenerator(nn.Module):
    """z (N, z_dim) [+ labels (N,)] -> images (N, C, S, S), linear output: what the StyleGAN generators
    share: ``mapping_network``, the average ``w_avg``, truncation, style mixing, style ranges.
    Subclasses build the ``synthesis_network`` (:meth:`build_synthesis`; called as
    ``synthesis_network(ws (N, num_ws, w_dim), noise_mode, noise_rng)``), which sets ``num_ws`` and
    ``layer_sides`` (the side of the layer each w drives).

    Args:
        z_dim, out_shape, num_classes: the common interface (``out_shape = (C, S, S)``).
        tanh_output: accepted and ignored (the output is linear).
        w_dim: width of w (and of the mapping network's layers).
        mapping_layers, mapping_lr: depth and learning-rate multiplier of the mapping network.
        channel_base, channel_max: synthesis widths ``min(channel_base // side, channel_max)``.
        w_avg_beta: decay of the running average ``w_avg`` (updated in training mode).
        noise_mode: default noise of the synthesis layers: ``random``, ``const`` or ``none``.
    """

    num_ws: int
    layer_sides: list[int]

    def __init__(
        self,
        z_dim: int,
        out_shape: Sequence[int],
        num_classes: int | None = None,
        tanh_output: bool = True,
        w_dim: int = 256,
        mapping_layers: int = 8,
        mapping_lr: float = 0.01,
        channel_base: int = 4096,
        channel_max: int = 256,
        w_avg_beta: float = 0.995,
        noise_mode: str = "random",
    ) -> None:
        super().__init__()
        channels, side = check_image_shape(out_shape)
        self.sides = synthesis_sides(side)
        self.z_dim, self.w_dim, self.num_classes = z_dim, w_dim, num_classes
        self.w_avg_beta = w_avg_beta
        self.noise_mode = check_noise_mode(noise_mode)
        self.mapping_network = MappingNetwork(
            z_dim, w_dim, mapping_layers, num_classes=num_classes, lr_multiplier=mapping_lr
        )
        self.register_buffer("w_avg", torch.zeros(w_dim))
        self.synthesis_network = self.build_synthesis(w_dim, channels, channel_base, channel_max)
        self.num_ws = self.synthesis_network.num_ws
        self.layer_sides = self.synthesis_network.layer_sides

    def build_synthesis(self, w_dim: int, channels: int, channel_base: int, channel_max: int) -> nn.Module:
        """The family's synthesis network from ws to images of ``channels`` channels at ``self.sides``."""
        raise NotImplementedError

    def mapping(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """z (N, z_dim) [+ labels (N,)] -> w (N, w_dim)."""
        return self.mapping_network(z, labels)

    def synthesis(
        self, ws: Tensor, noise_mode: str | None = None, noise_rng: torch.Generator | None = None
    ) -> Tensor:
        """ws (N, w_dim) or (N, num_ws, w_dim) -> images (N, C, S, S); ``noise_mode`` defaults to the
        generator's (``random``, ``const`` or ``none``)."""
        mode = check_noise_mode(noise_mode or self.noise_mode)
        return self.synthesis_network(broadcast_ws(ws, self.num_ws), mode, noise_rng)

    def truncate(self, w: Tensor, psi: float) -> Tensor:
        """The truncation trick in W: ``w_avg + psi * (w - w_avg)``, ``psi`` in [0, 1] (1: unchanged,
        0: the average w)."""
        if not 0.0 <= psi <= 1.0:
            raise ConfigError(f"The truncation psi must be in [0, 1], got {psi}.")
        if psi == 1.0:
            return w
        return self.w_avg.to(w.dtype).lerp(w, psi)

    def mix_styles(self, w1: Tensor, w2: Tensor, cutoff: int) -> Tensor:
        """(N, num_ws, w_dim): ``w1`` for the layers before ``cutoff``, ``w2`` from it on."""
        return mix_styles(w1, w2, cutoff, self.num_ws)

    def style_ranges(self) -> dict[str, range]:
        """ws indices of the coarse, middle and fine styles (see :func:`style_ranges`)."""
        return style_ranges(self.layer_sides)

    def forward(
        self,
        z: Tensor,
        labels: Tensor | None = None,
        truncation: float | None = None,
        mixing_z: Tensor | None = None,
        mixing_cutoff: int | None = None,
        noise_mode: str | None = None,
        noise_rng: torch.Generator | None = None,
    ) -> Tensor:
        """z (N, z_dim) [+ labels (N,)] -> images (N, C, S, S).

        In training mode ``w_avg`` moves towards this batch's mean w (decay ``w_avg_beta``).
        ``truncation``: psi in W (see :meth:`truncate`). ``mixing_z`` and ``mixing_cutoff``: the ws from
        ``mixing_cutoff`` on come from ``mixing_z`` (same labels); the caller draws both.
        """
        w = self.mapping(z, labels)
        if self.training:
            with torch.no_grad():
                self.w_avg.lerp_(w.detach().mean(dim=0).to(self.w_avg.dtype), 1.0 - self.w_avg_beta)
        if mixing_z is not None and mixing_cutoff is not None:
            ws = self.mix_styles(w, self.mapping(mixing_z, labels), mixing_cutoff)
        else:
            ws = w
        if truncation is not None:
            ws = self.truncate(ws, truncation)
        return self.synthesis(ws, noise_mode, noise_rng)
