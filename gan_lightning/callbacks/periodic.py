"""The schedule that evaluation callbacks share: every N generator steps, at the end, optionally at the
start."""

from __future__ import annotations

from typing import Any

import pytorch_lightning as pl


class PeriodicEvaluation(pl.Callback):
    """Calls :meth:`run` every ``every_n_steps`` generator steps (0: never in between), once at the end
    of training unless the last step was just evaluated, and at step 0 when ``at_start``. Subclasses set
    ``every_n_steps`` and ``at_start``, and implement :meth:`run` (which records ``last_step``)."""

    every_n_steps: int = 0
    at_start: bool = False
    last_step: int = -1

    def run(self, trainer: pl.Trainer, pl_module: pl.LightningModule, step: int) -> Any:
        raise NotImplementedError

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.at_start and pl_module.steps_done == 0:
            self.run(trainer, pl_module, 0)

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, *args: Any) -> None:
        step = pl_module.steps_done
        if self.every_n_steps > 0 and step % self.every_n_steps == 0:
            self.run(trainer, pl_module, step)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        step = pl_module.steps_done
        if step != self.last_step:
            self.run(trainer, pl_module, step)
