"""What the benchmark scripts share: the model of a config, and the framework trained by a Lightning
Trainer (logger, checkpointing, progress bar off) on synthetic batches with timed windows.

Used by ``benchmarks/families.py`` and ``benchmarks/plain_loops.py``; not a script itself.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Iterable

import pytorch_lightning as pl
import torch
from hydra import compose, initialize_config_module
from torch import Tensor
from torch.utils.data import DataLoader, TensorDataset

from gan_lightning.config import DataFacts, build_model
from gan_lightning.core import AdversarialModule
from gan_lightning.steps import register_resolvers


def synchronize(device: str | torch.device) -> None:
    """Wait for the device's queued work (CUDA); nothing to wait for on a CPU."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


class WindowTimer(pl.Callback):
    """Wall time of consecutive windows of ``window`` batches after ``warmup`` batches; the device is
    synchronized at the window edges only, so queued work overlaps between steps as in training."""

    def __init__(self, warmup: int, window: int) -> None:
        self.warmup, self.window, self.marks = warmup, window, []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if batch_idx + 1 >= self.warmup and (batch_idx + 1 - self.warmup) % self.window == 0:
            synchronize(pl_module.device)
            self.marks.append(time.perf_counter())

    def seconds_per_batch(self) -> float:
        windows = [b - a for a, b in zip(self.marks[:-1], self.marks[1:], strict=True)]
        return statistics.median(windows) / self.window


def model_from_config(overrides: list[str], shape: tuple[int, int, int]) -> AdversarialModule:
    """The model of ``python -m gan_lightning <overrides>`` for data of ``shape`` (unlabelled; no
    learning-rate schedule)."""
    register_resolvers()
    with initialize_config_module(config_module="gan_lightning.conf", version_base="1.3"):
        cfg = compose(config_name="train", overrides=overrides)
    cfg.scheduler = None
    return build_model(cfg, DataFacts(tuple(shape)))


def synthetic_batch(
    shape: tuple[int, int, int], batch: int, two_domains: bool, device: str
) -> tuple[Tensor, Tensor]:
    """Random images in [-1, 1] on ``device``: ``(images, labels -1)``, or ``(a, b)`` for two domains."""
    images = torch.rand(batch, *shape, device=device) * 2 - 1
    if two_domains:
        return images, torch.rand(batch, *shape, device=device) * 2 - 1
    return images, torch.full((batch,), -1, device=device)


def fit_timed(
    model: AdversarialModule,
    loader: Iterable,
    timer: WindowTimer,
    device: str,
    precision: str = "32-true",
) -> float:
    """Train ``model`` on every batch of ``loader`` (one epoch) with ``timer``, logging (to no logger)
    every 10 steps as ``conf/trainer/default.yaml`` does; the peak GPU memory in GiB (NaN on a CPU)."""
    trainer = pl.Trainer(
        accelerator="gpu" if device == "cuda" else "cpu", devices=1, precision=precision,
        max_steps=model.optimizer_steps_for(len(loader)), max_epochs=1, logger=False, log_every_n_steps=10,
        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False, callbacks=[timer],
    )  # fmt: skip
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    trainer.fit(model, train_dataloaders=loader)
    return torch.cuda.max_memory_allocated() / 2**30 if device == "cuda" else float("nan")


def measure(
    overrides: list[str],
    shape: tuple[int, int, int],
    batch: int,
    two_domains: bool,
    args: argparse.Namespace,
    precision: str = "32-true",
) -> tuple[float, float]:
    """(seconds per generator step, peak GPU memory in GiB) of a short training run: ``args.warmup``
    batches, then ``args.repeats + 1`` windows of ``args.window`` batches (the median is taken)."""
    torch.manual_seed(0)
    model = model_from_config(overrides, shape)
    n = batch * (args.warmup + args.window * (args.repeats + 1))
    images, second = synthetic_batch(shape, n, two_domains, args.device)
    loader = DataLoader(TensorDataset(images, second), batch_size=batch, drop_last=True)
    timer = WindowTimer(args.warmup, args.window)
    peak = fit_timed(model, loader, timer, args.device, precision)
    return timer.seconds_per_batch(), peak
