"""One evaluation protocol, shared by the training callback and ``python -m gan_lightning.evaluate``.

A protocol fixes the feature extractor, the number of generated and real images and the reference
split; every value is reported together with it, and FIDs are comparable only at equal protocol.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import torch

from gan_lightning.data.base import GANDataModule
from gan_lightning.errors import ConfigError
from gan_lightning.files import cache_root, file_digest
from gan_lightning.metrics.evaluator import SampleEvaluator, check_metric_names
from gan_lightning.metrics.extractors import build_extractor
from gan_lightning.metrics.path_length import (
    LPIPSDistance,
    check_ppl_model,
    check_ppl_options,
    model_path_lengths,
)
from gan_lightning.metrics.real_stats import cache_key, real_features
from gan_lightning.metrics.toy import TOY_SAMPLES, mode_coverage
from gan_lightning.sampling import cycle_labels, generate_batches


@dataclass(frozen=True)
class MetricOptions:
    """How sample quality is measured, stated once: the training callback (``metrics.*``,
    :class:`~gan_lightning.callbacks.GANMetrics`) and ``python -m gan_lightning.evaluate`` (where
    ``n_samples`` is ``n``) both build one.

    Args:
        extractor: ``auto`` (the dataset classifier, or the rotation net of unlabelled images),
            ``classifier``, ``rotation`` or ``inception``.
        metrics: image metrics to compute, of ``fid``, ``kid``, ``class_acc`` (only for conditional
            models), ``precision``, ``recall``, ``density``, ``coverage``, ``is`` (logged as ``is`` with
            the Inception extractor, ``is_classifier`` with the dataset classifier) and ``ppl`` (only for
            models with a latent W).
        n_samples: generated images per evaluation (and real images, up to the reference set's size).
        reference_split: real images compared against (``test`` where the dataset has one).
        inception_weights: local file of the Inception weights (``extractor=inception``).
        kid_subset_size, batch_size: KID's subset size; images per forward pass.
        seed: seed of the generated images' noise (plus the DDP rank).
        pr_k: neighbours of precision and recall's k-NN balls (Kynkäänniemi et al. 2019: 3).
        dc_k: neighbours of density and coverage's k-NN balls (Naeem et al. 2020: 5).
        is_splits: parts the Inception Score is averaged over (the standard 10).
        ppl_space, ppl_sampling, ppl_epsilon: PPL's paths, lerp in ``w`` or slerp in ``z``; their ``end``
            points or ``full`` (t ~ U(0, 1)); the step (Karras et al. 2019: 1e-4).
        ppl_samples: paths of PPL per evaluation.
        lpips_weights: local file of torchvision's VGG16 weights: PPL's distance is then LPIPS (VGG), as
            in the paper; ``None``: the squared distance of the extractor's unit-normalised features.
    """

    extractor: str = "auto"
    metrics: tuple[str, ...] = ("fid", "kid", "class_acc")
    n_samples: int = 10_000
    reference_split: str = "test"
    inception_weights: str | None = None
    kid_subset_size: int = 1000
    batch_size: int = 500
    seed: int = 0
    pr_k: int = 3
    dc_k: int = 5
    is_splits: int = 10
    ppl_space: str = "w"
    ppl_sampling: str = "end"
    ppl_epsilon: float = 1e-4
    ppl_samples: int = 10_000
    lpips_weights: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "metrics", tuple(self.metrics))
        check_metric_names(self.metrics)
        for name in ("n_samples", "batch_size", "pr_k", "dc_k", "is_splits", "ppl_samples"):
            if int(getattr(self, name)) < 1:
                raise ConfigError(f"metrics.{name} must be a positive integer, got {getattr(self, name)}.")
        check_ppl_options(self.ppl_space, self.ppl_sampling, self.ppl_epsilon)

    def settings(self) -> dict[str, Any]:
        """The options that fix the chosen metrics beyond the protocol's image counts (k of the k-NN
        balls, IS splits, PPL's paths and distance): those of the metrics asked for."""
        chosen, out = set(self.metrics), {}
        if chosen & {"precision", "recall"}:
            out["pr_k"] = self.pr_k
        if chosen & {"density", "coverage"}:
            out["dc_k"] = self.dc_k
        if "is" in chosen:
            out["is_splits"] = self.is_splits
        if "ppl" in chosen:
            out.update(
                ppl_space=self.ppl_space, ppl_sampling=self.ppl_sampling, ppl_epsilon=self.ppl_epsilon,
                ppl_samples=self.ppl_samples,
            )  # fmt: skip
        return out


def extractor_name(options: MetricOptions, datamodule: GANDataModule) -> str:
    """The extractor ``options.extractor`` means for ``datamodule``: ``auto`` is the dataset classifier,
    or the rotation net of unlabelled images."""
    if options.extractor == "auto":
        return "classifier" if datamodule.num_classes is not None else "rotation"
    return options.extractor


def check_model_metrics(options: MetricOptions, model: Any, datamodule: GANDataModule | None = None) -> None:
    """Fail before any work when a chosen metric cannot apply to ``model`` (``ppl`` needs a latent W) or
    to the extractor of ``datamodule``'s images (``is`` needs class probabilities; ``ppl`` in Inception's
    8-bit space needs LPIPS)."""
    if "ppl" in options.metrics:
        check_ppl_model(model)
    if datamodule is None or not getattr(datamodule, "is_image", True):
        return
    extractor = extractor_name(options, datamodule)
    if "is" in options.metrics and extractor == "rotation":
        raise ConfigError(
            "is (the Inception Score) needs class probabilities, and the rotation net of unlabelled "
            "images predicts rotations: use metrics.extractor=inception (with metrics.inception_weights), "
            "or drop is."
        )
    if "ppl" in options.metrics and extractor == "inception" and options.lpips_weights is None:
        raise ConfigError(
            "ppl measures steps of 1e-4 in the latent space, which the Inception extractor's 8-bit images "
            "hide: give metrics.lpips_weights (PPL in LPIPS), or use metrics.extractor=classifier / rotation."
        )


@dataclass
class Protocol:
    """What a metric value means: extractor, image counts, reference set."""

    extractor: str
    n_fake: int
    n_real: int
    reference: str  # "<dataset>/<split>", plus the classes when a subset
    metrics: list[str] = field(default_factory=list)
    source: str = ""  # which copy of the data: "torchvision", "folder:<path> (JPEG copy: ...)"
    # The chosen metrics' own settings (MetricOptions.settings: pr_k, dc_k, is_splits, ppl_*), and PPL's
    # distance; left out of as_dict() when empty.
    settings: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        if not self.settings:
            del out["settings"]
        return out

    def __str__(self) -> str:
        text = f"{self.extractor}, {self.n_fake} generated vs {self.n_real} real images of {self.reference}"
        text = f"{text} [{self.source}]" if self.source else text
        if self.settings:
            text += "; " + ", ".join(f"{k}={v}" for k, v in self.settings.items())
        return text


def build_image_evaluator(
    datamodule: GANDataModule,
    conditional: bool,
    options: MetricOptions,
    device: torch.device | str = "cpu",
    rank: int = 0,
    world_size: int = 1,
    barrier: Callable[[], None] | None = None,
) -> tuple[SampleEvaluator, Protocol]:
    """Extractor, cached real features and metrics for ``datamodule``'s images.

    ``class_acc`` is dropped for unconditional models. Under DDP, rank 0 computes (and caches) the
    real features first; ``barrier`` then lets the other ranks read them from the cache.
    """
    n_samples, batch_size = options.n_samples, options.batch_size
    extractor = extractor_name(options, datamodule)
    feature_net = build_extractor(
        extractor, datamodule.root, datamodule.name, options.inception_weights, datamodule.stats_name
    ).to(device)
    split = options.reference_split if options.reference_split in datamodule.splits else "train"
    reference = datamodule.load_split(split)
    n_real = min(n_samples, len(reference))
    key = cache_key(datamodule.stats_name, split, datamodule.requested_classes, feature_net.tag, n_real)
    cache_dir = cache_root(datamodule.root) / "fid_stats"
    if rank == 0:
        real = real_features(feature_net, reference, n_real, cache_dir, key, batch_size, device)
    if barrier is not None:
        barrier()
    if rank != 0:
        real = real_features(feature_net, reference, n_real, cache_dir, key, batch_size, device)
    chosen = tuple(m for m in options.metrics if m != "class_acc" or conditional)
    settings = options.settings()
    path_distance = None
    if "ppl" in chosen:
        if options.lpips_weights is not None:
            path_distance = LPIPSDistance(options.lpips_weights)
            settings["ppl_distance"] = f"lpips-vgg16-{file_digest(options.lpips_weights)}"
        else:
            settings["ppl_distance"] = f"normalised features of {feature_net.tag}"
    evaluator = SampleEvaluator(
        feature_net, real, n_fake=n_samples, metrics=chosen, num_classes=datamodule.num_classes,
        kid_subset_size=options.kid_subset_size, rank=rank, world_size=world_size, pr_k=options.pr_k,
        dc_k=options.dc_k, is_splits=options.is_splits, path_distance=path_distance,
    ).to(device)  # fmt: skip
    subset = f" classes {datamodule.requested_classes}" if datamodule.requested_classes is not None else ""
    protocol = Protocol(
        feature_net.tag,
        n_samples,
        n_real,
        f"{datamodule.name}/{split}{subset}",
        [evaluator.is_name if m == "is" else m for m in chosen],
        datamodule.source,
        settings,
    )
    return evaluator, protocol


def evaluate_images(
    model,
    evaluator: SampleEvaluator,
    options: MetricOptions,
    rank: int = 0,
    world_size: int = 1,
    ema: bool | None = None,
) -> dict[str, Any]:
    """Generate this rank's share of ``options.n_samples`` images (labels cycling through the model's
    classes) with noise seeded ``options.seed + rank``, feed them to ``evaluator`` and compute (a
    collective). With ``ppl``, also this rank's share of ``options.ppl_samples`` paths (latents seeded
    the same way, ``options.batch_size`` images per forward pass)."""
    evaluator.reset()
    n_local = _share(options.n_samples, rank, world_size) if evaluator.needs_images else 0
    labels = cycle_labels(model.classes, n_local) if model.conditional else None
    for images, batch_labels in generate_batches(
        model, n_local, options.batch_size, labels, seed=options.seed + rank, ema=ema
    ):
        evaluator.update(images, batch_labels)
    if evaluator.path_lengths is not None:
        _feed_path_lengths(model, evaluator, options, rank, world_size, ema)
    return evaluator.compute()


def _share(n: int, rank: int, world_size: int) -> int:
    return n // world_size + (1 if rank < n % world_size else 0)


def _feed_path_lengths(
    model, evaluator: SampleEvaluator, options: MetricOptions, rank: int, world_size: int, ema: bool | None
) -> None:
    check_ppl_model(model)
    n_local = _share(options.ppl_samples, rank, world_size)
    labels = cycle_labels(model.classes, n_local) if model.conditional else None
    rng = torch.Generator().manual_seed(options.seed + rank)
    pairs = max(1, options.batch_size // 2)  # both ends of a step in one forward pass
    was_training = model.training
    model.eval()
    try:
        for start in range(0, n_local, pairs):
            size = min(pairs, n_local - start)
            lengths = model_path_lengths(
                model, size, rng, evaluator.path_distance, options.ppl_space, options.ppl_sampling,
                options.ppl_epsilon, labels[start : start + size] if labels is not None else None, ema,
            )  # fmt: skip
            evaluator.update_path_lengths(lengths)
    finally:
        model.train(was_training)


def evaluate_toy(
    model, datamodule, seed: int = 0, n_samples: int = TOY_SAMPLES, ema: bool | None = None
) -> dict[str, Any]:
    """Mode coverage of ``n_samples`` (2,500) generated points on the datamodule's mixture."""
    labels = cycle_labels(model.classes, n_samples) if model.conditional else None
    samples = torch.cat(
        [x.cpu() for x, _ in generate_batches(model, n_samples, n_samples, labels, seed=seed, ema=ema)]
    )
    return mode_coverage(samples, datamodule.centres, datamodule.std)
