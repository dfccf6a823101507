"""Sources derived from target images (``data=paired data.derive=KIND``): pix2pix on any image folder.

:func:`derive_source` turns RGB images (N, 3, S, S) in [-1, 1] into one-channel sources (N, 1, S, S)
in [-1, 1], deterministically and in pure torch (any device, no extra dependency). The datamodule calls
it on every pair and ``translate`` on the user's images, so a model trained on derived pairs sees the
same kind of input at inference time.

- ``grayscale``: the luma Y = 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601, the weights of PIL's
  ``convert("L")``), one channel. The weights sum to 1, so [-1, 1] maps onto [-1, 1] (black -> -1,
  white -> 1); no rounding.
- ``edges``: a binary edge map in the style of pix2pix's edges2shoes / edges2handbags, dark lines
  (-1) on white (+1), one channel, found Canny-like on the luma:

  1. Gaussian blur of the luma (in [0, 1]) with sigma = max(1, S / 64) pixels (1 at 64 px, 4 at
     256 px: the same structures at every resolution), reflect padding;
  2. Sobel gradients, scaled (/ 8, times sigma) so that the magnitude of a blurred step edge of
     contrast c is about 0.4 c whatever sigma;
  3. non-maximum suppression: a pixel stays when its magnitude is a maximum along its gradient
     direction (quantised to 0, 45, 90, 135 degrees; of two equal neighbours the first, in raster
     order, stays), which thins edges to lines one pixel wide;
  4. hysteresis thresholds relative to the image's own gradient distribution: the high threshold is
     the image's ``EDGE_PERCENTILE`` (90th) percentile of magnitudes, at least ``EDGE_FLOOR`` (0.03:
     contrast below about 8% never starts a line, so flat images stay white), the low one
     ``EDGE_LOW`` (0.4) times the high one; thinned pixels above the high threshold are lines, and so
     are thinned pixels above the low one connected to a line (8-neighbours), which closes outlines.

  Each image is thresholded on its own, so the map of a crop depends on the crop: the datamodule
  derives from the final (cropped, flipped) target, as ``translate`` derives from its centre-cropped
  input.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from gan_lightning.errors import ConfigError

DERIVE_KINDS = ("edges", "grayscale")
LUMA_WEIGHTS = (0.299, 0.587, 0.114)  # ITU-R BT.601, as PIL's convert("L")
EDGE_PERCENTILE = 0.9  # per image: lines start where the gradient beats this share of its pixels'
EDGE_FLOOR = 0.03  # and this (scaled gradient magnitude, luma in [0, 1]): the high threshold's minimum
EDGE_LOW = 0.4  # the low threshold, times the high one: weaker pixels that continue a line


def check_kind(kind: str) -> str:
    """``kind`` if it is a known derivation, else a ConfigError naming the known ones."""
    if kind not in DERIVE_KINDS:
        raise ConfigError(
            f"data.derive={kind!r} is not a known derivation; use one of {', '.join(DERIVE_KINDS)} (or null "
            "for pairs read from A/ and B/ folders)."
        )
    return kind


def luma(images: Tensor) -> Tensor:
    """(N, 3, H, W) -> (N, 1, H, W): 0.299 R + 0.587 G + 0.114 B, in the input's range."""
    weights = torch.tensor(LUMA_WEIGHTS, dtype=images.dtype, device=images.device).view(1, 3, 1, 1)
    return (images * weights).sum(dim=1, keepdim=True)


def edge_sigma(size: int) -> float:
    """The blur of :func:`edges` for images of side ``size``: max(1, size / 64) pixels."""
    return max(1.0, size / 64)


def _gaussian_blur(images: Tensor, sigma: float) -> Tensor:
    """Separable Gaussian blur of (N, 1, H, W), radius ceil(3 sigma), reflect padding."""
    radius = math.ceil(3 * sigma)
    x = torch.arange(-radius, radius + 1, dtype=images.dtype, device=images.device)
    kernel = torch.exp(-(x**2) / (2 * sigma**2))
    kernel = kernel / kernel.sum()
    _, _, height, width = images.shape
    if radius >= min(height, width):  # reflect padding needs a larger image: clamp at the edges instead
        padded = F.pad(images, (radius, radius, radius, radius), mode="replicate")
    else:
        padded = F.pad(images, (radius, radius, radius, radius), mode="reflect")
    blurred = F.conv2d(padded, kernel.view(1, 1, 1, -1))
    return F.conv2d(blurred, kernel.view(1, 1, -1, 1))


