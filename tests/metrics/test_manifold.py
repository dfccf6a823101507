"""Precision / recall (Kynkäänniemi et al. 2019) and density / coverage (Naeem et al. 2020): 2-D points
counted by hand, a naive O(n^2) reference on random features, blocks of bounded size."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor

from gan_lightning.errors import ConfigError
from gan_lightning.metrics.manifold import (
    density_coverage,
    distance_blocks,
    fraction_inside,
    knn_radii,
    precision_recall,
)

# Four real and four generated points in the plane (float64: the hand counts below are exact).
REAL = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0], [5.0, 5.0]], dtype=torch.float64)
FAKE = torch.tensor([[0.5, 0.0], [0.0, 1.9], [10.0, 10.0], [20.0, 0.0]], dtype=torch.float64)


def test_hand_counted_2d_example_with_k_1():
    # Real radii (1st neighbour): r0 = 1 (r1), r1 = 1 (r0), r2 = 2 (r0), r3 = |(5, 3)| = 5.83 (r2).
    expected = torch.tensor([1.0, 1.0, 2.0, 34**0.5], dtype=torch.float64)
    torch.testing.assert_close(knn_radii(REAL, 1), expected)
    # Generated radii: f0, f1 = |(0.5, 1.9)| = 1.965 (each other), f2 = |(10, 8.1)| = 12.87 (f1),
    # f3 = |(10, 10)| = 14.14 (f2).
    expected = torch.tensor([3.86, 3.86, 165.61, 200.0], dtype=torch.float64).sqrt()
    torch.testing.assert_close(knn_radii(FAKE, 1), expected)
    values = {**precision_recall(REAL, FAKE, k=1), **density_coverage(REAL, FAKE, k=1)}
    # Precision: f0 is 0.5 from r0 (radius 1), f1 0.1 from r2 (radius 2); f2 is 7.07 from r3 (radius
    # 5.83) and f3 far from all: 2 of 4.
    # Recall: r0, r1 are 0.5 from f0 (radius 1.965), r2 0.1 from f1, r3 7.07 from f2 (radius 12.87): 4 of 4.
    # Density: f0 lies in the balls of r0 and r1, f1 in r2's (1.9 from r0, |(1, 1.9)| = 2.15 from r1,
    # |(5, 3.1)| = 5.88 from r3: outside), f2 and f3 in none: (2 + 1) / (k * 4) = 0.75.
    # Coverage: the balls of r0, r1 (f0) and r2 (f1) hold a generated point, r3's none: 3 of 4.
    assert values == {"precision": 0.5, "recall": 1.0, "density": 0.75, "coverage": 0.75}


def test_a_set_against_itself():
    # 20 points: cdist computes them directly, so d(i, j) and d(j, i) are the same number and the k-th
    # neighbour is exactly on its ball's boundary (larger sets go through a matrix product, whose
    # rounding decides such exact ties either way).
    points = torch.randn(20, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    for k in (1, 3, 5):
        # Every ball holds its centre and its k - 1 nearer neighbours strictly inside (Naeem et al.'s
        # strict test): density exactly 1; and every point is its own witness.
        assert precision_recall(points, points, k) == {"precision": 1.0, "recall": 1.0}
        assert density_coverage(points, points, k) == {"density": 1.0, "coverage": 1.0}


def test_mode_collapse_keeps_precision_and_loses_recall_and_coverage():
    real = torch.tensor([[float(i), 0.0] for i in range(10)], dtype=torch.float64)  # 0, 1, ..., 9 on a line
    collapsed = real[3].repeat(6, 1)  # six copies of real point 3: generated radii 0
    values = {**precision_recall(real, collapsed, k=2), **density_coverage(real, collapsed, k=2)}
    # Real radii (k = 2): 2 for the end points 0 and 9, 1 for points 1..8.
    # Precision: every copy is in point 3's ball. Recall: only point 3 is in a (zero-radius) generated ball.
    assert values["precision"] == 1.0
    assert values["recall"] == pytest.approx(1 / 10)
    # Strictly inside: only point 3's ball holds the copies (points 2 and 4 are at 1, not < 1).
    assert values["coverage"] == pytest.approx(1 / 10)
    assert values["density"] == pytest.approx(6 * 1 / (2 * 6))


def naive(real: Tensor, fake: Tensor, k_pr: int, k_dc: int) -> dict[str, float]:
    """Every pairwise distance at once, each definition written out with loops."""

    def dist(a: Tensor, b: Tensor) -> Tensor:
        return ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1).sqrt()

    def radii(x: Tensor, k: int) -> list[float]:
        d = dist(x, x)
        return [sorted(d[i].tolist())[k] for i in range(len(x))]  # sorted()[0] is the point itself

    d_fr = dist(fake, real)
    r_pr, f_pr, r_dc = radii(real, k_pr), radii(fake, k_pr), radii(real, k_dc)
    n, m = len(real), len(fake)
    precision = sum(any(d_fr[j, i] <= r_pr[i] for i in range(n)) for j in range(m)) / m
    recall = sum(any(d_fr[j, i] <= f_pr[j] for j in range(m)) for i in range(n)) / n
    density = sum(bool(d_fr[j, i] < r_dc[i]) for j in range(m) for i in range(n)) / (k_dc * m)
    coverage = sum(any(d_fr[j, i] < r_dc[i] for j in range(m)) for i in range(n)) / n
    return {"precision": precision, "recall": recall, "density": density, "coverage": coverage}


@pytest.mark.parametrize("chunk", [1, 37, 10**6])  # one row per block, a few rows, everything at once
def test_blocks_match_a_naive_reference(chunk):
    g = torch.Generator().manual_seed(1)
    real = torch.randn(60, 5, generator=g, dtype=torch.float64)
    fake = 1.3 * torch.randn(45, 5, generator=g, dtype=torch.float64) + 0.5
    expected = naive(real, fake, 3, 5)
    got = {**precision_recall(real, fake, 3, chunk=chunk), **density_coverage(real, fake, 5, chunk=chunk)}
    assert got == pytest.approx(expected, abs=1e-12)
    assert 0.1 < expected["precision"] < 1 and 0.1 < expected["recall"] < 1  # neither trivial


def test_given_radii_are_used_and_radii_of_several_k_at_once():
    g = torch.Generator().manual_seed(2)
    real, fake = torch.randn(30, 4, generator=g), torch.randn(20, 4, generator=g)
    both = knn_radii(real, (3, 5))
    assert both.shape == (2, 30)
    torch.testing.assert_close(both[0], knn_radii(real, 3))
    torch.testing.assert_close(both[1], knn_radii(real, 5))
    assert density_coverage(real, fake, 5, real_radii=both[1]) == density_coverage(real, fake, 5)
    assert precision_recall(real, fake, 3, real_radii=both[0]) == precision_recall(real, fake, 3)
    assert fraction_inside(fake, real, torch.zeros(30)) == 0.0
    assert fraction_inside(fake, real, torch.full((30,), 1e9)) == 1.0


def test_distance_blocks_stay_within_the_chunk(monkeypatch):
    a, b = torch.randn(1000, 8), torch.randn(300, 8)
    blocks = list(distance_blocks(a, b, chunk=300 * 64))
    assert all(block.numel() <= 300 * 64 for block in blocks) and len(blocks) == 16
    torch.testing.assert_close(torch.cat(blocks), torch.cdist(a, b))
    # The metrics never ask cdist for more than a block: 10k x 10k would be 4e8 elements.
    sizes = []
    real_cdist = torch.cdist
    monkeypatch.setattr(torch, "cdist", lambda x, y: sizes.append(len(x) * len(y)) or real_cdist(x, y))
    precision_recall(a[:200], b[:150], 3, chunk=500)
    density_coverage(a[:200], b[:150], 5, chunk=500)
    assert sizes and max(sizes) <= 500


def test_k_must_leave_neighbours_in_both_sets():
    real, fake = torch.randn(10, 2), torch.randn(4, 2)
    with pytest.raises(ConfigError, match=r"pr_k=4: .*\(10 real, 4 generated\)"):
        precision_recall(real, fake, k=4)
    with pytest.raises(ConfigError, match="dc_k=0"):
        density_coverage(real, fake, k=0)
    with pytest.raises(ConfigError, match="1 <= k < the number of points"):
        knn_radii(fake, 4)
