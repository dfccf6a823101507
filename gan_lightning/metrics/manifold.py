"""Precision, recall (Kynkäänniemi et al. 2019), density and coverage (Naeem et al. 2020) of features.

Both pairs estimate the real and the generated manifolds by k-nearest-neighbour balls: the ball of a
point reaches its k-th nearest neighbour in its own set (the point itself not counted).

- precision: the fraction of generated points inside at least one real ball (k = 3);
- recall: the fraction of real points inside at least one generated ball (k = 3);
- density: the number of real balls each generated point lies in, averaged, divided by k (k = 5; about
  1 when both sets come from one distribution, above 1 where samples crowd around real points);
- coverage: the fraction of real points whose ball holds at least one generated point (k = 5).

A point on a ball's boundary is inside for precision and recall (``<=``, as Kynkäänniemi et al.) and
outside for density and coverage (``<``, as Naeem et al.: so the density of a set against itself is 1).

Pairwise distances are computed in blocks of rows (``chunk`` elements at most), so 10k x 10k sets of
2048-d features never need a full distance matrix: memory is O(n_real + n_fake) plus one block.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import Tensor

from gan_lightning.errors import ConfigError

#: elements of one block of the distance matrix (64 MiB of float32)
CHUNK = 1 << 24


def distance_blocks(a: Tensor, b: Tensor, chunk: int = CHUNK) -> Iterator[Tensor]:
    """Euclidean distances between the rows of ``a`` (n, d) and ``b`` (m, d), as consecutive blocks of
    rows (rows, m) of at most ``chunk`` elements (one row at least)."""
    rows = max(1, chunk // max(1, len(b)))
    for start in range(0, len(a), rows):
        yield torch.cdist(a[start : start + rows], b)


def knn_radii(features: Tensor, ks: int | tuple[int, ...], chunk: int = CHUNK) -> Tensor:
    """Distance of every point to its k-th nearest neighbour in its own set (itself excluded).

    Args:
        features: (n, d) points.
        ks: one k, or several (one pass computes them all).
        chunk: most elements of one block of the (n, n) distance matrix.

    Returns:
        (n,) for one k, (len(ks), n) for several.
    """
    wanted = (ks,) if isinstance(ks, int) else tuple(ks)
    n, top = len(features), max(wanted)
    if min(wanted) < 1 or top >= n:
        raise ConfigError(
            f"k-nearest-neighbour radii need 1 <= k < the number of points; got k={wanted}, {n} points."
        )
    radii = []
    for block in distance_blocks(features, features, chunk):
        # The k+1 smallest distances of each row, the point's distance to itself (0) first.
        nearest = block.topk(top + 1, dim=1, largest=False).values
        radii.append(nearest[:, list(wanted)])
    out = torch.cat(radii).T
    return out[0] if isinstance(ks, int) else out


def check_k(name: str, k: int, n_real: int, n_fake: int) -> None:
    """A ConfigError unless k-NN balls of ``k`` neighbours exist in both sets (1 <= k < both sizes)."""
    if k < 1 or k >= min(n_real, n_fake):
        raise ConfigError(
            f"{name}={k}: the k-nearest-neighbour balls need 1 <= k < the number of real and of generated "
            f"features ({n_real} real, {n_fake} generated). Lower {name} or evaluate more samples."
        )


@torch.no_grad()
def precision_recall(
    real: Tensor, fake: Tensor, k: int = 3, chunk: int = CHUNK, real_radii: Tensor | None = None
) -> dict[str, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019) of ``fake`` (m, d) against ``real`` (n, d).

    ``real_radii``: the real points' k-NN radii (n,) when already known (:func:`knn_radii`).
    Returns ``{"precision": float, "recall": float}``, both in [0, 1].
    """
    check_k("pr_k", k, len(real), len(fake))
    radii = knn_radii(real, k, chunk) if real_radii is None else real_radii
    return {
        "precision": fraction_inside(fake, real, radii, chunk),
        "recall": fraction_inside(real, fake, knn_radii(fake, k, chunk), chunk),
    }


@torch.no_grad()
def fraction_inside(points: Tensor, centres: Tensor, radii: Tensor, chunk: int = CHUNK) -> float:
    """Fraction of ``points`` (n, d) within distance ``radii`` (m,) of at least one of ``centres`` (m, d):
    precision with the real points as centres, recall with the generated ones."""
    inside = 0
    for block in distance_blocks(points, centres, chunk):
        inside += int((block <= radii).any(dim=1).sum())
    return inside / len(points)


@torch.no_grad()
def density_coverage(
    real: Tensor, fake: Tensor, k: int = 5, chunk: int = CHUNK, real_radii: Tensor | None = None
) -> dict[str, float]:
    """Density and coverage (Naeem et al. 2020) of ``fake`` (m, d) against ``real`` (n, d).

    ``real_radii``: the real points' k-NN radii (n,) when already known (:func:`knn_radii`).
    Returns ``{"density": float (>= 0, can exceed 1), "coverage": float in [0, 1]}``.
    """
    check_k("dc_k", k, len(real), len(fake))
    radii = knn_radii(real, k, chunk) if real_radii is None else real_radii
    balls_hit = 0  # (generated point, real ball holding it) pairs
    covered = torch.zeros(len(real), dtype=torch.bool, device=real.device)
    for block in distance_blocks(fake, real, chunk):
        inside = block < radii  # strictly, as Naeem et al.: a set against itself has density 1
        balls_hit += int(inside.sum())
        covered |= inside.any(dim=0)
    return {"density": balls_hit / (k * len(fake)), "coverage": float(covered.double().mean())}