def _sobel(images: Tensor) -> tuple[Tensor, Tensor]:
    """Horizontal and vertical Sobel derivatives of (N, 1, H, W) (replicate padding), / 8: per pixel."""
    kx = torch.tensor([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=images.dtype, device=images.device) / 8
    kernels = torch.stack([kx, kx.t()]).unsqueeze(1)  # (2, 1, 3, 3): d/dx, d/dy
    gradients = F.conv2d(F.pad(images, (1, 1, 1, 1), mode="replicate"), kernels)
    return gradients[:, :1], gradients[:, 1:]


def _thin(magnitude: Tensor, gx: Tensor, gy: Tensor) -> Tensor:
    """Non-maximum suppression: whether each pixel's magnitude is a maximum along its gradient
    direction (quantised to 0, 45, 90, 135 degrees): above the neighbour before it and at least the one
    after it, so a ridge two pixels wide of equal magnitudes keeps one; (N, 1, H, W) bool."""
    padded = F.pad(magnitude, (1, 1, 1, 1))  # zero outside: border pixels can be maxima
    _, _, height, width = magnitude.shape

    def shifted(dy: int, dx: int) -> Tensor:
        return padded[:, :, 1 + dy : 1 + dy + height, 1 + dx : 1 + dx + width]

    angle = torch.rad2deg(torch.atan2(gy, gx)) % 180  # y grows downwards
    sector = torch.round(angle / 45).long() % 4  # 0: horizontal gradient, 1: 45 deg, 2: vertical, 3: 135 deg
    keep = torch.zeros_like(magnitude, dtype=torch.bool)
    for index, (dy, dx) in enumerate(((0, 1), (1, 1), (1, 0), (1, -1))):
        local_max = (magnitude >= shifted(dy, dx)) & (magnitude > shifted(-dy, -dx))  # ties: the first
        keep |= (sector == index) & local_max
    return keep


def edges(images: Tensor) -> Tensor:
    """(N, 3, S, S) in [-1, 1] -> binary edge maps (N, 1, S, S): -1 on edges, 1 elsewhere (see the module)."""
    gray = (luma(images.float()) + 1) / 2
    sigma = edge_sigma(max(images.shape[-2:]))
    blurred = _gaussian_blur(gray, sigma)
    gx, gy = _sobel(blurred)
    magnitude = torch.sqrt(gx**2 + gy**2) * sigma
    magnitude = torch.round(magnitude * 2**16) / 2**16  # equal in exact arithmetic -> equal (ties)
    flat = magnitude.flatten(1)
    k = min(flat.shape[1], max(1, math.ceil(EDGE_PERCENTILE * flat.shape[1])))
    high = flat.kthvalue(k, dim=1).values.clamp(min=EDGE_FLOOR).view(-1, 1, 1, 1)
    thin = _thin(magnitude, gx, gy)
    lines = _hysteresis(thin & (magnitude > high), thin & (magnitude > EDGE_LOW * high))
    return torch.where(lines, -1.0, 1.0).to(images.dtype)


def _hysteresis(strong: Tensor, weak: Tensor) -> Tensor:
    """``strong`` grown into ``weak`` through 8-connected neighbours until nothing changes (bool)."""
    weak = weak | strong
    for _ in range(strong.shape[-1] * strong.shape[-2]):  # never that many: each pass adds pixels
        grown = weak & (F.max_pool2d(strong.float(), 3, stride=1, padding=1) > 0)
        if torch.equal(grown, strong):
            break
        strong = grown
    return strong


def derive_source(images: Tensor, kind: str) -> Tensor:
    """The source of each target image: ``kind`` ``grayscale`` (luma) or ``edges`` (dark lines on white).

    Args:
        images: float (N, 3, S, S) in [-1, 1] (any device).
        kind: one of :data:`DERIVE_KINDS`.

    Returns:
        float (N, 1, S, S) in [-1, 1], on the device and of the dtype of ``images``.
    """
    check_kind(kind)
    if images.dim() != 4 or images.shape[1] != 3:
        raise ValueError(f"derive_source takes RGB images (N, 3, H, W), got shape {tuple(images.shape)}")
    if kind == "grayscale":
        return luma(images)
    return edges(images)
