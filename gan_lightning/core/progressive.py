"""Progressive growing (Karras et al. 2018) as data: which resolution trains at which generator step.

Training starts at the smallest side of the networks' plan (level 0). Each next level is faded in over
``fade_steps`` generator steps (alpha 0 -> 1, the new layers blended with the upsampled output of the
level below) and then trained alone for ``stable_steps``. The schedule is a pure function of the
generator step, so a run killed in the middle of a fade-in resumes at exactly the same level and alpha.
Networks that grow expose ``num_levels``, ``sides`` and ``set_progress(level, alpha)``
(:mod:`gan_lightning.networks.stylegan`).

The batch size may change with the resolution, as in the papers (ProGAN's ``minibatch_dict``): with
``batch_sizes`` (side -> size) each level trains with the size of its side, its fade-in included (the
minibatch follows the resolution being faded in, as ProGAN does); sides not listed keep the default
(``data.batch_size``). :meth:`ProgressiveSchedule.batch_plan` gives the size of every generator step
(:class:`~gan_lightning.data.order.BatchSizes`), which the training loader follows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gan_lightning.data.order import BatchSizes
from gan_lightning.errors import ConfigError


@dataclass(frozen=True)
class ProgressiveSchedule:
    """``stable_steps`` at each level (level 0 included), ``fade_steps`` of fade-in before each level
    above 0; ``sides`` are the networks' resolutions, lowest first; ``batch_sizes``: ``None`` or
    side -> batch size (module docstring); keys may be strings of digits, as command lines give them."""

    sides: tuple[int, ...]
    stable_steps: int
    fade_steps: int
    batch_sizes: Mapping[int, int] | None = None

    def __post_init__(self) -> None:
        for key in ("stable_steps", "fade_steps"):
            value = getattr(self, key)
            if int(value) != value or value < 0:
                raise ConfigError(
                    f"model.progressive.{key} must be a whole number of generator steps >= 0, got {value}."
                )
        object.__setattr__(self, "batch_sizes", _check_batch_sizes(self.batch_sizes, self.sides))

    @property
    def num_levels(self) -> int:
        return len(self.sides)

    @property
    def full_growth_step(self) -> int:
        """The first generator step at the final resolution with alpha = 1."""
        return (self.num_levels - 1) * (self.fade_steps + self.stable_steps)

    def first_step(self, level: int) -> int:
        """The first generator step of ``level`` (of its fade-in, above level 0)."""
        return level * self.stable_steps + max(level - 1, 0) * self.fade_steps

    def batch_size(self, level: int, default: int) -> int:
        """The batch size at ``level`` (its fade-in included): ``batch_sizes`` of its side, or ``default``."""
        return (self.batch_sizes or {}).get(self.sides[level], default)

    def batch_plan(self, default: int) -> BatchSizes | None:
        """The batch size of every generator step, ``default`` (``data.batch_size``) at the sides that
        ``batch_sizes`` does not list; ``None`` without ``batch_sizes`` (``default`` throughout)."""
        if not self.batch_sizes:
            return None
        levels = range(self.num_levels)
        names = [
            f"model.progressive.batch_sizes[{side}]" if side in self.batch_sizes else "data.batch_size"
            for side in self.sides
        ]
        return BatchSizes(
            starts=tuple(self.first_step(level) for level in levels),
            sizes=tuple(self.batch_size(level, default) for level in levels),
            names=tuple(names),
        )

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


def _check_batch_sizes(batch_sizes: Mapping | None, sides: tuple[int, ...]) -> dict[int, int] | None:
    """``batch_sizes`` with integer sides, or a ConfigError that says what is wrong with it."""
    if not batch_sizes:
        return None
    if not isinstance(batch_sizes, Mapping):
        raise ConfigError(
            "model.progressive.batch_sizes maps sides to batch sizes, e.g. {4: 64, 8: 64, 16: 32, 32: 16}; "
            f"got {batch_sizes!r}."
        )
    checked: dict[int, int] = {}
    for side, size in batch_sizes.items():
        if not str(side).isdigit():
            raise ConfigError(
                "model.progressive.batch_sizes: the keys are sides in pixels "
                f"({', '.join(map(str, sides))}), got {side!r}."
            )
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ConfigError(
                f"model.progressive.batch_sizes[{side}] must be a positive whole number of samples, "
                f"got {size!r}."
            )
        checked[int(side)] = size
    unknown = sorted(set(checked) - set(sides))
    if unknown:
        raise ConfigError(
            f"model.progressive.batch_sizes has sides {', '.join(map(str, unknown))} that the networks do "
            f"not have: they grow through {', '.join(map(str, sides))} px."
        )
    return checked
