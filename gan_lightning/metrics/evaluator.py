"""FID, KID, class consistency and the predicted-class histogram of generated images.

FID and KID are torchmetrics' metrics run on features (the extractor is applied before them), so
real features come from the on-disk cache and are fed exactly once; ``reset()`` clears only the
generated side. Under DDP each rank feeds its share of the real features and its own samples;
``compute()`` is a collective and must run on every rank.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn
from torchmetrics import Metric
from torchmetrics.classification import MulticlassAccuracy
from torchmetrics.image.fid import FrechetInceptionDistance
from torchmetrics.image.kid import KernelInceptionDistance

from gan_lightning.errors import ConfigError

METRICS = ("fid", "kid", "class_acc")


class Precomputed(nn.Module):
    """The identity on features (N, d): lets torchmetrics' FID/KID take features we extracted."""

    def __init__(self, num_features: int) -> None:
        super().__init__()
        self.num_features = num_features

    def forward(self, features: Tensor) -> Tensor:
        return features


class PredictedClassHistogram(Metric):
    """Counts of the classifier's predicted class over generated samples (dropped modes show as 0)."""

    def __init__(self, num_classes: int) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.add_state("counts", torch.zeros(num_classes, dtype=torch.long), dist_reduce_fx="sum")

    def update(self, predictions: Tensor) -> None:
        self.counts += torch.bincount(predictions, minlength=self.num_classes)

    def compute(self) -> Tensor:
        return self.counts


class SampleEvaluator(nn.Module):
    """Holds the metrics of one protocol.

    Args:
        extractor: images -> features (N, d); a classifier extractor also predicts classes.
        real: real features (n_real, d) of the reference set.
        n_fake: how many generated images each evaluation feeds (over all ranks).
        metrics: subset of ``fid``, ``kid``, ``class_acc`` (class_acc needs a conditional model and
            the classifier extractor).
        num_classes: label space size (for class consistency and the histogram).
        rank, world_size: this process's share of the real features is ``real[rank::world_size]``.
    """

    def __init__(
        self,
        extractor: nn.Module,
        real: Tensor,
        n_fake: int,
        metrics: tuple[str, ...] = ("fid", "kid"),
        num_classes: int | None = None,
        kid_subset_size: int = 1000,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        super().__init__()
        unknown = set(metrics) - set(METRICS)
        if unknown:
            raise ConfigError(f"Unknown metrics {sorted(unknown)}; choose from {', '.join(METRICS)}.")
        self.extractor = extractor
        self.metric_names = tuple(metrics)
        self.n_real, self.n_fake = len(real), n_fake
        self.kid_subset_size = min(kid_subset_size, self.n_real, n_fake)
        d = real.size(1)
        self.fid = (
            FrechetInceptionDistance(Precomputed(d), reset_real_features=False) if "fid" in metrics else None
        )
        self.kid = (
            KernelInceptionDistance(
                Precomputed(d), subset_size=self.kid_subset_size, reset_real_features=False
            )
            if "kid" in metrics
            else None
        )
        predicts = hasattr(extractor, "features_and_predictions") and num_classes
        if "class_acc" in metrics and not predicts:
            raise ConfigError("class_acc needs the classifier extractor (metrics.extractor=classifier).")
        self.class_acc = MulticlassAccuracy(num_classes, average="micro") if "class_acc" in metrics else None
        self.histogram = PredictedClassHistogram(num_classes) if predicts else None
        share = real[rank::world_size].double()
        for metric in (self.fid, self.kid):
            if metric is not None:
                metric.update(share, real=True)

    def reset(self) -> None:
        """Forget the generated samples (the real features stay)."""
        for metric in (self.fid, self.kid, self.class_acc, self.histogram):
            if metric is not None:
                metric.reset()

    @torch.no_grad()
    def update(self, images: Tensor, labels: Tensor | None = None) -> None:
        """Add generated images (N, C, H, W) in [-1, 1], with the labels they were generated for."""
        if self.histogram is not None:
            features, predictions = self.extractor.features_and_predictions(images)
            self.histogram.update(predictions)
            if self.class_acc is not None:
                if labels is None:
                    raise ConfigError(
                        "class_acc needs a conditional model (labels for the generated images)."
                    )
                self.class_acc.update(predictions, labels)
        else:
            features = self.extractor(images)
        for metric in (self.fid, self.kid):
            if metric is not None:
                metric.update(features.double(), real=False)

    def compute(self) -> dict[str, Any]:
        """``{"fid": float, "kid": float, "kid_std": float, "class_acc": float, "class_histogram": [..]}``."""
        values: dict[str, Any] = {}
        if self.fid is not None:
            values["fid"] = float(self.fid.compute())
        if self.kid is not None:
            with torch.random.fork_rng(devices=[]):  # KID's random subsets: the same on every rank and run
                torch.manual_seed(0)
                mean, std = self.kid.compute()
            values["kid"], values["kid_std"] = float(mean), float(std)
        if self.class_acc is not None:
            values["class_acc"] = float(self.class_acc.compute())
        if self.histogram is not None:
            values["class_histogram"] = self.histogram.compute().tolist()
        return values
