"""StyleGAN v1 (Karras et al. 2019) with progressive growing (Karras et al. 2018).

The style-based GAN's step (R1 on real images, style mixing) on networks that grow: training starts at
the smallest side, and each next resolution is faded in over ``fade_steps`` generator steps, then trained
for ``stable_steps`` (:class:`~gan_lightning.core.progressive.ProgressiveSchedule`). Before the phases of
each generator step the resolution and fade-in are set on G, D and the EMA generator, and logged as
``train/resolution`` and ``train/fade_alpha``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import Tensor

from gan_lightning import log_names
from gan_lightning.core.progressive import ProgressiveSchedule
from gan_lightning.errors import ConfigError
from gan_lightning.models.style_based import StyleBasedGAN


class StyleGAN(StyleBasedGAN):
    """A :class:`~gan_lightning.models.style_based.StyleBasedGAN` on growing networks.

    Args:
        progressive: ``None`` (no growing: a plain StyleGAN at the final size) or ``{"stable_steps": S,
            "fade_steps": F, "total_steps": T}``: S generator steps at each resolution, F steps of
            fade-in before each new one; T (``trainer.max_steps``) must reach the last.
        **options: those of :class:`~gan_lightning.models.style_based.StyleBasedGAN`.
    """

    architectures: ClassVar[tuple[str, ...]] = ("stylegan",)

    def __init__(self, *args: Any, progressive: dict[str, int] | None = None, **options: Any) -> None:
        super().__init__(*args, **options)

    def build_extras(self) -> None:
        self.progression = _schedule(self.hparams.progressive, tuple(self.generator.sides))

    def before_phases(self, batch: tuple[Tensor, ...]) -> dict[str, Tensor]:
        if self.progression is None:
            return {}
        level, alpha = self.progression.at(self.steps_done)
        networks = [self.generator, self.discriminator]
        if self.ema is not None:
            networks.append(self.ema.networks["generator"])
        for network in networks:
            network.set_progress(level, alpha)
        return {
            log_names.RESOLUTION: torch.tensor(float(self.progression.sides[level])),
            log_names.FADE_ALPHA: torch.tensor(alpha),
        }


def _schedule(progressive: dict[str, int] | None, sides: tuple[int, ...]) -> ProgressiveSchedule | None:
    if not progressive:
        return None
    options = dict(progressive)
    total = options.pop("total_steps", None)
    unknown = set(options) - {"stable_steps", "fade_steps"}
    if unknown:
        raise ConfigError(
            f"model.progressive takes stable_steps, fade_steps and total_steps; got also {sorted(unknown)}."
        )
    schedule = ProgressiveSchedule(sides, **options)
    schedule.check_reaches_the_end(total)
    return schedule
