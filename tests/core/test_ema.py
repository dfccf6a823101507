"""The generator EMA: the half-life formula, its ramp-up, averaged weights and copied buffers."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gan_lightning.core import NetworkEMA


def test_beta_is_the_half_life_formula() -> None:
    ema = NetworkEMA({"g": nn.Linear(2, 2)}, half_life_kimg=1.0)
    assert ema.beta(500, 10**6) == pytest.approx(0.5 ** (500 / 1000))
    assert ema.beta(1000, 10**6) == pytest.approx(0.5)  # one half-life per 1,000 images


def test_rampup_shortens_the_half_life_early_on() -> None:
    ema = NetworkEMA({"g": nn.Linear(2, 2)}, half_life_kimg=10.0, rampup=0.05)
    assert ema.beta(64, 1000) == pytest.approx(0.5 ** (64 / 50))  # 5% of 1,000 images
    assert ema.beta(64, 10**7) == pytest.approx(0.5 ** (64 / 10_000))  # capped by the half-life


def test_update_moves_weights_by_one_minus_beta() -> None:
    torch.manual_seed(0)
    trained = nn.Linear(3, 2)
    ema = NetworkEMA({"g": trained}, half_life_kimg=0.1)
    before = ema.networks["g"].weight.clone()
    with torch.no_grad():
        trained.weight.add_(1.0)
    beta = ema.update({"g": trained}, batch_images=100, images_seen=100)
    assert beta == pytest.approx(0.5)
    torch.testing.assert_close(ema.networks["g"].weight, beta * before + (1 - beta) * trained.weight)
    assert not ema.networks["g"].weight.requires_grad


def test_batchnorm_buffers_are_copied_not_averaged() -> None:
    trained = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4))
    ema = NetworkEMA({"g": trained}, half_life_kimg=1.0)
    trained.train()
    trained(torch.randn(16, 4) * 3 + 5)  # moves the running statistics
    ema.update({"g": trained}, batch_images=16, images_seen=16)
    bn_avg, bn = ema.networks["g"][1], trained[1]
    assert torch.equal(bn_avg.running_mean, bn.running_mean)
    assert torch.equal(bn_avg.running_var, bn.running_var)
    assert bn_avg.num_batches_tracked == bn.num_batches_tracked == 1


def test_reset_makes_the_average_equal_to_the_network() -> None:
    trained = nn.Linear(3, 3)
    ema = NetworkEMA({"g": trained}, half_life_kimg=1.0)
    with torch.no_grad():
        trained.weight.mul_(2)
    ema.reset_to({"g": trained})
    assert torch.equal(ema.networks["g"].weight, trained.weight)
