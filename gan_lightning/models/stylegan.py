"""StyleGAN v1 (Karras et al. 2019) with progressive growing (Karras et al. 2018).

The style-based GAN's step (R1 on real images, style mixing) on networks that grow: training starts at
the smallest side, and each next resolution is faded in over ``fade_steps`` generator steps, then trained
for ``stable_steps`` (:class:`~gan_lightning.core.progressive.ProgressiveSchedule`). Before the phases of
each generator step the resolution and fade-in are set on G, D and the EMA generator, and logged as
``train/resolution`` and ``train/fade_alpha``.

``progressive.batch_sizes`` (side -> batch size, e.g. ``{4: 64, 8: 64, 16: 32, 32: 16}``) shrinks the
batch as the images grow, as the papers do; a fade-in into side ``s`` already uses the size of ``s``.
The training loader of the datamodule follows it step by step
(:meth:`~gan_lightning.core.AdversarialModule.training_batch_sizes`), the EMA half-life and ADA count
the images actually seen, and the size of each batch is logged as ``train/batch_size``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import Tensor

from gan_lightning import log_names
from gan_lightning.core.progressive import ProgressiveSchedule
from gan_lightning.data.order import BatchSizes
from gan_lightning.errors import ConfigError
from gan_lightning.models.style_based import StyleBasedGAN


class StyleGAN(StyleBasedGAN):
    """A :class:`~gan_lightning.models.style_based.StyleBasedGAN` on growing networks.

    Args:
        progressive: ``None`` (no growing: a plain StyleGAN at the final size) or ``{"stable_steps": S,
            "fade_steps": F, "total_steps": T, "batch_sizes": B}``: S generator steps at each resolution,
            F steps of fade-in before each new one; T (``trainer.max_steps``) must reach the last;
            B (optional): side -> batch size, ``data.batch_size`` at the sides it does not list.
        **options: those of :class:`~gan_lightning.models.style_based.StyleBasedGAN`.
    """

    architectures: ClassVar[tuple[str, ...]] = ("stylegan",)

    def __init__(self, *args: Any, progressive: dict[str, int] | None = None, **options: Any) -> None:
        super().__init__(*args, **options)

    def build_extras(self) -> None:
        self.progression = _schedule(self.hparams.progressive, tuple(self.generator.sides))

    def varying_batch_sizes(self, default: int) -> BatchSizes | None:
        """One batch size per resolution (``model.progressive.batch_sizes``), ``default`` elsewhere."""
        return None if self.progression is None else self.progression.batch_plan(default)

    def before_phases(self, batch: tuple[Tensor, ...]) -> dict[str, Tensor]:
        if self.progression is None:
            return {}
        level, alpha = self.progression.at(self.steps_done)
        networks = [self.generator, self.discriminator]
        if self.ema is not None:
            networks.append(self.ema.networks["generator"])
        for network in networks:
            network.set_progress(level, alpha)
        logs = {
            log_names.RESOLUTION: torch.tensor(float(self.progression.sides[level])),
            log_names.FADE_ALPHA: torch.tensor(alpha),
        }
        if self.progression.batch_sizes:
            logs[log_names.BATCH_SIZE] = torch.tensor(float(batch[0].size(0)))
        return logs


def _schedule(progressive: dict[str, Any] | None, sides: tuple[int, ...]) -> ProgressiveSchedule | None:
    if not progressive:
        return None
    options = dict(progressive)
    total = options.pop("total_steps", None)
    unknown = set(options) - {"stable_steps", "fade_steps", "batch_sizes"}
    if unknown:
        raise ConfigError(
            "model.progressive takes stable_steps, fade_steps, total_steps and batch_sizes; got also "
            f"{sorted(unknown)}."
        )
    missing = [key for key in ("stable_steps", "fade_steps") if options.get(key) is None]
    if missing:
        subject = "Progressive growing"
        if options.get("batch_sizes"):  # e.g. model.progressive=null +model.progressive.batch_sizes=...
            subject = "model.progressive.batch_sizes, a batch size per resolution of progressive growing,"
        raise ConfigError(
            f"{subject} needs model.progressive.stable_steps and fade_steps (missing: {', '.join(missing)}). "
            "Set them, or model.progressive=null for no growing (every batch then has data.batch_size)."
        )
    schedule = ProgressiveSchedule(sides, **options)
    schedule.check_reaches_the_end(total)
    return schedule
