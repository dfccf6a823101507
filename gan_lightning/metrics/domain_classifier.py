"""A classifier of the two domains of an unpaired dataset, trained by the framework on real A and B.

It judges translation offline: its penultimate features are the space of per-direction FID / KID
(translated A against real test B, and back), and its prediction gives the target-domain accuracy
(the fraction of translated images it assigns to the target domain). The net is
:class:`~gan_lightning.metrics.classifier_net.DatasetClassifier` with 2 classes (A = 0, B = 1),
trained on the training images of both domains and tested on their test images, at most ``max_size``
px (larger images are downsampled, in training and in :class:`DomainFeatures` alike). It is saved to
``<cache root>/feature_nets/<stats_name>-domains.pt``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, TensorDataset

from gan_lightning.files import cache_root, file_digest
from gan_lightning.metrics import classifier_net as nets

DOMAIN_LABELS = {"a": 0, "b": 1}


def domain_classifier_path(root: str | Path, stats_name: str) -> Path:
    """``<cache root>/feature_nets/<stats_name>-domains.pt``."""
    return cache_root(root) / "feature_nets" / f"{stats_name}-domains.pt"


def stack_images(dataset: Dataset) -> Tensor:
    """All images of a dataset of images (or of ``(image, ...)`` items) as one tensor (N, C, S, S)."""
    items = [dataset[i] for i in range(len(dataset))]
    return torch.stack([item[0] if isinstance(item, tuple | list) else item for item in items])


class DomainFeatures(nets.ResizedClassifier):
    """Images (N, C, S, S) in [-1, 1] -> domain-classifier features (N, feature_dim), resized to the
    net's input size; :meth:`features_and_predictions` also gives the predicted domain (0 = A, 1 = B)."""


def train_domain_classifier(
    images: dict[str, dict[str, Tensor]], **options: Any
) -> tuple[nets.DatasetClassifier, float]:
    """Train A-vs-B on ``images[split][domain]`` ((N, C, S, S) in [-1, 1]; splits ``train`` and
    ``test``); return the net (CPU, eval mode, frozen) and its test accuracy in [0, 1] (chance 0.5).
    Random horizontal flips in training; the caller's random streams are untouched. ``options``:
    :func:`fit_small_classifier`'s (epochs 4, batch 64, lr 3e-3, width 32, at most 64 px, ...)."""

    def labelled(split: str) -> tuple[Tensor, Tensor]:
        parts = images[split]
        x = torch.cat([parts[d] for d in DOMAIN_LABELS])
        y = torch.cat([torch.full((len(parts[d]),), label) for d, label in DOMAIN_LABELS.items()])
        return x, y

    return fit_small_classifier(labelled("train"), labelled("test"), 2, flip=True, **options)


def fit_small_classifier(
    train: tuple[Tensor, Tensor],
    test: tuple[Tensor, Tensor],
    num_classes: int,
    flip: bool = False,
    epochs: int = 4,
    batch_size: int = 64,
    lr: float = 3e-3,
    width: int = 32,
    feature_dim: int = 128,
    stem_stride: int = 1,
    max_size: int = 64,
    accelerator: str = "auto",
    progress: bool = False,
    seed: int = 0,
) -> tuple[nets.DatasetClassifier, float]:
    """Train a :class:`DatasetClassifier` on images ``train = (x (N, C, S, S) in [-1, 1], y (N,))``
    shrunk to at most ``max_size`` px, with random horizontal flips when ``flip``; return the net (CPU,
    eval mode, frozen) and its accuracy on ``test`` in [0, 1]. ``stem_stride=2``: the net works at half
    the resolution (a quarter of the operations). The caller's random streams are untouched (the order
    and the weights come from ``seed``)."""
    size = min(train[0].shape[-1], max_size)
    train_set = TensorDataset(nets.fit_size(train[0], size), train[1])
    test_set = TensorDataset(nets.fit_size(test[0], size), test[1])
    shape = tuple(train_set.tensors[0].shape[1:])
    batch_size = min(batch_size, len(train_set))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        kind = _FlipTask if flip else nets.ClassifierTask
        task = kind(
            shape, num_classes, lr=lr, epochs=epochs, width=width, feature_dim=feature_dim,
            stem_stride=stem_stride,
        )  # fmt: skip
        loader = DataLoader(
            train_set, batch_size=batch_size, shuffle=True, drop_last=True,
            generator=torch.Generator().manual_seed(seed),
        )  # fmt: skip
        trainer = pl.Trainer(
            max_epochs=epochs, accelerator=accelerator, devices=1, logger=False, enable_checkpointing=False,
            enable_model_summary=False, enable_progress_bar=progress,
        )  # fmt: skip
        trainer.fit(task, train_dataloaders=loader)
        result = trainer.test(task, dataloaders=DataLoader(test_set, batch_size=256), verbose=False)
    return task.net.cpu().eval().requires_grad_(False), float(result[0]["test/accuracy"])


class _FlipTask(nets.ClassifierTask):
    """:class:`ClassifierTask` with random horizontal flips of the training batches."""

    def training_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> Tensor:
        x, y = batch
        flip = torch.rand(len(x), device=x.device) < 0.5
        x = torch.where(flip[:, None, None, None], x.flip(-1), x)
        return super().training_step((x, y), batch_idx)


def load_or_train_domain_features(
    datamodule: Any, accelerator: str = "auto", **train: Any
) -> tuple[DomainFeatures, dict[str, Any]]:
    """The domain classifier of an unpaired datamodule (``domain_images``), trained now when missing.
    Returns the extractor, tagged ``domains-<digest of the file>``, and the file's metadata."""
    path = domain_classifier_path(datamodule.root, datamodule.stats_name)
    trained_now = not path.is_file()
    if trained_now:
        images = {
            split: {d: stack_images(datamodule.domain_images(d, split)) for d in DOMAIN_LABELS}
            for split in ("train", "test")
        }
        net, accuracy = train_domain_classifier(images, accelerator=accelerator, **train)
        nets.save_classifier(net, path, f"{datamodule.stats_name}-domains", accuracy)
    net, meta = nets.load_classifier(path)
    return DomainFeatures(net, tag=f"domains-{file_digest(path)}"), {**meta, "trained_now": trained_now}
