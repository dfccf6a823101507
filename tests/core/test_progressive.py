"""The progressive-growing schedule: level and fade-in alpha per generator step, and its checks."""

from __future__ import annotations

import pytest

from gan_lightning.core.progressive import ProgressiveSchedule
from gan_lightning.errors import ConfigError


def test_levels_and_alpha_over_the_run():
    schedule = ProgressiveSchedule(sides=(7, 14, 28), stable_steps=100, fade_steps=50)
    expected = {0: (0, 1.0), 99: (0, 1.0), 100: (1, 0.0), 125: (1, 0.5), 150: (1, 1.0), 249: (1, 1.0)}
    expected |= {250: (2, 0.0), 260: (2, 0.2), 300: (2, 1.0), 10**6: (2, 1.0)}
    for step, (level, alpha) in expected.items():
        assert schedule.at(step) == (level, pytest.approx(alpha)), step
    assert schedule.full_growth_step == 300 and schedule.at(299)[1] < 1.0


def test_no_fade_switches_at_once():
    schedule = ProgressiveSchedule(sides=(4, 8, 16), stable_steps=100, fade_steps=0)
    assert schedule.at(99) == (0, 1.0) and schedule.at(100) == (1, 1.0) and schedule.at(200) == (2, 1.0)


def test_a_run_that_stops_before_the_final_size_is_refused():
    schedule = ProgressiveSchedule(sides=(4, 8, 16, 32, 64), stable_steps=1000, fade_steps=1000)
    schedule.check_reaches_the_end(8000)
    schedule.check_reaches_the_end(-1)  # no limit
    with pytest.raises(ConfigError, match="64 px only at generator step 8000"):
        schedule.check_reaches_the_end(7999)


@pytest.mark.parametrize("key", ["stable_steps", "fade_steps"])
def test_negative_lengths_are_refused(key):
    with pytest.raises(ConfigError, match=key):
        ProgressiveSchedule(sides=(4, 8), **{"stable_steps": 10, "fade_steps": 10, key: -1})


# --- a batch size per resolution ----------------------------------------------------------------------


def test_batch_size_in_force_at_each_resolution():
    """7 -> 14 -> 28 px, 3 stable and 2 fade-in steps: 7 px at steps 0-2, the fade-in into 14 px at 3-4
    (already 14's size), 14 px at 5-7, the fade-in into 28 px at 8-9, then 28 px (not listed: default)."""
    schedule = ProgressiveSchedule(
        sides=(7, 14, 28), stable_steps=3, fade_steps=2, batch_sizes={7: 32, 14: 16}
    )
    plan = schedule.batch_plan(default=8)
    by_hand = [32, 32, 32, 16, 16, 16, 16, 16, 8, 8, 8, 8]
    assert [plan.at(step) for step in range(12)] == by_hand
    assert plan.at(10**6) == 8
    assert [plan.samples_before(step) for step in (0, 1, 3, 5, 8, 10, 12)] == [0, 32, 96, 128, 176, 192, 208]
    assert plan.names == (
        "model.progressive.batch_sizes[7]",
        "model.progressive.batch_sizes[14]",
        "data.batch_size",
    )
    assert [schedule.first_step(level) for level in range(3)] == [0, 3, 8]


@pytest.mark.parametrize(("stable", "fade"), [(3, 2), (0, 5), (4, 0), (0, 0), (1, 1)])
def test_batch_plan_follows_the_level_at_every_step(stable, fade):
    sizes = {4: 64, 8: 48, 16: 32, 32: 16}
    schedule = ProgressiveSchedule(
        sides=(4, 8, 16, 32, 64), stable_steps=stable, fade_steps=fade, batch_sizes=sizes
    )
    plan = schedule.batch_plan(default=5)
    total = 0
    for step in range(5 * (stable + fade) + 3):
        assert plan.samples_before(step) == total
        side = schedule.sides[schedule.at(step)[0]]
        assert plan.at(step) == sizes.get(side, 5), step
        total += plan.at(step)


def test_no_batch_sizes_means_no_plan_and_string_sides_are_read():
    assert ProgressiveSchedule(sides=(4, 8), stable_steps=1, fade_steps=1).batch_plan(16) is None
    assert (
        ProgressiveSchedule(sides=(4, 8), stable_steps=1, fade_steps=1, batch_sizes={}).batch_plan(16) is None
    )
    schedule = ProgressiveSchedule(sides=(4, 8), stable_steps=1, fade_steps=1, batch_sizes={"8": 4})
    assert schedule.batch_sizes == {8: 4} and schedule.batch_plan(16).sizes == (16, 4)


@pytest.mark.parametrize(
    ("batch_sizes", "match"),
    [
        ({7: 8, 32: 4, 5: 2}, r"sides 5, 32 that the networks do not have: they grow through 7, 14, 28 px"),
        ({14: 0}, r"batch_sizes\[14\] must be a positive whole number of samples, got 0"),
        ({7: -4}, r"batch_sizes\[7\] must be a positive whole number"),
        ({7: 2.5}, r"batch_sizes\[7\] must be a positive whole number"),
        ({"big": 8}, r"the keys are sides in pixels \(7, 14, 28\), got 'big'"),
        ([8, 4], r"maps sides to batch sizes"),
    ],
)
def test_bad_batch_sizes_say_what_is_wrong(batch_sizes, match):
    with pytest.raises(ConfigError, match=match):
        ProgressiveSchedule(sides=(7, 14, 28), stable_steps=1, fade_steps=1, batch_sizes=batch_sizes)
