"""Phases as data: when each runs, and the optimizer steps a generator-step budget takes."""

from __future__ import annotations

import pytest

from gan_lightning.core import Phase, optimizer_steps_for


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
