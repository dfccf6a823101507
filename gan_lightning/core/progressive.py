"""Progressive growing (Karras et al. 2018) as data: which resolution trains at which generator step.

Training starts at the smallest side of the networks' plan (level 0). Each next level is faded in over
``fade_steps`` generator steps (alpha 0 -> 1, the new layers blended with the upsampled output of the
level below) and then trained alone for ``stable_steps``. The schedule is a pure function of the
generator step, so a run killed in the middle of a fade-in resumes at exactly the same level and alpha.
Networks that grow expose ``num_levels``, ``sides`` and ``set_progress(level, alpha)``
(:mod:`gan_lightning.networks.stylegan`).
"""

from __future__ import annotations

from dataclasses import dataclass

from gan_lightning.errors import ConfigError


@dataclass(frozen=True)
class ProgressiveSchedule:
    """``stable_steps`` at each level (level 0 included), ``fade_steps`` of fade-in before each level
    above 0; ``sides`` are the networks' resolutions, lowest first."""

    sides: tuple[int, ...]
    stable_steps: int
    fade_steps: int

    def __post_init__(self) -> None:
        for key in ("stable_steps", "fade_steps"):
            value = getattr(self, key)
            if int(value) != value or value < 0:
                raise ConfigError(
                    f"model.progressive.{key} must be a whole number of generator steps >= 0, got {value}."
                )

    @property
    def num_levels(self) -> int:
        return len(self.sides)

    @property
    def full_growth_step(self) -> int:
        """The first generator step at the final resolution with alpha = 1."""
        return (self.num_levels - 1) * (self.fade_steps + self.stable_steps)

    def at(self, step: int) -> tuple[int, float]:
        """``(level, alpha)`` at generator step ``step``."""
        seen = step - self.stable_steps
        level = 0
        while seen >= 0 and level < self.num_levels - 1:
            level += 1
            if seen < self.fade_steps:
                return level, seen / self.fade_steps
            seen -= self.fade_steps + self.stable_steps
        return level, 1.0

    def check_reaches_the_end(self, total_steps: int | None) -> None:
        """Refuse a run that would stop before the final resolution is fully faded in."""
        if total_steps is None or total_steps < 0:
            return
        if total_steps < self.full_growth_step:
            raise ConfigError(
                f"The progressive schedule reaches the data's {self.sides[-1]} px only at generator step "
                f"{self.full_growth_step} ({self.num_levels} levels {', '.join(map(str, self.sides))} px; "
                f"{self.stable_steps} stable + {self.fade_steps} fade-in steps per level), but "
                f"trainer.max_steps={total_steps}. Shorten model.progressive.stable_steps / fade_steps or "
                "train longer."
            )
