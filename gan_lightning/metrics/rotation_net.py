"""A feature network for unlabelled image folders, trained by the framework on the folder itself.

Self-supervised rotation prediction (Gidaris, Singh and Komodakis, "Unsupervised Representation
Learning by Predicting Image Rotations", ICLR 2018): every image is shown rotated by 0, 90, 180 and
270 degrees and the net learns which rotation it sees, which needs the orientation of eyes, legs,
horizons... The penultimate features of that net are the space of offline FID / KID for data without
labels (anime faces, one domain of horse2zebra), as the dataset classifier's features are for
MNIST-like data (:mod:`gan_lightning.metrics.classifier_net`).

The net is :class:`~gan_lightning.metrics.classifier_net.DatasetClassifier` with 4 classes, saved with
:func:`~gan_lightning.metrics.classifier_net.save_classifier` (dataset tag ``<stats_name>-rotation``)
to ``<cache root>/feature_nets/<stats_name>-rotation.pt``. Images larger than ``max_size`` (32) are
downsampled (antialiased bilinear) before the net, in training and in :class:`RotationFeatures` alike,
so that training on 12,000 images takes minutes on a CPU.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, Subset

from gan_lightning.errors import ConfigError
from gan_lightning.files import cache_root, file_digest
from gan_lightning.metrics.classifier_net import (
    ClassifierTask,
    DatasetClassifier,
    ResizedFeatures,
    fit_size,
    load_classifier,
    save_classifier,
)

NUM_ROTATIONS = 4
MIN_STEPS = 80  # epochs=None: enough epochs for this many optimizer steps (at least one epoch)


def rotation_features_path(root: str | Path, stats_name: str) -> Path:
    """``<cache root>/feature_nets/<stats_name>-rotation.pt`` (the cache root: ``$GAN_CACHE_DIR`` or
    ``root``, see :func:`gan_lightning.files.cache_root`)."""
    return cache_root(root) / "feature_nets" / f"{stats_name}-rotation.pt"


def rotate_batch(images: Tensor) -> tuple[Tensor, Tensor]:
    """images (N, C, S, S) -> (the 4 rotations (4N, C, S, S), targets long (4N,) in 0..3).

    Block k (rows k*N .. (k+1)*N - 1) is ``torch.rot90(images, k, dims=(2, 3))``: rotated by k*90
    degrees counter-clockwise, with target k. Exact (a permutation of pixels, no interpolation).
    """
    if images.size(-1) != images.size(-2):
        raise ValueError(f"Rotation prediction needs square images, got {tuple(images.shape)}.")
    rotated = torch.cat([torch.rot90(images, k, dims=(2, 3)) for k in range(NUM_ROTATIONS)])
    targets = torch.arange(NUM_ROTATIONS, device=images.device).repeat_interleave(images.size(0))
    return rotated, targets


def held_out_split(n: int, fraction: float = 0.1, seed: int = 0) -> tuple[list[int], list[int]]:
    """(training indices, held-out indices) of ``n`` items: a fixed permutation (``seed``), the first
    ``ceil(fraction * n)`` of it held out (at least one item, and at least one kept for training)."""
    if n < 2:
        raise ConfigError(f"Rotation training needs at least 2 images, got {n}.")
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()
    n_held = min(max(1, math.ceil(fraction * n)), n - 1)
    return sorted(order[n_held:]), sorted(order[:n_held])


class RotationTask(ClassifierTask):
    """:class:`ClassifierTask` on 4 rotation classes: each batch (images, ignored labels) is resized to
    the net's input size and rotated 4 ways (4x the images, targets 0..3) in the step itself."""

    def __init__(self, in_shape: Sequence[int], lr: float = 3e-3, epochs: int = 1, **net: Any) -> None:
        super().__init__(in_shape, NUM_ROTATIONS, lr=lr, epochs=epochs, **net)
        self.net_size = int(in_shape[-1])

    def _rotations(self, batch: tuple[Tensor, Tensor]) -> tuple[Tensor, Tensor]:
        return rotate_batch(fit_size(batch[0].float(), self.net_size))

    def training_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> Tensor:
        return super().training_step(self._rotations(batch), batch_idx)

    def test_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        super().test_step(self._rotations(batch), batch_idx)


