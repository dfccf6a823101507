"""A small CNN classifier of the training dataset: the feature space of offline FID/KID and the judge
of class consistency for conditional GANs.

``python -m gan_lightning.classifier data=mnist`` trains it and saves it to
``<data.root>/classifiers/<dataset>.pt`` (see :func:`classifier_path`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchmetrics.classification import MulticlassAccuracy

from gan_lightning.errors import ConfigError
from gan_lightning.files import CACHE_ENV, atomic_torch_save, cache_root


def classifier_path(root: str | Path, dataset: str) -> Path:
    """Where the classifier of ``dataset`` lives: ``<cache root>/classifiers/<dataset>.pt``, the cache
    root being the data root unless ``GAN_CACHE_DIR`` is set (see :func:`gan_lightning.files.cache_root`)."""
    return cache_root(root) / "classifiers" / f"{dataset}.pt"


class DatasetClassifier(nn.Module):
    """images (N, C, S, S) in [-1, 1] -> logits (N, num_classes); :meth:`features` -> (N, feature_dim).

    Four 3x3 conv-BN-ReLU layers in two blocks, each block ending in a 2x2 max-pool, then a 3x3 average
    grid and a linear layer to the features. ``stem_stride=2`` makes the first convolution stride 2, so
    the network works at half the resolution (a quarter of the operations: the dataset classifier's
    recipe, :data:`~gan_lightning.metrics.classifier_training.DEFAULTS`); files saved without the key
    are stride 1, as the rotation and domain nets are.
    """

    def __init__(
        self,
        in_shape: Sequence[int],
        num_classes: int,
        width: int = 32,
        feature_dim: int = 128,
        stem_stride: int = 1,
    ) -> None:
        super().__init__()
        if stem_stride not in (1, 2):
            raise ConfigError(f"classifier stem_stride must be 1 or 2, got {stem_stride}.")
        channels = in_shape[0]
        self.config = {
            "in_shape": list(in_shape),
            "num_classes": num_classes,
            "width": width,
            "feature_dim": feature_dim,
            "stem_stride": stem_stride,
        }

        def block(c_in: int, c_out: int, stride: int = 1) -> list[nn.Module]:
            return [
                nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False),
                nn.BatchNorm2d(c_out),
                nn.ReLU(inplace=True),
            ]

        self.body = nn.Sequential(
            *block(channels, width, stem_stride), *block(width, width), nn.MaxPool2d(2),
            *block(width, 2 * width), *block(2 * width, 2 * width), nn.MaxPool2d(2),
            nn.AdaptiveAvgPool2d(3), nn.Flatten(),
            nn.Linear(2 * width * 9, feature_dim), nn.ReLU(inplace=True),
        )  # fmt: skip
        self.dropout = nn.Dropout(0.3)
        self.head = nn.Linear(feature_dim, num_classes)

    def features(self, x: Tensor) -> Tensor:
        """Penultimate activations (N, feature_dim): the space FID and KID are computed in."""
        return self.body(x)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.dropout(self.features(x)))


class ClassifierTask(pl.LightningModule):
    """Cross-entropy training of a :class:`DatasetClassifier` with accuracy on the test split."""

    def __init__(
        self, in_shape: Sequence[int], num_classes: int, lr: float = 1e-3, epochs: int = 3, **net: Any
    ):
        super().__init__()
        self.save_hyperparameters()
        self.net = DatasetClassifier(in_shape, num_classes, **net)
        self.test_accuracy = MulticlassAccuracy(num_classes, average="micro")

    def on_fit_start(self) -> None:
        self.net.to(memory_format=torch.channels_last)  # oneDNN's faster convolutions on CPU

    def training_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> Tensor:
        x, y = batch
        loss = F.cross_entropy(self.net(x.contiguous(memory_format=torch.channels_last)), y)
        self.log("train/loss", loss, prog_bar=True)
        return loss

    def test_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        x, y = batch
        self.test_accuracy(self.net(x.contiguous(memory_format=torch.channels_last)).argmax(1), y)
        self.log("test/accuracy", self.test_accuracy, prog_bar=True)

    def configure_optimizers(self):
        optimizer = torch.optim.Adam(self.parameters(), lr=self.hparams.lr)
        total = self.trainer.estimated_stepping_batches
        schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=self.hparams.lr, total_steps=total)
        return [optimizer], [{"scheduler": schedule, "interval": "step"}]


def save_classifier(net: DatasetClassifier, path: Path, dataset: str, test_accuracy: float) -> Path:
    """Write the classifier with what is needed to rebuild it (atomic)."""
    payload = {
        "state_dict": net.state_dict(),
        "config": net.config,
        "dataset": dataset,
        "test_accuracy": test_accuracy,
    }
    try:
        return atomic_torch_save(payload, path)
    except OSError as err:
        raise ConfigError(
            f"Cannot write the classifier to {path} ({err}). Set {CACHE_ENV}=DIR to keep classifiers and "
            "cached statistics in a writable folder, or pass classifier.path=FILE."
        ) from err


def load_classifier(path: str | Path, dataset: str | None = None) -> tuple[DatasetClassifier, dict[str, Any]]:
    """Load a saved classifier in eval mode, frozen; returns it with its metadata."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(
            f"No classifier for {dataset or 'this dataset'} at {path}. Train it once with:\n"
            f"  python -m gan_lightning.classifier data={dataset or '<dataset>'}\n"
            f"(with the same data.root / {CACHE_ENV} as this run), "
            "or choose metrics.extractor=inception."
        )
    payload = torch.load(path, map_location="cpu", weights_only=True)
    net = DatasetClassifier(**payload["config"])
    net.load_state_dict(payload["state_dict"])
    net.eval().requires_grad_(False)
    return net, {k: v for k, v in payload.items() if k != "state_dict"}


def fit_size(images: Tensor, size: int) -> Tensor:
    """images (N, C, H, W) -> (N, C, size, size), antialiased bilinear; unchanged when already that size."""
    if images.shape[-2:] == (size, size):
        return images
    return F.interpolate(images, size=(size, size), mode="bilinear", antialias=True, align_corners=False)


class ResizedFeatures(nn.Module):
    """Images (N, C, S, S) in [-1, 1] -> a trained net's features (N, feature_dim) (penultimate layer).

    Images whose side differs from the net's input size are resized to it first (antialiased
    bilinear), as in training. ``tag`` identifies the extractor in cache keys and metric protocols.
    """

    def __init__(self, net: DatasetClassifier, tag: str) -> None:
        super().__init__()
        self.net = net.eval().requires_grad_(False)
        self.num_features = net.config["feature_dim"]
        self.size = int(net.config["in_shape"][-1])
        self.tag = tag

    def forward(self, images: Tensor) -> Tensor:
        return self.net.features(fit_size(images.float(), self.size))


class ResizedClassifier(ResizedFeatures):
    """:class:`ResizedFeatures` that also classify: :meth:`features_and_predictions` gives the predicted
    class (the argmax of the net's head) beside the features, :meth:`predict` the class alone."""

    def features_and_predictions(self, images: Tensor) -> tuple[Tensor, Tensor]:
        """(features (N, feature_dim), predicted class (N,)) in one pass."""
        features = self(images)
        return features, self.net.head(features).argmax(1)

    def predict(self, images: Tensor) -> Tensor:
        """Images (N, C, S, S) in [-1, 1] -> predicted class (N,), long."""
        return self.features_and_predictions(images)[1]
