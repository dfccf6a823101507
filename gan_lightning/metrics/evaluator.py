"""FID, KID, class consistency, the predicted-class histogram, precision / recall, density / coverage,
the Inception Score and the perceptual path length of generated images.

FID and KID are torchmetrics' metrics run on features (the extractor is applied before them), so
real features come from the on-disk cache and are fed exactly once; ``reset()`` clears only the
generated side. Under DDP each rank feeds its share of the real features and its own samples;
``compute()`` is a collective and must run on every rank. Precision, recall, density and coverage
(:mod:`~gan_lightning.metrics.manifold`) need every feature at once: each rank holds all the real
features, and the generated ones (like the logits of the Inception Score and the path lengths of PPL)
are gathered from every rank by ``compute()``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn
from torchmetrics import Metric
from torchmetrics.classification import MulticlassAccuracy
from torchmetrics.image.fid import FrechetInceptionDistance
from torchmetrics.image.kid import KernelInceptionDistance
from torchmetrics.utilities import dim_zero_cat

from gan_lightning.errors import ConfigError
from gan_lightning.metrics.inception_score import inception_score
from gan_lightning.metrics.manifold import check_k, density_coverage, fraction_inside, knn_radii
from gan_lightning.metrics.path_length import FeatureDistance, ppl_of

METRICS = ("fid", "kid", "class_acc", "precision", "recall", "density", "coverage", "is", "ppl")
MANIFOLD = ("precision", "recall", "density", "coverage")


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


class Gathered(Metric):
    """Rows (N, ...) fed on each rank; ``compute()`` returns those of every rank, one rank after the other."""

    def __init__(self) -> None:
        super().__init__()
        self.add_state("rows", [], dist_reduce_fx="cat")

    def update(self, rows: Tensor) -> None:
        self.rows.append(rows)

    def compute(self) -> Tensor:
        return dim_zero_cat(self.rows)


class SampleEvaluator(nn.Module):
    """Holds the metrics of one protocol.

    Args:
        extractor: images -> features (N, d); a classifier extractor also predicts classes.
        real: real features (n_real, d) of the reference set.
        n_fake: how many generated images each evaluation feeds (over all ranks).
        metrics: subset of :data:`METRICS`: ``fid``, ``kid``, ``class_acc`` (needs a conditional model
            and the classifier extractor), ``precision``, ``recall`` (k = ``pr_k``), ``density``,
            ``coverage`` (k = ``dc_k``), ``is`` (needs an extractor with ``features_and_logits``; reported
            under the extractor's ``is_name``: ``is`` for Inception, ``is_classifier`` for the dataset
            classifier) and ``ppl`` (path lengths fed by :meth:`update_path_lengths`, measured with
            :attr:`path_distance`).
        num_classes: label space size (for class consistency and the histogram).
        rank, world_size: this process's share of the real features is ``real[rank::world_size]``.
        pr_k, dc_k: neighbours of the k-NN balls of precision / recall and of density / coverage.
        is_splits: parts the Inception Score is averaged over.
        path_distance: images, images -> distances (n,) for PPL; default: the squared distance of the
            extractor's unit-normalised features (:class:`~.path_length.FeatureDistance`).
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
        pr_k: int = 3,
        dc_k: int = 5,
        is_splits: int = 10,
        path_distance: Callable[[Tensor, Tensor], Tensor] | None = None,
    ) -> None:
        super().__init__()
        check_metric_names(metrics)
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
        # Every metric but ppl (whose images evaluate_images makes itself) is computed on generated images.
        self.needs_images = any(m != "ppl" for m in metrics)
        predicts = hasattr(extractor, "features_and_predictions") and num_classes and self.needs_images
        if "class_acc" in metrics and not predicts:
            raise ConfigError("class_acc needs the classifier extractor (metrics.extractor=classifier).")
        self.class_acc = MulticlassAccuracy(num_classes, average="micro") if "class_acc" in metrics else None
        self.histogram = PredictedClassHistogram(num_classes) if predicts else None
        share = real[rank::world_size].double()
        for metric in (self.fid, self.kid):
            if metric is not None:
                metric.update(share, real=True)
        # Precision, recall, density, coverage: all the real features on every rank, the generated ones
        # gathered; the real k-NN radii are computed once, at the first compute(), where the features are.
        self.manifold = tuple(m for m in MANIFOLD if m in metrics)
        self.pr_k, self.dc_k = pr_k, dc_k
        if {"precision", "recall"} & set(metrics):
            check_k("pr_k", pr_k, self.n_real, n_fake)
        if {"density", "coverage"} & set(metrics):
            check_k("dc_k", dc_k, self.n_real, n_fake)
        self.register_buffer("real", real.float() if self.manifold else torch.empty(0), persistent=False)
        self._real_radii: dict[int, Tensor] = {}
        self.fake_features = Gathered() if self.manifold else None
        # The Inception Score of the extractor's logits.
        self.is_name = getattr(extractor, "is_name", "is")
        if "is" in metrics and not hasattr(extractor, "features_and_logits"):
            raise ConfigError(
                "is (the Inception Score) needs class probabilities: metrics.extractor=inception (the IS "
                "of the papers) or classifier (the dataset classifier's, reported as is_classifier); the "
                "rotation net predicts rotations, not classes."
            )
        if "is" in metrics and not 1 <= is_splits <= n_fake:
            raise ConfigError(
                f"metrics.is_splits={is_splits}: needs 1 <= splits <= the {n_fake} generated samples."
            )
        self.is_splits = is_splits
        self.logits = Gathered() if "is" in metrics else None
        # The perceptual path length: lengths measured by evaluate_images, gathered here.
        self.path_lengths = Gathered() if "ppl" in metrics else None
        if "ppl" in metrics and path_distance is None:
            if getattr(extractor, "quantizes", False):
                raise ConfigError(
                    "ppl measures steps of 1e-4 in the latent space, which the Inception extractor's 8-bit "
                    "images hide: give metrics.lpips_weights (PPL in LPIPS), or use metrics.extractor="
                    "classifier / rotation."
                )
            path_distance = FeatureDistance(extractor)
        self.path_distance = path_distance

    @property
    def scalar_names(self) -> tuple[str, ...]:
        """The names of the scalars :meth:`compute` returns (besides ``kid_std``, ``<is>_std`` and the
        class histogram), in :data:`METRICS`' order."""
        return tuple(self.is_name if m == "is" else m for m in METRICS if m in self.metric_names)

    def reset(self) -> None:
        """Forget the generated samples (the real features stay)."""
        gathered = (self.fake_features, self.logits, self.path_lengths)
        for metric in (self.fid, self.kid, self.class_acc, self.histogram, *gathered):
            if metric is not None:
                metric.reset()

    @torch.no_grad()
    def update_path_lengths(self, lengths: Tensor) -> None:
        """Add path lengths (n,) of PPL (:func:`~gan_lightning.metrics.path_length.model_path_lengths`)."""
        if self.path_lengths is None:
            raise ConfigError("ppl is not among this evaluator's metrics.")
        self.path_lengths.update(lengths.double())

    @torch.no_grad()
    def update(self, images: Tensor, labels: Tensor | None = None) -> None:
        """Add generated images (N, C, H, W) in [-1, 1], with the labels they were generated for."""
        predictions = None
        if self.logits is not None:
            features, logits = self.extractor.features_and_logits(images)
            self.logits.update(logits.double())
            if self.histogram is not None:
                predictions = logits.argmax(1)
        elif self.histogram is not None:
            features, predictions = self.extractor.features_and_predictions(images)
        else:
            features = self.extractor(images)
        if predictions is not None:
            self.histogram.update(predictions)
            if self.class_acc is not None:
                if labels is None:
                    raise ConfigError(
                        "class_acc needs a conditional model (labels for the generated images)."
                    )
                self.class_acc.update(predictions, labels)
        for metric in (self.fid, self.kid):
            if metric is not None:
                metric.update(features.double(), real=False)
        if self.fake_features is not None:
            self.fake_features.update(features.float())

    def real_radii(self, k: int) -> Tensor:
        """The real features' k-NN radii (n_real,), computed once (for pr_k and dc_k in one pass)."""
        if k not in self._real_radii:
            wanted, needed = set(self.manifold), {k}
            if "precision" in wanted:
                needed.add(self.pr_k)
            if wanted & {"density", "coverage"}:
                needed.add(self.dc_k)
            ks = tuple(sorted(needed))
            self._real_radii.update(zip(ks, knn_radii(self.real.double(), ks), strict=True))
        return self._real_radii[k].to(self.real.device)

    def compute(self) -> dict[str, Any]:
        """``{"fid": float, "kid": float, "kid_std": float, "class_acc": float, "class_histogram": [..],
        "precision", "recall", "density", "coverage", "is" (or "is_classifier"), "is_std", "ppl": float}``,
        those asked for."""
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
        if self.fake_features is not None:
            values.update(self._manifold(self.fake_features.compute()))
        if self.logits is not None:
            mean, std = inception_score(self.logits.compute(), self.is_splits)
            values[self.is_name], values[f"{self.is_name}_std"] = mean, std
        if self.path_lengths is not None:
            values["ppl"] = ppl_of(self.path_lengths.compute())
        return values

    def _manifold(self, fake: Tensor) -> dict[str, float]:
        # float64 distances: no TF32 matrix products, k-NN balls decided to the last bit that matters.
        real, fake, wanted, values = self.real.double(), fake.double(), set(self.manifold), {}
        if "precision" in wanted:
            values["precision"] = fraction_inside(fake, real, self.real_radii(self.pr_k))
        if "recall" in wanted:
            values["recall"] = fraction_inside(real, fake, knn_radii(fake, self.pr_k))
        if wanted & {"density", "coverage"}:
            values.update(density_coverage(real, fake, self.dc_k, real_radii=self.real_radii(self.dc_k)))
        return {m: values[m] for m in self.manifold}


def check_metric_names(metrics: tuple[str, ...] | list[str]) -> None:
    """A ConfigError naming the unknown metrics and the known ones."""
    unknown = set(metrics) - set(METRICS)
    if unknown:
        raise ConfigError(f"Unknown metrics {sorted(unknown)}; choose from {', '.join(METRICS)}.")
