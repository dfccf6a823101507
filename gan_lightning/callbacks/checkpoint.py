"""Lightning's ModelCheckpoint, adapted to GAN training: files named by generator step, and a final
``last.ckpt`` whenever training stops between two periodic saves."""

from __future__ import annotations

from typing import Any

import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import ModelCheckpoint


class GANCheckpoint(ModelCheckpoint):
    """``ModelCheckpoint`` whose ``filename`` may use ``{generator_step}`` and which always leaves the
    final state in ``last.ckpt`` (``save_last``). Periods still count Lightning's optimizer steps:
    configure them with ``${optimizer_steps:N}`` (N generator steps)."""

    def _monitor_candidates(self, trainer: pl.Trainer) -> dict[str, Any]:
        candidates = super()._monitor_candidates(trainer)
        candidates["generator_step"] = torch.tensor(int(trainer.lightning_module.generator_step))
        return candidates

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.save_last and self._last_global_step_saved != trainer.global_step:
            self._save_last_checkpoint(trainer, self._monitor_candidates(trainer))
        super().on_train_end(trainer, pl_module)
