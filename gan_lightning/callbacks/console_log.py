"""Tutorial-style console lines, for users coming from the PyTorch DCGAN tutorial::

    [0/5][50/937] Loss_D: 0.8731 Loss_G: 2.1042 D(x): 0.7012 D(G(z)): 0.2315 / 0.1420

epoch/epochs and batch/batches count from 0, as in the tutorial; the two D(G(z)) values are before
and after the discriminator's update. A value the model does not log shows as ``-``.
"""

from __future__ import annotations

from typing import Any

import pytorch_lightning as pl
from pytorch_lightning.utilities import rank_zero_only

from gan_lightning.errors import ConfigError
from gan_lightning.log_names import D_FAKE_AFTER_D_STEP, D_FAKE_BEFORE_D_STEP, D_LOSS, D_REAL, G_LOSS


def _value(metrics: dict[str, Any], name: str) -> str:
    value = metrics.get(name)
    return "-" if value is None else f"{float(value):.4f}"


def console_line(
    epoch: int, epochs: int | None, batch: int, batches: int | None, metrics: dict[str, Any]
) -> str:
    """``[epoch/epochs][batch/batches] Loss_D: ... D(G(z)): before / after`` (``?`` for unknown totals)."""
    total_epochs = "?" if epochs is None else str(epochs)
    total_batches = "?" if batches is None else str(batches)
    return (
        f"[{epoch}/{total_epochs}][{batch}/{total_batches}] "
        f"Loss_D: {_value(metrics, D_LOSS)} Loss_G: {_value(metrics, G_LOSS)} "
        f"D(x): {_value(metrics, D_REAL)} "
        f"D(G(z)): {_value(metrics, D_FAKE_BEFORE_D_STEP)} / {_value(metrics, D_FAKE_AFTER_D_STEP)}"
    )


def _batches_per_epoch(trainer: pl.Trainer) -> int | None:
    batches = trainer.num_training_batches
    return None if batches == float("inf") else int(batches)


def _total_epochs(trainer: pl.Trainer, pl_module: pl.LightningModule, batches: int | None) -> int | None:
    """Epochs the run will take: ``max_epochs``, or fewer when ``max_steps`` stops it first."""
    epochs = trainer.max_epochs if trainer.max_epochs is not None and trainer.max_epochs >= 0 else None
    limit = trainer.max_steps  # optimizer steps; the model converts generator steps
    to_optimizer_steps = getattr(pl_module, "optimizer_steps_for", None)
    if limit is None or limit < 0 or not batches or to_optimizer_steps is None:
        return epochs
    low, high = 0, max(1, limit)  # the fewest generator steps that reach `limit` optimizer steps
    while low < high:
        mid = (low + high) // 2
        low, high = (mid + 1, high) if to_optimizer_steps(mid) < limit else (low, mid)
    by_steps = -(-low // batches)
    return by_steps if epochs is None else min(epochs, by_steps)


class ConsoleLog(pl.Callback):
    """Print one tutorial-style line every ``every_n_steps`` generator steps (and after the first).

    Args:
        every_n_steps: period in generator steps (``pl_module.generator_step``); 0 switches it off.
    """

    def __init__(self, every_n_steps: int = 50) -> None:
        if every_n_steps < 0:
            raise ConfigError(
                f"callbacks.console_log.every_n_steps must be >= 0 (0 = off), got {every_n_steps}."
            )
        self.every_n_steps = every_n_steps
        self._epochs: int | None = None

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.every_n_steps:
            self._epochs = _total_epochs(trainer, pl_module, _batches_per_epoch(trainer))

    def reads_logged_values_at(self, step: int) -> bool:
        """The generator steps whose logged values this prints (the module logs them for it)."""
        return bool(self.every_n_steps) and (step == 1 or step % self.every_n_steps == 0)

    @rank_zero_only
    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        if not self.reads_logged_values_at(pl_module.steps_done):
            return
        line = console_line(
            trainer.current_epoch,
            self._epochs,
            batch_idx,
            _batches_per_epoch(trainer),
            trainer.callback_metrics,
        )
        bar = trainer.progress_bar_callback
        if bar is not None and getattr(bar, "is_enabled", False):
            bar.print(line)  # above the progress bar instead of through it
        else:
            print(line, flush=True)
