"""A callback that kills its own process with SIGKILL at a given generator step (tests/test_resume.py)."""

from __future__ import annotations

import os
import signal

import pytorch_lightning as pl


class KillAtStep(pl.Callback):
    """Simulate a crash: SIGKILL (no clean-up, no final checkpoint) after generator step ``step``."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, *args) -> None:
        if int(pl_module.generator_step) == self.step:
            os.kill(os.getpid(), signal.SIGKILL)
