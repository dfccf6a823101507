"""A callback that records the size of every training batch by generator step (tests of
``model.progressive.batch_sizes``): one ``step size`` line per batch in ``batch_sizes.txt`` of the run
directory, appended at once, so that a killed run leaves its lines too."""

from __future__ import annotations

from pathlib import Path

import pytorch_lightning as pl

FILE = "batch_sizes.txt"


class RecordBatchSizes(pl.Callback):
    def on_train_batch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch, *args) -> None:
        with (Path(trainer.default_root_dir) / FILE).open("a") as file:
            file.write(f"{pl_module.steps_done} {batch[0].shape[0]}\n")


def recorded(run_dir: Path) -> dict[int, int]:
    """Generator step -> batch size, as :class:`RecordBatchSizes` wrote them in ``run_dir`` (a resumed
    run's lines come after those of the killed one, and win)."""
    lines = (line.split() for line in (Path(run_dir) / FILE).read_text().splitlines())
    return {int(step): int(size) for step, size in lines}
