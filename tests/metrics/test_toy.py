"""Mode coverage of 2-D mixtures: high-quality fraction, covered modes, per-mode counts."""

from __future__ import annotations

import math

import pytest
import torch

from gan_lightning.data.gaussian_mixture import DEFAULT_STD, mixture_centres
from gan_lightning.metrics.toy import mode_coverage

RING = mixture_centres("ring")
STD = DEFAULT_STD["ring"]


def test_points_on_every_centre_cover_all_modes():
    samples = RING.repeat(10, 1)  # 10 points exactly on each of the 8 centres
    result = mode_coverage(samples, RING, STD)
    assert result == {
        "modes_covered": 8,
        "modes_total": 8,
        "high_quality": 1.0,
        "samples_per_mode": [10] * 8,
    }


def test_points_near_the_centres_within_three_sigma_count():
    noise = torch.tensor([[2.9 * STD, 0.0], [0.0, -2.9 * STD], [2.0 * STD, 2.0 * STD]])
    samples = (RING[:, None, :] + noise[None]).reshape(-1, 2)
    result = mode_coverage(samples, RING, STD)
    assert (result["modes_covered"], result["high_quality"]) == (8, 1.0)
    assert result["samples_per_mode"] == [3] * 8


def test_all_points_on_one_mode_cover_one():
    jitter = 0.5 * STD * torch.randn(50, 2, generator=torch.Generator().manual_seed(0))
    samples = RING[2] + jitter
    result = mode_coverage(samples, RING, STD)
    assert result["modes_covered"] == 1
    assert result["high_quality"] == 1.0
    assert result["samples_per_mode"] == [0, 0, 50, 0, 0, 0, 0, 0]


def test_points_off_the_modes_are_not_high_quality():
    angles = torch.linspace(0, 2 * math.pi, 40)
    samples = 0.5 * torch.stack([angles.cos(), angles.sin()], dim=1)  # radius 0.5: between centre and ring
    result = mode_coverage(samples, RING, STD)
    assert result["high_quality"] == 0.0
    assert result["modes_covered"] == 0
    assert result["samples_per_mode"] == [0] * 8


def test_mixed_set_gives_the_exact_fraction():
    good = RING[[0, 0, 1, 5]]  # 4 on-mode points on 3 modes
    bad = torch.tensor([[0.0, 0.0], [1.0 + 3.5 * STD, 0.0], [0.5, 0.5], [3.0, 3.0], [-0.7, 0.0], [0.0, 1.2]])
    result = mode_coverage(torch.cat([good, bad]), RING, STD)
    assert result["high_quality"] == pytest.approx(4 / 10)
    assert result["modes_covered"] == 3
    assert result["samples_per_mode"] == [2, 1, 0, 0, 0, 1, 0, 0]


def test_min_per_mode_threshold():
    samples = torch.cat([RING[0].repeat(5, 1), RING[1].repeat(2, 1), RING[2].repeat(1, 1)])
    covered = {k: mode_coverage(samples, RING, STD, min_per_mode=k)["modes_covered"] for k in (1, 2, 3, 5, 6)}
    assert covered == {1: 3, 2: 2, 3: 1, 5: 1, 6: 0}


def test_grid_of_25_modes():
    grid = mixture_centres("grid")
    std = DEFAULT_STD["grid"]
    assert grid.shape == (25, 2)
    result = mode_coverage(grid + 0.1 * std, grid, std)
    assert (result["modes_covered"], result["modes_total"], result["high_quality"]) == (25, 25, 1.0)
    half = grid[::2]  # 13 of the 25 modes, plus points halfway between neighbours
    between = torch.tensor([[1.0, 0.0], [-3.0, 2.0]])
    result = mode_coverage(torch.cat([half, between]), grid, std)
    assert result["modes_covered"] == 13
    assert result["high_quality"] == pytest.approx(13 / 15)


def test_no_samples():
    result = mode_coverage(torch.empty(0, 2), RING, STD)
    assert (result["modes_covered"], result["high_quality"]) == (0, 0.0)
