"""TransGAN networks (Jiang et al., 2021, "TransGAN: Two Pure Transformers Can Make One Strong GAN").

Both networks are pure transformers: no convolution anywhere. Tokens of a ``side x side`` grid are
stored row-major, ``(N, side * side, C)``, token ``y * side + x`` being grid cell ``(y, x)``.

Building blocks (pre-norm): ``x + attn(LN(x))`` then ``x + MLP(LN(x))`` with an MLP of
``mlp_ratio * C`` hidden units and GELU. The attention (qkv projection, head split,
``torch.nn.functional.scaled_dot_product_attention``, output projection) is written here so that the
windowed (grid) self-attention of the paper can reuse it: on a grid larger than ``window_size`` the
tokens are split into non-overlapping square windows, each window attends within itself, and the
windows are put back in place. The window side is ``window_size`` when it divides the grid side;
otherwise it is the largest divisor of the side that does not exceed ``window_size``, reached with
the fewest windows per side (:func:`grid_window`: 28 px with ``window_size=16`` uses 2 x 2 windows
of 14 x 14). A grid no larger than ``window_size`` gets full attention.

Generator: z (concatenated with a label embedding of size ``z_dim`` when ``num_classes`` is given,
Mirza & Osindero, 2014) -> Linear -> ``start x start`` grid of ``width`` tokens. Stage ``i`` adds
its learned positional embedding and runs ``depths[i]`` blocks; between stages the grid is
upsampled by pixel shuffle: tokens (N, H*W, C) -> (N, C, H, W) -> PixelShuffle(2) ->
(N, C/4, 2H, 2W) -> tokens, so the channels divide by 4 per stage. A final LayerNorm and a
per-token Linear to the image channels give the image, squashed by tanh. The stages follow the
image side (:func:`stage_sides`); with the defaults (``width=256``, ``heads=4``, ``window_size=16``):

======  =========================================================  ============================
 side    stages: grid (tokens x channels)                           windowed stages
======  =========================================================  ============================
 16      4x4 (16x256), 8x8 (64x64), 16x16 (256x16)                  none
 28      7x7 (49x256), 14x14 (196x64), 28x28 (784x16)               28x28 (2x2 windows of 14x14)
 32      8x8 (64x256), 16x16 (256x64), 32x32 (1024x16)              32x32 (2x2 windows of 16x16)
 64      8x8 (64x256), 16x16 (256x64), 32x32 (1024x16),             32x32, 64x64 (16x16 windows)
         64x64 (4096x4)
======  =========================================================  ============================

At 64 px the last stage keeps only ``width / 64`` channels (one per head with the defaults): give it
a wider ``width`` (e.g. 1024) there. ``width`` must be a multiple of ``heads * 4**(stages - 1)``
and leave the last stage at least 4 channels (``width >= 4 * 4**(stages - 1)``): a LayerNorm over
one channel maps every token to its bias. The defaults ``depths=(2, 2, 2)`` fit 3-stage sides
(16, 28, 32); 64 px needs 4 entries (or one).

Discriminator (ViT-like, as in the paper): the image is cut into non-overlapping
``patch_size x patch_size`` patches (a reshape, no convolution), each flattened patch is embedded by
a Linear, a learned [cls] token is put in front, learned positional embeddings are added (one per
token, [cls] included), ``depth`` full-attention blocks follow, then a LayerNorm and a Linear head
on the [cls] token give the logit. Conditioning (``num_classes``) is by projection (Miyato & Koyama,
2018): ``logit = head(h) + <embed(y), h>`` with ``h`` the normalised [cls] feature.

``multi_scale=True`` is this module's own, simple take on the released code's multi-scale
discriminator: the image is embedded a second time with patches of ``2 * patch_size`` (their own
Linear embedding and positional embeddings), and those coarse tokens are concatenated after the fine
ones, so the blocks attend over tokens of two scales at once (32 px, patch 4: 1 + 64 + 16 tokens
instead of 1 + 64). The side must then be divisible by ``2 * patch_size``.

Initialisation: Linear weights and the positional embeddings / [cls] token from a normal of std 0.02
truncated at two standard deviations, biases 0, LayerNorm weight 1 and bias 0; the discriminator's
class embedding like the Linear weights; the generator's label embedding keeps PyTorch's N(0, 1), the
scale of z it is concatenated to.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_lightning.errors import ConfigError

MIN_START = 4
MAX_START = 8
MIN_LAST_CHANNELS = 4  # channels of the generator's last stage (per-token LayerNorm)
INIT_STD = 0.02
G_KEY = "model.networks.transformer.generator"
D_KEY = "model.networks.transformer.discriminator"


# --- sizes -------------------------------------------------------------------------------------------


def _unsupported_side(side: int) -> ConfigError:
    return ConfigError(
        f"Image size {side} is not supported by the transformer networks: the side must be "
        f"start * 2**k with start in {MIN_START}..{MAX_START} and k >= 1 (e.g. 8, 16, 28, 32, 64, 128). "
        "Set data.image_size accordingly, or for non-image data use an MLP model (model.arch=mlp)."
    )


def stage_sides(side: int) -> list[int]:
    """Grid sides of the generator's stages, from the first (after the input Linear) to the image.

    The first side is ``side / 2**k`` in 4..8 (k >= 1); k >= 2 (at least three stages) is preferred,
    with the smallest such k: 28 -> [7, 14, 28]; 32 -> [8, 16, 32]; 64 -> [8, 16, 32, 64];
    16 -> [4, 8, 16]; 8 -> [4, 8]. Any other side (odd, < 8, 30, 36, ...) raises ConfigError.
    """
    candidates = [
        k
        for k in range(1, max(side, 1).bit_length())
        if side % 2**k == 0 and MIN_START <= side // 2**k <= MAX_START
    ]
    if side < 8 or not candidates:
        raise _unsupported_side(side)
    deep = [k for k in candidates if k >= 2]
    k = min(deep) if deep else min(candidates)
    return [side // 2**k * 2**i for i in range(k + 1)]


def grid_window(side: int, window_size: int) -> int:
    """Side of the square attention windows on a ``side x side`` grid (``side``: full attention).

    ``side`` when ``side <= window_size``; otherwise ``side / n`` for the smallest ``n >=
    ceil(side / window_size)`` that divides ``side`` (``window_size`` itself when it divides it).
    """
    if window_size < 1:
        raise ConfigError(f"window_size must be at least 1, got {window_size}.")
    if side <= window_size:
        return side
    n = math.ceil(side / window_size)
    while side % n:
        n += 1
    return side // n


def _check_image_shape(shape: Sequence[int]) -> tuple[int, int]:
    if len(shape) != 3 or shape[1] != shape[2]:
        raise ConfigError(
            f"The transformer networks need square images shaped (C, H, W), got data shape {tuple(shape)}. "
            "For 2-D toy data or other non-image data use an MLP model (model.arch=mlp)."
        )
    return shape[0], shape[1]


def _check_dropout(dropout: float, key: str) -> float:
    if not 0.0 <= dropout < 1.0:
        raise ConfigError(f"{key}.dropout must be in [0, 1), got {dropout}.")
    return dropout


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


# --- token utilities ---------------------------------------------------------------------------------


def upsample_tokens(x: Tensor, side: int) -> Tensor:
    """Pixel-shuffle upsampling of a token grid: (N, side*side, C) -> (N, 4*side*side, C/4)."""
    n, length, channels = x.shape
    grid = x.transpose(1, 2).reshape(n, channels, side, side)
    return F.pixel_shuffle(grid, 2).flatten(2).transpose(1, 2)


def window_partition(x: Tensor, side: int, window: int) -> Tensor:
    """(N, side*side, C) -> (N * (side/window)**2, window*window, C), windows in row-major order."""
    n, _, channels = x.shape
    per_side = side // window
    x = x.view(n, per_side, window, per_side, window, channels).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(n * per_side * per_side, window * window, channels)


def window_reverse(windows: Tensor, side: int, window: int) -> Tensor:
    """Inverse of :func:`window_partition`: (N * (side/window)**2, window*window, C) -> (N, side*side, C)."""
    per_side = side // window
    channels = windows.shape[-1]
    x = windows.view(-1, per_side, per_side, window, window, channels).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, side * side, channels)


def patchify(x: Tensor, patch_size: int) -> Tensor:
    """Images (N, C, S, S) -> flattened non-overlapping patches (N, (S/p)**2, C*p*p), row-major."""
    n, c, h, w = x.shape
    p = patch_size
    x = x.reshape(n, c, h // p, p, w // p, p).permute(0, 2, 4, 1, 3, 5)
    return x.reshape(n, (h // p) * (w // p), c * p * p)


# --- transformer -------------------------------------------------------------------------------------


class SelfAttention(nn.Module):
    """Multi-head self-attention on (N, L, C) tokens, optionally within square windows of a grid."""

    def __init__(self, dim: int, heads: int, dropout: float = 0.0) -> None:
        super().__init__()
        if dim % heads:
            raise ConfigError(f"The attention width {dim} is not divisible by heads={heads}.")
        self.heads = heads
        self.dropout = dropout
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: Tensor, side: int | None = None, window: int | None = None) -> Tensor:
        """Full attention over all tokens, or, given the grid ``side`` and a ``window`` side, within
        each ``window x window`` window of the grid."""
        if window is None:
            return self._attend(x)
        if side is None or side % window:
            raise ValueError(f"A window of {window} needs a grid side divisible by it, got {side}.")
        return window_reverse(self._attend(window_partition(x, side, window)), side, window)

    def _attend(self, x: Tensor) -> Tensor:
        n, length, channels = x.shape
        qkv = self.qkv(x).view(n, length, 3, self.heads, channels // self.heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # each (N, heads, L, head_dim)
        out = F.scaled_dot_product_attention(q, k, v, dropout_p=self.dropout if self.training else 0.0)
        return self.proj(out.transpose(1, 2).reshape(n, length, channels))


class TransformerBlock(nn.Module):
    """Pre-norm block: ``x + attn(LN(x))``, ``x + MLP(LN(x))``.

    With a grid ``side`` larger than ``window_size`` the attention is windowed (:func:`grid_window`);
    otherwise (or without ``side``) it is full attention.
    """

    def __init__(
        self,
        dim: int,
        heads: int,
        mlp_ratio: float = 4.0,
        dropout: float = 0.0,
        side: int | None = None,
        window_size: int | None = None,
    ) -> None:
        super().__init__()
        self.side = side
        windowed = side is not None and window_size is not None and side > window_size
        self.window = grid_window(side, window_size) if windowed else None
        hidden = max(1, int(dim * mlp_ratio))
        self.norm1 = nn.LayerNorm(dim)
        self.attn = SelfAttention(dim, heads, dropout)
        self.drop = nn.Dropout(dropout)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(
            nn.Linear(dim, hidden),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, dim),
            nn.Dropout(dropout),
        )

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.drop(self.attn(self.norm1(x), self.side, self.window))
        return x + self.mlp(self.norm2(x))


def _trunc_normal_(tensor: Tensor, std: float = INIT_STD) -> Tensor:
    return nn.init.trunc_normal_(tensor, 0.0, std, -2 * std, 2 * std)


def init_transformer_weights(module: nn.Module) -> None:
    """Linear: truncated N(0, 0.02) weights, zero biases; LayerNorm: weight 1, bias 0."""
    if isinstance(module, nn.Linear):
        _trunc_normal_(module.weight)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.LayerNorm):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)


class GeneratorStage(nn.Module):
    """One generator stage on a ``side x side`` grid: add the positional embedding, run the blocks."""

    def __init__(
        self,
        side: int,
        dim: int,
        depth: int,
        heads: int,
        mlp_ratio: float,
        window_size: int,
        dropout: float,
    ) -> None:
        super().__init__()
        self.side = side
        self.pos_embed = nn.Parameter(torch.zeros(1, side * side, dim))
        self.blocks = nn.Sequential(
            *(TransformerBlock(dim, heads, mlp_ratio, dropout, side, window_size) for _ in range(depth))
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.blocks(x + self.pos_embed)


# --- networks ----------------------------------------------------------------------------------------


def _stage_depths(depths: Sequence[int], sides: Sequence[int], image_side: int) -> list[int]:
    depths = list(depths)
    plan = ", ".join(map(str, sides))
    if len(depths) not in (1, len(sides)):
        raise ConfigError(
            f"{image_side} px has {len(sides)} stages ({plan}): give {G_KEY}.depths with "
            f"{len(sides)} entries (or a single one for the same depth everywhere), got {depths}."
        )
    if any(int(d) != d or d < 1 for d in depths):
        raise ConfigError(f"{G_KEY}.depths must be positive integers, got {depths}.")
    return [int(d) for d in depths] * (len(sides) if len(depths) == 1 else 1)


def _check_generator_width(width: int, heads: int, sides: Sequence[int], image_side: int) -> None:
    if heads < 1:
        raise ConfigError(f"{G_KEY}.heads must be at least 1, got {heads}.")
    shrink = 4 ** (len(sides) - 1)
    unit = heads * shrink
    smallest = MIN_LAST_CHANNELS * shrink
    if width % unit == 0 and width >= smallest:
        return
    plan = ", ".join(map(str, sides))
    good = math.ceil(max(width, smallest) / unit) * unit
    suggestion = f"use {G_KEY}.width={good}"
    if width >= smallest and width % shrink == 0:
        suggestion += f" or {G_KEY}.heads in {tuple(_divisors(width // shrink))}"
    raise ConfigError(
        f"Transformer generator width={width} with heads={heads} does not fit {image_side} px: its "
        f"{len(sides)} stages ({plan}) divide the channels by 4 per stage, so the width must be a "
        f"multiple of heads * 4**{len(sides) - 1} = {unit}, and at least {MIN_LAST_CHANNELS} * "
        f"4**{len(sides) - 1} = {smallest} for the last stage to keep {MIN_LAST_CHANNELS} channels "
        f"(a LayerNorm over fewer flattens the tokens); {suggestion}."
    )


class TransGANGenerator(nn.Module):
    """z (N, z_dim) [+ labels (N,)] -> images (N, C, S, S), in [-1, 1] when ``tanh_output``."""

    def __init__(
        self,
        z_dim: int,
        out_shape: Sequence[int],
        num_classes: int | None = None,
        tanh_output: bool = True,
        *,
        width: int = 256,
        depths: Sequence[int] = (2, 2, 2),
        heads: int = 4,
        mlp_ratio: float = 4.0,
        window_size: int = 16,
        start_size: int | None = None,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        channels, side = _check_image_shape(out_shape)
        sides = stage_sides(side)
        if start_size is not None and start_size != sides[0]:
            raise ConfigError(
                f"{G_KEY}.start_size={start_size} does not match {side} px, whose stages are "
                f"{', '.join(map(str, sides))}: leave it unset (null) or set it to {sides[0]}."
            )
        _check_generator_width(width, heads, sides, side)
        stage_depths = _stage_depths(depths, sides, side)
        grid_window(side, window_size)  # validates window_size
        _check_dropout(dropout, G_KEY)
        self.sides = sides
        self.start = sides[0]
        self.width = width
        self.out_channels = channels
        self.tanh_output = tanh_output
        self.label_embedding = nn.Embedding(num_classes, z_dim) if num_classes is not None else None
        in_dim = z_dim * (2 if num_classes is not None else 1)
        self.input = nn.Linear(in_dim, self.start * self.start * width)
        self.stages = nn.ModuleList(
            GeneratorStage(s, width // 4**i, d, heads, mlp_ratio, window_size, dropout)
            for i, (s, d) in enumerate(zip(sides, stage_depths, strict=True))
        )
        last = width // 4 ** (len(sides) - 1)
        self.norm = nn.LayerNorm(last)
        self.to_pixels = nn.Linear(last, channels)
        self.apply(init_transformer_weights)
        for stage in self.stages:
            _trunc_normal_(stage.pos_embed)

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        if self.label_embedding is not None:
            if labels is None:
                raise ValueError("This generator is label-conditioned: pass labels.")
            z = torch.cat([z, self.label_embedding(labels)], dim=1)
        n = z.shape[0]
        x = self.input(z).view(n, self.start * self.start, self.width)
        for i, stage in enumerate(self.stages):
            if i:
                x = upsample_tokens(x, self.sides[i - 1])
            x = stage(x)
        x = self.to_pixels(self.norm(x))  # (N, S*S, C)
        side = self.sides[-1]
        images = x.transpose(1, 2).reshape(n, self.out_channels, side, side)
        return torch.tanh(images) if self.tanh_output else images


class TransGANDiscriminator(nn.Module):
    """images (N, C, S, S) [+ labels (N,)] -> logits (N,)."""

    def __init__(
        self,
        in_shape: Sequence[int],
        num_classes: int | None = None,
        *,
        patch_size: int = 4,
        width: int = 192,
        depth: int = 4,
        heads: int = 4,
        mlp_ratio: float = 4.0,
        multi_scale: bool = False,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        channels, side = _check_image_shape(in_shape)
        scales = 2 if multi_scale else 1
        if patch_size < 1 or side % (scales * patch_size):
            options = tuple(p for p in range(1, side // scales + 1) if side % (scales * p) == 0)
            where = (
                " at two scales (multi_scale: the side must divide by 2 * patch_size)" if multi_scale else ""
            )
            raise ConfigError(
                f"{D_KEY}.patch_size={patch_size} does not tile {side} px images{where}: "
                f"choose one of {options}."
            )
        if heads < 1 or width < heads or width % heads:
            good = max(heads, math.ceil(width / heads) * heads)
            raise ConfigError(
                f"Transformer discriminator width={width} is not divisible by heads={heads}: use "
                f"{D_KEY}.width={good} or {D_KEY}.heads in {tuple(_divisors(max(width, 1)))}."
            )
        if depth < 1:
            raise ConfigError(f"{D_KEY}.depth must be at least 1, got {depth}.")
        _check_dropout(dropout, D_KEY)
        self.patch_size = patch_size
        self.multi_scale = multi_scale
        fine = (side // patch_size) ** 2
        coarse = (side // (2 * patch_size)) ** 2 if multi_scale else 0
        self.num_tokens = 1 + fine + coarse
        self.patch_embed = nn.Linear(channels * patch_size**2, width)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, width))
        self.pos_embed = nn.Parameter(torch.zeros(1, 1 + fine, width))
        if multi_scale:
            self.coarse_embed = nn.Linear(channels * (2 * patch_size) ** 2, width)
            self.coarse_pos_embed = nn.Parameter(torch.zeros(1, coarse, width))
        else:
            self.coarse_embed = None
            self.register_parameter("coarse_pos_embed", None)
        self.blocks = nn.Sequential(
            *(TransformerBlock(width, heads, mlp_ratio, dropout) for _ in range(depth))
        )
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, 1)
        self.class_embedding = nn.Embedding(num_classes, width) if num_classes is not None else None
        self.apply(init_transformer_weights)
        for param in (self.cls_token, self.pos_embed, self.coarse_pos_embed):
            if param is not None:
                _trunc_normal_(param)
        if self.class_embedding is not None:
            _trunc_normal_(self.class_embedding.weight)

    def tokens(self, x: Tensor) -> Tensor:
        """The transformer's input: [cls], fine patches (and coarse patches), positions added."""
        n = x.shape[0]
        parts = [
            self.cls_token.expand(n, -1, -1) + self.pos_embed[:, :1],
            self.patch_embed(patchify(x, self.patch_size)) + self.pos_embed[:, 1:],
        ]
        if self.coarse_embed is not None:
            parts.append(self.coarse_embed(patchify(x, 2 * self.patch_size)) + self.coarse_pos_embed)
        return torch.cat(parts, dim=1)

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        h = self.norm(self.blocks(self.tokens(x))[:, 0])
        logits = self.head(h).squeeze(1)
        if self.class_embedding is not None:
            if labels is None:
                raise ValueError("This discriminator is label-conditioned: pass labels.")
            logits = logits + (self.class_embedding(labels) * h).sum(dim=1)
        return logits


__all__ = [
    "GeneratorStage",
    "SelfAttention",
    "TransGANDiscriminator",
    "TransGANGenerator",
    "TransformerBlock",
    "grid_window",
    "init_transformer_weights",
    "patchify",
    "stage_sides",
    "upsample_tokens",
    "window_partition",
    "window_reverse",
]
