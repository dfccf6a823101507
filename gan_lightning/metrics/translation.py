"""Metrics of unpaired translation, per direction (``a2b``: G(A) judged against B; ``b2a``: F(B)
against A), shared by the training callback and ``python -m gan_lightning.evaluate``.

For each direction, every test image of the source domain is translated (by the EMA generators when
the model has them) and measured:

- ``fid_<dir>``, ``kid_<dir>``: FID / KID of the translations against the real test images of the
  target domain, in the domain classifier's feature space (:mod:`~gan_lightning.metrics.domain_classifier`,
  offline) and, with Inception weights, also in Inception space (``fid_inception_<dir>``, ...);
- ``domain_acc_<dir>``: the fraction of translations the domain classifier assigns to the target domain;
- ``cycle_l1_<dir>``, ``cycle_psnr_<dir>``: mean |x - F(G(x))| and PSNR (dB, range [-1, 1]) of the
  round trip;
- ``identity_l1_<dir>``: mean |y - G(y)| on test images y of the target domain (G should leave them be).

Test sets are small (120 and 140 horse2zebra images): FID over so few images is biased upwards;
compare values at equal protocol only, and prefer KID, which is unbiased.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import Tensor, nn
from torchmetrics.functional.image import peak_signal_noise_ratio

from gan_lightning.metrics.domain_classifier import DOMAIN_LABELS, load_or_train_domain_features, stack_images
from gan_lightning.metrics.evaluator import SampleEvaluator
from gan_lightning.metrics.extractors import build_extractor

DIRECTIONS = {"a2b": ("a", "b"), "b2a": ("b", "a")}  # direction -> (source domain, target domain)
SCALARS = (
    "fid",
    "kid",
    "domain_acc",
    "cycle_l1",
    "cycle_psnr",
    "identity_l1",
    "fid_inception",
    "kid_inception",
)


@dataclass
class TranslationProtocol:
    """What the values mean: feature spaces and test-set sizes."""

    extractors: list[str]
    test_images: dict[str, int]
    source: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        sizes = ", ".join(f"{d.upper()} {n}" for d, n in self.test_images.items())
        return f"{' + '.join(self.extractors)}; all test images ({sizes}) [{self.source}]"


class TranslationEvaluator:
    """Holds the test images of both domains and, per feature space, their real features.

    Args:
        test_images: ``{"a": (N_a, C, S, S), "b": (N_b, C, S, S)}`` in [-1, 1].
        domain_features: the domain classifier's extractor (:class:`DomainFeatures`).
        inception: optionally FID's Inception extractor (its values get an ``_inception`` suffix).
        batch_size: images per forward pass.
    """

    def __init__(
        self,
        test_images: dict[str, Tensor],
        domain_features: nn.Module,
        inception: nn.Module | None = None,
        batch_size: int = 50,
        kid_subset_size: int = 100,
    ) -> None:
        self.test_images = test_images
        self.batch_size = batch_size
        self.spaces = {"": domain_features} | ({"_inception": inception} if inception is not None else {})
        self.kid_subset_size = kid_subset_size

    def _evaluator(self, extractor: nn.Module, target: str, n_fake: int, judge: bool) -> SampleEvaluator:
        real = torch.cat([extractor(chunk) for chunk in self.test_images[target].split(self.batch_size)])
        return SampleEvaluator(
            extractor, real.cpu(), n_fake, metrics=("fid", "kid", "class_acc") if judge else ("fid", "kid"),
            num_classes=2 if judge else None, kid_subset_size=self.kid_subset_size,
        )  # fmt: skip

    @torch.no_grad()
    def evaluate(self, model, ema: bool | None = None) -> dict[str, float]:
        """``{"fid_a2b": ..., "domain_acc_b2a": ..., ...}`` of ``model`` (an UnpairedTranslation)."""
        was_training = model.training
        model.eval()
        values: dict[str, float] = {}
        try:
            for direction, (source, target) in DIRECTIONS.items():
                back = "b2a" if direction == "a2b" else "a2b"
                translated, cycled, identity = [], [], []
                for chunk in self.test_images[source].split(self.batch_size):
                    chunk = chunk.to(model.device)
                    fake = model.translate(chunk, direction, ema).float()
                    translated.append(fake.cpu())
                    cycled.append(model.translate(fake, back, ema).float().cpu())
                for chunk in self.test_images[target].split(self.batch_size):
                    identity.append(model.translate(chunk.to(model.device), direction, ema).float().cpu())
                translated, cycled, identity = torch.cat(translated), torch.cat(cycled), torch.cat(identity)
                sources, targets = self.test_images[source].float(), self.test_images[target].float()
                for suffix, extractor in self.spaces.items():
                    extractor = extractor.cpu()
                    evaluator = self._evaluator(extractor, target, len(translated), judge=suffix == "")
                    for chunk in translated.split(self.batch_size):
                        label = torch.full((len(chunk),), DOMAIN_LABELS[target])
                        evaluator.update(chunk, label if suffix == "" else None)
                    computed = evaluator.compute()
                    values[f"fid{suffix}_{direction}"] = computed["fid"]
                    values[f"kid{suffix}_{direction}"] = computed["kid"]
                    if suffix == "":
                        values[f"domain_acc_{direction}"] = computed["class_acc"]
                values[f"cycle_l1_{direction}"] = float((cycled - sources).abs().mean())
                values[f"cycle_psnr_{direction}"] = float(
                    peak_signal_noise_ratio(
                        cycled, sources, data_range=2.0, reduction="elementwise_mean", dim=(1, 2, 3)
                    )
                )
                values[f"identity_l1_{direction}"] = float((identity - targets).abs().mean())
        finally:
            model.train(was_training)
        return values


def build_translation_evaluator(
    datamodule: Any,
    inception_weights: str | None = None,
    batch_size: int = 50,
    accelerator: str = "auto",
) -> tuple[TranslationEvaluator, TranslationProtocol]:
    """The evaluator of an unpaired datamodule: its test images, its domain classifier (trained now,
    once, when missing) and, when ``inception_weights`` is given, Inception features too."""
    domain_features, meta = load_or_train_domain_features(datamodule, accelerator)
    inception = (
        build_extractor("inception", datamodule.root, datamodule.name, inception_weights)
        if inception_weights
        else None
    )
    test_images = {d: stack_images(datamodule.domain_images(d, "test")) for d in DOMAIN_LABELS}
    evaluator = TranslationEvaluator(test_images, domain_features, inception, batch_size)
    extractors = [f"{domain_features.tag} (test accuracy {meta['test_accuracy']:.3f})"]
    if inception is not None:
        extractors.append(inception.tag)
    protocol = TranslationProtocol(extractors, {d: len(x) for d, x in test_images.items()}, datamodule.source)
    return evaluator, protocol
