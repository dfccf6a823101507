"""Lightning's ModelCheckpoint, adapted to GAN training: periods and file names in generator steps,
and a final ``last.ckpt`` whenever training stops between two periodic saves."""

from __future__ import annotations

from typing import Any

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import ModelCheckpoint


class GANCheckpoint(ModelCheckpoint):
    """``ModelCheckpoint`` that saves every ``every_n_steps`` generator steps, whose ``filename`` may use
    ``{generator_step}``, and which always leaves the final state in ``last.ckpt`` (``save_last``).

    Lightning's own ``every_n_train_steps`` counts optimizer steps (several per generator step, and
    not always the same number with lazy regularizers); it still works for configs that use it.
    """

    def __init__(self, *args: Any, every_n_steps: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.every_n_steps = every_n_steps

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, *args: Any) -> None:
        super().on_train_batch_end(trainer, pl_module, *args)
        step = pl_module.steps_done
        if (
            self.every_n_steps < 1
            or step % self.every_n_steps
            or self._should_skip_saving_checkpoint(trainer)
        ):
            return
        candidates = self._monitor_candidates(trainer)
        self._save_topk_checkpoint(trainer, candidates)
        self._save_last_checkpoint(trainer, candidates)

    def _monitor_candidates(self, trainer: pl.Trainer) -> dict[str, Any]:
        candidates = super()._monitor_candidates(trainer)
        candidates["generator_step"] = torch.tensor(trainer.lightning_module.steps_done)
        return candidates

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.save_last and self._last_global_step_saved != trainer.global_step:
            self._save_last_checkpoint(trainer, self._monitor_candidates(trainer))
        super().on_train_end(trainer, pl_module)
