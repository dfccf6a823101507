"""Phases as data: when each runs, and the optimizer steps a generator-step budget takes."""

from __future__ import annotations

import pytest

from gan_lightning.core import Phase, optimizer_steps_for
from gan_lightning.core.phases import lazy_interval, lazy_optimizer_options


def phase(name: str, every: int = 1, repeats: int = 1) -> Phase:
    return Phase(name, "discriminator", lambda batch, noise: None, f"train/{name}", every, repeats)


def test_a_lazy_phase_runs_on_multiples_of_its_interval() -> None:
    lazy = phase("r1", every=4)
    assert [s for s in range(10) if lazy.runs_at(s)] == [0, 4, 8]


@pytest.mark.parametrize(
    ("steps", "expected"), [(0, 0), (1, 2 + 1 + 1), (10, 20 + 3 + 10), (16, 32 + 4 + 16)]
)
def test_optimizer_steps_count_every_phase(steps: int, expected: int) -> None:
    phases = [phase("discriminator", repeats=2), phase("r1", every=4), phase("generator")]
    assert optimizer_steps_for(phases, steps) == expected
    # the same count as running the phases step by step
    assert sum(p.repeats for s in range(steps) for p in phases if p.runs_at(s)) == expected


def test_no_limit_stays_no_limit() -> None:
    assert optimizer_steps_for([phase("discriminator"), phase("generator")], -1) == -1


def test_lazy_interval_of_each_group() -> None:
    phases = [phase("discriminator"), phase("r1", every=16), Phase("path_length", "generator", None, "x", 4)]
    assert lazy_interval(phases, "discriminator") == 16
    assert lazy_interval(phases, "generator") == 4
    assert lazy_interval([phase("discriminator")], "discriminator") is None


def test_lazy_optimizer_options_by_hand() -> None:
    # StyleGAN2's D with R1 every 16 steps: c = 16 / 17, lr 0.0025 c, betas (0 ** c, 0.99 ** c)
    options, lr = lazy_optimizer_options({"betas": [0.0, 0.99], "eps": 1e-8}, 0.0025, 16)
    assert lr == pytest.approx(0.0025 * 16 / 17)
    assert options["betas"] == pytest.approx([0.0, 0.99 ** (16 / 17)])
    assert options["eps"] == 1e-8
    # SGD has no betas: only the learning rate is scaled
    options, lr = lazy_optimizer_options({"momentum": 0.9}, 0.1, 4)
    assert (options, lr) == ({"momentum": 0.9}, pytest.approx(0.08))
