"""Differentiable per-sample image transforms and the random draws behind them.

Images are (N, C, H, W), nominally in [-1, 1]. Every transform is differentiable with respect to the
images (gathers, masks and affine arithmetic, no rounding of pixel values), so gradients reach G
when they are applied to generated images before D.

Random numbers come only from the ``generator`` passed in: they are drawn on its device (a CPU
generator gives the same numbers whatever device the images are on), then moved to the images'
device. Without a generator torch's global generator on the images' device is used.
"""

from __future__ import annotations

import torch
from torch import Tensor


def uniform(n: int, low: float, high: float, like: Tensor, generator: torch.Generator | None) -> Tensor:
    """(N, 1, 1, 1) draws from U[low, high), with ``like``'s device and dtype."""
    where = generator.device if generator is not None else like.device
    u = torch.rand((n, 1, 1, 1), generator=generator, device=where)
    return (low + (high - low) * u).to(device=like.device, dtype=like.dtype)


def normal(n: int, std: float, like: Tensor, generator: torch.Generator | None) -> Tensor:
    """(N, 1, 1, 1) draws from N(0, std^2), with ``like``'s device and dtype."""
    where = generator.device if generator is not None else like.device
    z = torch.randn((n, 1, 1, 1), generator=generator, device=where)
    return (std * z).to(device=like.device, dtype=like.dtype)


def integers(n: int, low: int, high: int, device: torch.device, generator: torch.Generator | None) -> Tensor:
    """(N,) integers uniform in [low, high] (both included), as int64 on ``device``."""
    where = generator.device if generator is not None else device
    return torch.randint(low, high + 1, (n,), generator=generator, device=where).to(device)


def bernoulli(n: int, p: Tensor | float, device: torch.device, generator: torch.Generator | None) -> Tensor:
    """(N,) booleans, each True with probability ``p`` (a number, or a 0-d tensor that is never read on
    the host), on ``device``."""
    where = generator.device if generator is not None else device
    draws = torch.rand((n,), generator=generator, device=where)
    if isinstance(p, Tensor):
        return draws.to(device) < p.to(device)
    return (draws < p).to(device)


def max_shift(size: int, fraction: float) -> int:
    """The largest integer shift for a side of ``size`` pixels: round(size * fraction), 28 px -> 4."""
    return int(size * fraction + 0.5)


def translate(x: Tensor, shift_y: Tensor, shift_x: Tensor, padding: str = "zeros") -> Tensor:
    """Shift each image by whole pixels: out[n, :, i, j] = x[n, :, i - shift_y[n], j - shift_x[n]].

    Args:
        x: (N, C, H, W) images.
        shift_y, shift_x: (N,) integer shifts (positive: down / right), |shift| < H, W.
        padding: what enters at the borders: ``zeros``, or ``reflect`` (mirrored about the edge
            pixel, which is not repeated, as ``F.pad(mode="reflect")``).

    Returns:
        (N, C, H, W), one gather of ``x`` (differentiable with respect to it; no host sync).
    """
    n, c, h, w = x.shape
    rows = torch.arange(h, device=x.device).view(1, h, 1) - shift_y.view(n, 1, 1).to(x.device)
    cols = torch.arange(w, device=x.device).view(1, 1, w) - shift_x.view(n, 1, 1).to(x.device)
    if padding == "reflect":
        rows, cols = _reflect(rows, h), _reflect(cols, w)
        inside = None
    else:
        inside = (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)  # (N, H, W)
        rows, cols = rows.clamp(0, h - 1), cols.clamp(0, w - 1)
    index = (rows * w + cols).view(n, 1, h * w).expand(n, c, h * w)
    out = x.flatten(2).gather(2, index).view(n, c, h, w)
    return out if inside is None else out * inside.unsqueeze(1).to(x.dtype)


def _reflect(index: Tensor, size: int) -> Tensor:
    """Mirror indices in (-size, 2 size - 1) into [0, size): -1 -> 1, size -> size - 2."""
    index = torch.where(index < 0, -index, index)
    return torch.where(index > size - 1, 2 * (size - 1) - index, index)


def cutout(x: Tensor, top: Tensor, left: Tensor, size: tuple[int, int]) -> Tensor:
    """Zero a (size_h, size_w) rectangle per image, its top-left corner at (top[n], left[n]).

    Args:
        x: (N, C, H, W) images. top, left: (N,) integer corners. size: (height, width) of the hole.

    Returns:
        x times a 0/1 mask (differentiable with respect to ``x``; zero gradient inside the hole).
    """
    n, _, h, w = x.shape
    rows = torch.arange(h, device=x.device).view(1, h, 1) - top.view(n, 1, 1).to(x.device)
    cols = torch.arange(w, device=x.device).view(1, 1, w) - left.view(n, 1, 1).to(x.device)
    hole = (rows >= 0) & (rows < size[0]) & (cols >= 0) & (cols < size[1])  # (N, H, W)
    return x * (~hole).unsqueeze(1).to(x.dtype)


def scale_around(x: Tensor, center: Tensor, factor: Tensor) -> Tensor:
    """center + factor * (x - center): contrast (center = image mean) and saturation (channel mean)."""
    return center + factor * (x - center)
