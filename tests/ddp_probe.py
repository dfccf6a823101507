"""A callback that each DDP rank uses to dump what it ended with, for tests/test_ddp.py."""

from __future__ import annotations

from pathlib import Path

import pytorch_lightning as pl
import torch


class DumpRankState(pl.Callback):
    """At the end of training, write ``<out>/rank<N>.pt``: weights, metric history and fresh noise."""

    def __init__(self, out: str) -> None:
        self.out = Path(out)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        kinds = ("GANMetrics", "TranslationMetrics")
        metrics = next((cb for cb in trainer.callbacks if type(cb).__name__ in kinds), None)
        noise = pl_module.training_rng()
        self.out.mkdir(parents=True, exist_ok=True)
        torch.save(
            {
                "state_dict": {k: v.cpu() for k, v in pl_module.state_dict().items()},
                "history": metrics.history if metrics is not None else None,
                "noise": torch.randn(4, generator=noise, device=noise.device).cpu(),
                "world_size": trainer.world_size,
            },
            self.out / f"rank{trainer.global_rank}.pt",
        )
