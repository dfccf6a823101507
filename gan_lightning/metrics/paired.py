"""Metrics of paired translation (pix2pix), shared by the training callback and ``evaluate``.

Every test pair ``(source, target)`` is translated (by the EMA generator when the model has one) and
measured against its own target:

- ``fid``, ``kid``: FID / KID of the translations against the test targets, in the feature space of
  the rotation net the framework trains on the training targets (offline, as for any unlabelled image
  folder: :mod:`~gan_lightning.metrics.rotation_net`) and, with Inception weights, also in Inception
  space (``fid_inception``, ``kid_inception``): is the output distribution that of real targets?
- ``l1``: mean |G(source) - target| over pixels (range [-1, 1]), the term pix2pix trains on;
- ``psnr``: mean PSNR (dB) of G(source) against the target, per image then averaged.

L1 and PSNR reward the average of the plausible answers (a blurry image), FID / KID reward realism: the
paper's point is that L1 alone is blurry and the GAN term trades a little L1 for sharp outputs, so read
them together. Values are comparable only at equal protocol (the same test pairs and feature net).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torchmetrics.functional.image import peak_signal_noise_ratio

from gan_lightning.errors import ConfigError
from gan_lightning.metrics.evaluator import SampleEvaluator
from gan_lightning.metrics.extractors import build_extractor
from gan_lightning.metrics.rotation_net import load_or_train_rotation_features, rotation_features_path

SCALARS = ("fid", "kid", "l1", "psnr", "fid_inception", "kid_inception")


def feature_net_path(datamodule: Any) -> Path:
    """Where the feature net of ``datamodule``'s targets is (or will be) saved."""
    return rotation_features_path(datamodule.root, datamodule.stats_name)


@dataclass
class PairedProtocol:
    """What the values mean: the feature spaces and the number of test pairs."""

    extractors: list[str]
    test_pairs: int
    source: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        return f"{' + '.join(self.extractors)}; all {self.test_pairs} test pairs [{self.source}]"


class PairedEvaluator:
    """Holds the test pairs and, per feature space, the targets' features.

    Args:
        sources, targets: (N, C_a, S, S) and (N, C_b, S, S) in [-1, 1], pair by pair.
        features: the target images' feature net; inception: optionally FID's Inception extractor.
        batch_size: pairs per forward pass.
    """

    def __init__(
        self,
        sources: Tensor,
        targets: Tensor,
        features: nn.Module,
        inception: nn.Module | None = None,
        batch_size: int = 50,
        kid_subset_size: int = 100,
    ) -> None:
        self.sources, self.targets = sources, targets
        self.batch_size = batch_size
        self.kid_subset_size = kid_subset_size
        self.spaces = {"": features} | ({"_inception": inception} if inception is not None else {})
        self.real = {
            suffix: torch.cat([extractor(chunk) for chunk in targets.split(batch_size)]).cpu()
            for suffix, extractor in self.spaces.items()
        }

    @property
    def scalar_names(self) -> tuple[str, ...]:
        """The names :meth:`evaluate` returns, in :data:`SCALARS`' order."""
        inception = "_inception" in self.spaces
        return tuple(m for m in SCALARS if inception or not m.endswith("_inception"))

    @torch.no_grad()
    def evaluate(self, model, ema: bool | None = None) -> dict[str, float]:
        """``{"fid": ..., "kid": ..., "l1": ..., "psnr": ...}`` of ``model`` (a PairedTranslation)."""
        was_training = model.training
        model.eval()
        try:
            translated = torch.cat(
                [
                    model.translate(chunk.to(model.device), ema).float().cpu()
                    for chunk in self.sources.split(self.batch_size)
                ]
            )
        finally:
            model.train(was_training)
        values: dict[str, float] = {}
        for suffix, extractor in self.spaces.items():
            evaluator = SampleEvaluator(
                extractor.cpu(), self.real[suffix], len(translated), metrics=("fid", "kid"),
                kid_subset_size=self.kid_subset_size,
            )  # fmt: skip
            for chunk in translated.split(self.batch_size):
                evaluator.update(chunk)
            computed = evaluator.compute()
            values[f"fid{suffix}"], values[f"kid{suffix}"] = computed["fid"], computed["kid"]
        targets = self.targets.float()
        values["l1"] = float((translated - targets).abs().mean())
        values["psnr"] = float(
            peak_signal_noise_ratio(
                translated, targets, data_range=2.0, reduction="elementwise_mean", dim=(1, 2, 3)
            )
        )
        return values


def build_paired_evaluator(
    datamodule: Any,
    inception_weights: str | None = None,
    batch_size: int = 50,
    accelerator: str = "auto",
) -> tuple[PairedEvaluator, PairedProtocol]:
    """The evaluator of a paired datamodule: its test pairs, the rotation net of its training targets
    (trained now, once, when missing) and, with ``inception_weights``, Inception features too."""
    features, meta = load_or_train_rotation_features(
        datamodule.load_split("train"), datamodule.data_shape, feature_net_path(datamodule),
        datamodule.stats_name, accelerator=accelerator,
    )  # fmt: skip
    inception = (
        build_extractor("inception", datamodule.root, datamodule.name, inception_weights)
        if inception_weights
        else None
    )
    if "test" not in datamodule.splits or datamodule.num_pairs("test") < 2:
        raise ConfigError(
            "The paired metrics compare translations of the test pairs with their targets, and FID needs "
            "at least 2 of them: give testA/ testB/ folders or a larger data.test_fraction (or metrics=none)."
        )
    pairs = datamodule.pair_images("test")
    items = [pairs[i] for i in range(len(pairs))]
    sources, targets = torch.stack([s for s, _ in items]), torch.stack([t for _, t in items])
    evaluator = PairedEvaluator(sources, targets, features, inception, batch_size)
    extractors = [f"{features.tag} (rotation accuracy {meta['test_accuracy']:.3f})"]
    if inception is not None:
        extractors.append(inception.tag)
    return evaluator, PairedProtocol(extractors, len(sources), datamodule.source)
