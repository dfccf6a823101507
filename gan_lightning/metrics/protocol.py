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
from gan_lightning.files import cache_root
from gan_lightning.metrics.evaluator import SampleEvaluator
from gan_lightning.metrics.extractors import build_extractor
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
        metrics: image metrics to compute (``class_acc`` only for conditional models).
        n_samples: generated images per evaluation (and real images, up to the reference set's size).
        reference_split: real images compared against (``test`` where the dataset has one).
        inception_weights: local file of the Inception weights (``extractor=inception``).
        kid_subset_size, batch_size: KID's subset size; images per forward pass.
        seed: seed of the generated images' noise (plus the DDP rank).
    """

    extractor: str = "auto"
    metrics: tuple[str, ...] = ("fid", "kid", "class_acc")
    n_samples: int = 10_000
    reference_split: str = "test"
    inception_weights: str | None = None
    kid_subset_size: int = 1000
    batch_size: int = 500
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "metrics", tuple(self.metrics))


@dataclass
class Protocol:
    """What a metric value means: extractor, image counts, reference set."""

    extractor: str
    n_fake: int
    n_real: int
    reference: str  # "<dataset>/<split>", plus the classes when a subset
    metrics: list[str] = field(default_factory=list)
    source: str = ""  # which copy of the data: "torchvision", "folder:<path> (JPEG copy: ...)"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        text = f"{self.extractor}, {self.n_fake} generated vs {self.n_real} real images of {self.reference}"
        return f"{text} [{self.source}]" if self.source else text


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
    extractor, n_samples, batch_size = options.extractor, options.n_samples, options.batch_size
    if extractor == "auto":  # the dataset classifier, or the rotation net of unlabelled images
        extractor = "classifier" if datamodule.num_classes is not None else "rotation"
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
    evaluator = SampleEvaluator(
        feature_net, real, n_fake=n_samples, metrics=chosen, num_classes=datamodule.num_classes,
        kid_subset_size=options.kid_subset_size, rank=rank, world_size=world_size,
    ).to(device)  # fmt: skip
    subset = f" classes {datamodule.requested_classes}" if datamodule.requested_classes is not None else ""
    protocol = Protocol(
        feature_net.tag,
        n_samples,
        n_real,
        f"{datamodule.name}/{split}{subset}",
        list(chosen),
        datamodule.source,
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
    collective)."""
    evaluator.reset()
    n_samples = options.n_samples
    n_local = n_samples // world_size + (1 if rank < n_samples % world_size else 0)
    labels = cycle_labels(model.classes, n_local) if model.conditional else None
    for images, batch_labels in generate_batches(
        model, n_local, options.batch_size, labels, seed=options.seed + rank, ema=ema
    ):
        evaluator.update(images, batch_labels)
    return evaluator.compute()


def evaluate_toy(
    model, datamodule, seed: int = 0, n_samples: int = TOY_SAMPLES, ema: bool | None = None
) -> dict[str, Any]:
    """Mode coverage of ``n_samples`` (2,500) generated points on the datamodule's mixture."""
    labels = cycle_labels(model.classes, n_samples) if model.conditional else None
    samples = torch.cat(
        [x.cpu() for x, _ in generate_batches(model, n_samples, n_samples, labels, seed=seed, ema=ema)]
    )
    return mode_coverage(samples, datamodule.centres, datamodule.std)