def train_rotation_net(
    dataset: Dataset,
    data_shape: Sequence[int],
    epochs: int | None = None,
    batch_size: int = 128,
    lr: float = 3e-3,
    width: int = 32,
    feature_dim: int = 128,
    accelerator: str = "auto",
    limit_train_batches: int | float = 1.0,
    progress: bool = True,
    max_size: int = 32,
    seed: int = 0,
) -> tuple[DatasetClassifier, float]:
    """Train a rotation-prediction net on an unlabelled image dataset; return it (CPU, eval mode, frozen)
    with its rotation accuracy (in [0, 1], chance 0.25) on a held-out 10% (fixed split, seed 0).

    Args:
        dataset: items (image (C, S, S) in [-1, 1], label or -1); the labels are not used.
        data_shape: (C, S, S) of the images.
        epochs: passes over the 90% training part; ``None``: enough for ``MIN_STEPS`` (80) steps, at
            least one (12,000 images at batch 128: 1 epoch, about 3 minutes at 32 px on one CPU thread).
        batch_size: images per step before rotation (the net sees 4x as many).
        lr: peak learning rate of Adam's one-cycle schedule.
        width, feature_dim: :class:`DatasetClassifier` widths; the features are (N, feature_dim).
        max_size: images larger than this are downsampled to ``max_size`` px before the net.
        seed: initial weights, dropout and shuffling order (the held-out split is always seed 0).
    """
    channels, size = int(data_shape[0]), int(data_shape[-1])
    net_shape = (channels, min(size, max_size), min(size, max_size))
    train_idx, held_idx = held_out_split(len(dataset))
    if len(train_idx) < batch_size:
        batch_size = len(train_idx)  # tiny folders: one (full) batch per epoch
    steps_per_epoch = len(train_idx) // batch_size
    if epochs is None:
        epochs = max(1, math.ceil(MIN_STEPS / steps_per_epoch))
    train_loader = DataLoader(
        Subset(dataset, train_idx), batch_size=batch_size, shuffle=True, drop_last=True,
        generator=torch.Generator().manual_seed(seed),
    )  # fmt: skip
    held_loader = DataLoader(Subset(dataset, held_idx), batch_size=256)
    trainer = pl.Trainer(
        max_epochs=epochs, accelerator=accelerator, devices=1, logger=False, enable_checkpointing=False,
        enable_model_summary=False, enable_progress_bar=progress, limit_train_batches=limit_train_batches,
    )  # fmt: skip
    with torch.random.fork_rng(devices=[]):  # weights and dropout from ``seed``; the caller's RNG untouched
        torch.manual_seed(seed)
        task = RotationTask(net_shape, lr=lr, epochs=epochs, width=width, feature_dim=feature_dim)
        trainer.fit(task, train_dataloaders=train_loader)
        accuracy = float(trainer.test(task, dataloaders=held_loader, verbose=False)[0]["test/accuracy"])
    return task.net.cpu().eval().requires_grad_(False), accuracy


class RotationFeatures(ResizedFeatures):
    """The rotation net's features (N, feature_dim) of images (N, C, S, S) in [-1, 1], resized to fit."""


def load_rotation_features(path: str | Path) -> RotationFeatures:
    """The rotation features saved at ``path``, tagged ``rotation-<digest of the file>``."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(
            f"No rotation feature net at {path}. It is trained on the image folder on first use "
            "(train_rotation_net / load_or_train_rotation_features)."
        )
    net, _ = load_classifier(path)
    return RotationFeatures(net, tag=f"rotation-{file_digest(path)}")


def load_or_train_rotation_features(
    dataset: Dataset, data_shape: Sequence[int], path: str | Path, stats_name: str, **train: Any
) -> tuple[RotationFeatures, dict[str, Any]]:
    """Load the features at ``path``, or train the net on ``dataset`` (see :func:`train_rotation_net`),
    save it there and load it. Returns the extractor and the file's metadata (``test_accuracy``: the
    held-out rotation accuracy; ``dataset``: ``<stats_name>-rotation``; ``trained_now``)."""
    path = Path(path)
    trained_now = not path.is_file()
    if trained_now:
        net, accuracy = train_rotation_net(dataset, data_shape, **train)
        save_classifier(net, path, f"{stats_name}-rotation", accuracy)
    net, meta = load_classifier(path)
    return RotationFeatures(net, tag=f"rotation-{file_digest(path)}"), {**meta, "trained_now": trained_now}
