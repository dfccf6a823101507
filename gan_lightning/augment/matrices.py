"""Per-sample affine matrices for ADA's geometric and colour ops, and their application to images.

Geometry works in pixel coordinates centred on the image, x to the right and y down: pixel (i, j) of
an (H, W) image is the point (j - (W - 1) / 2, i - (H - 1) / 2). The 2-D matrices are homogeneous
(N, 3, 3); :func:`resample` takes the *inverse* transform (output pixel -> input pixel), so a chain of
ops A1 then A2 is resampled with ``inv(A1) @ inv(A2)``.

Colour works on the channel vector of each pixel, in the images' range [-1, 1] (0 is mid-grey). The
luma axis is the direction (1, ..., 1) / sqrt(C): the grey values.

Everything here is differentiable with respect to the images and reads nothing back on the host.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor


def _matrix(rows: list[list[Tensor | float]], like: Tensor) -> Tensor:
    """(N, R, K) from R rows of K entries, each an (N,) tensor or a number (broadcast to like's)."""
    entries = [e if isinstance(e, Tensor) else torch.full_like(like, e) for row in rows for e in row]
    return torch.stack(entries, dim=-1).view(*like.shape, len(rows), len(rows[0]))


# --- geometry -------------------------------------------------------------------------------------


def identity(n: int, like: Tensor) -> Tensor:
    """(N, 3, 3) identity matrices with ``like``'s device and dtype."""
    return torch.eye(3, device=like.device, dtype=like.dtype).expand(n, 3, 3)


def translation(tx: Tensor, ty: Tensor) -> Tensor:
    """(N, 3, 3): move by (tx, ty) pixels (positive: right / down). tx, ty: (N,)."""
    return _matrix([[1.0, 0.0, tx], [0.0, 1.0, ty], [0.0, 0.0, 1.0]], tx)


def scaling(sx: Tensor, sy: Tensor) -> Tensor:
    """(N, 3, 3): scale about the image centre by sx horizontally, sy vertically (> 1: the content
    grows). sx, sy: (N,)."""
    return _matrix([[sx, 0.0, 0.0], [0.0, sy, 0.0], [0.0, 0.0, 1.0]], sx)


def rotation(theta: Tensor) -> Tensor:
    """(N, 3, 3): rotate about the image centre by theta radians, (N,); positive turns the content
    clockwise on screen (y points down), pi / 2 is ``torch.rot90(x, -1, (2, 3))``."""
    cos, sin = torch.cos(theta), torch.sin(theta)
    return _matrix([[cos, -sin, 0.0], [sin, cos, 0.0], [0.0, 0.0, 1.0]], theta)


def resample(x: Tensor, inverse: Tensor) -> Tensor:
    """Resample each image through its inverse transform.

    Args:
        x: (N, C, H, W) images.
        inverse: (N, 3, 3) output pixel -> input pixel, in centred pixel coordinates.

    Returns:
        (N, C, H, W): out[n, :, i, j] = x[n] bilinearly interpolated at inverse[n] @ (j, i) (centred).
        Outside the image the input is mirrored about its edge pixels, which are not repeated
        (``F.pad(mode="reflect")``, as :func:`ops.translate` with ``padding="reflect"``), however far
        out: no black borders. Differentiable with respect to ``x`` (twice, for R1).
    """
    n, _, h, w = x.shape
    cy, cx = (h - 1) / 2, (w - 1) / 2
    ys = torch.arange(h, device=x.device, dtype=torch.float32) - cy
    xs = torch.arange(w, device=x.device, dtype=torch.float32) - cx
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
    points = torch.stack([grid_x, grid_y, torch.ones_like(grid_x)]).view(3, h * w)
    source = inverse[:, :2].to(device=x.device, dtype=torch.float32) @ points  # (N, 2, H W)
    # align_corners=True: -1 and 1 are the centres of the edge pixels, and "reflection" mirrors about
    # them. A side of one pixel has nothing to interpolate: 0 is its centre.
    normalized = torch.stack(
        [source[:, 0] * (1 / cx if cx else 0.0), source[:, 1] * (1 / cy if cy else 0.0)], dim=-1
    )
    grid = normalized.view(n, h, w, 2).to(x.dtype)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=True)


# --- colour ---------------------------------------------------------------------------------------


def luma_flip(x: Tensor) -> Tensor:
    """The Householder reflection I - 2 v v^T of each pixel's colour, v the luma axis: the luma (the
    channel mean m) is negated, the chroma kept: x - 2 m. One channel: -x. x: (N, C, H, W)."""
    return x - 2 * x.mean(dim=1, keepdim=True)


def hue_rotation(theta: Tensor) -> Tensor:
    """(N, 3, 3) rotations of RGB colours by theta (N,) radians about the luma axis (Rodrigues'
    formula, v = (1, 1, 1) / sqrt(3)): the luma is kept; 2 pi / 3 takes red to green, (r, g, b) to
    (b, r, g)."""
    cos, sin = torch.cos(theta), torch.sin(theta)
    grey = (1 - cos) / 3  # the v v^T part
    turn = sin / math.sqrt(3)  # the cross-product part, [v]_x
    return _matrix(
        [
            [cos + grey, grey - turn, grey + turn],
            [grey + turn, cos + grey, grey - turn],
            [grey - turn, grey + turn, cos + grey],
        ],
        theta,
    )


def color_transform(x: Tensor, matrix: Tensor) -> Tensor:
    """Each pixel's colour times its image's matrix: x (N, C, H, W), matrix (N, C, C)."""
    return torch.einsum("nij,njhw->nihw", matrix.to(x.dtype), x)
