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
