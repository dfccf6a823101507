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
- ``identity_l1_<dir>``: mean |y - G(y)| on test images y of the target domain (G should leave them be);
- ``content_acc_<dir>``, when both domains carry the same classes (class sub-folders): the share of
  translations that a classifier of the target domain's classes gives their source's class
  (:mod:`~gan_lightning.metrics.content_classifier`; its accuracy on real target test images, the
  ceiling, is in the protocol). Domain accuracy and FID cannot tell a translation from a replacement
  (any good image of the target domain scores well); content preservation can.

Which value is better (lower FID / KID / L1, higher accuracy and PSNR) is stated in
:data:`gan_lightning.log_names.METRICS`.

Test sets are small (120 and 140 horse2zebra images): FID over so few images is biased upwards;
compare values at equal protocol only, and prefer KID, which is unbiased.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import Tensor, nn
from torchmetrics.functional.image import peak_signal_noise_ratio

from gan_lightning.errors import ConfigError
from gan_lightning.metrics.content_classifier import content_classifier_path, load_or_train_content_classifier
from gan_lightning.metrics.domain_classifier import DOMAIN_LABELS, load_or_train_domain_features, stack_images
from gan_lightning.metrics.evaluator import SampleEvaluator
from gan_lightning.metrics.extractors import build_extractor

log = logging.getLogger(__name__)
DIRECTIONS = {"a2b": ("a", "b"), "b2a": ("b", "a")}  # direction -> (source domain, target domain)
#: the metrics of each direction (logged as ``val/<name>_<direction>``), in the order they are listed
SCALARS = (
    "fid",
    "kid",
    "domain_acc",
    "content_acc",
    "cycle_l1",
    "cycle_psnr",
    "identity_l1",
    "fid_inception",
    "kid_inception",
)


@dataclass
class TranslationProtocol:
    """What the values mean: feature spaces, test-set sizes and, with labelled domains, the content
    classifiers (``content``: per direction the target's classifier and its accuracy on real target
    test images, the ceiling of ``content_acc_<direction>``)."""

    extractors: list[str]
    test_images: dict[str, int]
    source: str
    content: dict[str, dict[str, Any]] | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        sizes = ", ".join(f"{d.upper()} {n}" for d, n in self.test_images.items())
        text = f"{' + '.join(self.extractors)}; all test images ({sizes}) [{self.source}]"
        if self.content:
            judges = ", ".join(
                f"{direction}: {c['classifier']} (accuracy on real test images {c['ceiling']:.3f})"
                for direction, c in self.content.items()
            )
            text += f"; content preservation over {self.content_classes} classes, judged by {judges}"
        return text

    @property
    def content_classes(self) -> int:
        return next(iter(self.content.values()))["classes"] if self.content else 0


class TranslationEvaluator:
    """Holds the test images of both domains and, per feature space, their real features.

    Args:
        test_images: ``{"a": (N_a, C, S, S), "b": (N_b, C, S, S)}`` in [-1, 1].
        domain_features: the domain classifier's extractor (:class:`DomainFeatures`).
        inception: optionally FID's Inception extractor (its values get an ``_inception`` suffix).
        batch_size: images per forward pass.
        labels: with ``content``: ``{"a": (N_a,), "b": (N_b,)}`` the class of each test image.
        content: ``{"a": classifier, "b": classifier}``: per target domain, a net with ``predict(images)
            -> (N,)`` classes (:class:`~gan_lightning.metrics.classifier_net.ResizedClassifier`); adds
            ``content_acc_<direction>``.
    """

    def __init__(
        self,
        test_images: dict[str, Tensor],
        domain_features: nn.Module,
        inception: nn.Module | None = None,
        batch_size: int = 50,
        kid_subset_size: int = 100,
        labels: dict[str, Tensor] | None = None,
        content: dict[str, nn.Module] | None = None,
    ) -> None:
        self.test_images = test_images
        self.batch_size = batch_size
        self.spaces = {"": domain_features} | ({"_inception": inception} if inception is not None else {})
        self.kid_subset_size = kid_subset_size
        if content is not None and labels is None:
            raise ValueError("content preservation needs the labels of the test images")
        self.labels, self.content = labels, content

    @property
    def scalar_names(self) -> tuple[str, ...]:
        """The names :meth:`evaluate` returns (``fid_a2b``, ``fid_b2a``, ...), each metric's directions
        together, in :data:`SCALARS`' order."""
        computed = {"fid", "kid", "domain_acc", "cycle_l1", "cycle_psnr", "identity_l1"}
        computed |= {"content_acc"} if self.content is not None else set()
        computed |= {f"{m}_inception" for m in ("fid", "kid") if "_inception" in self.spaces}
        return tuple(f"{m}_{d}" for m in SCALARS if m in computed for d in DIRECTIONS)

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
                if self.content is not None:
                    values[f"content_acc_{direction}"] = self.content_accuracy(translated, source, target)
        finally:
            model.train(was_training)
        return values

    @torch.no_grad()
    def content_accuracy(self, translated: Tensor, source: str, target: str) -> float:
        """The share of ``translated`` (the source domain's test images, translated, in order) that the
        target domain's classifier gives their source image's class."""
        classifier = self.content[target].cpu()
        predicted = torch.cat([classifier.predict(chunk) for chunk in translated.split(self.batch_size)])
        return float((predicted.cpu() == self.labels[source]).float().mean())


def build_translation_evaluator(
    datamodule: Any,
    inception_weights: str | None = None,
    batch_size: int = 50,
    accelerator: str = "auto",
    content: bool | None = None,
    train_classifier: bool = True,
) -> tuple[TranslationEvaluator, TranslationProtocol]:
    """The evaluator of an unpaired datamodule: its test images, its domain classifier (trained now,
    once, when missing) and, when ``inception_weights`` is given, Inception features too.

    ``content``: content preservation (``content_acc_<direction>``) with the classifiers of the domains'
    classes (trained now, once, when missing and ``train_classifier``): ``None`` when the domains are
    labelled (and the classifiers are there or may be trained), ``True`` insists (ConfigError otherwise),
    ``False`` leaves it out.
    """
    domain_features, meta = load_or_train_domain_features(datamodule, accelerator)
    inception = (
        build_extractor("inception", datamodule.root, datamodule.name, inception_weights)
        if inception_weights
        else None
    )
    test_images = {d: stack_images(datamodule.domain_images(d, "test")) for d in DOMAIN_LABELS}
    labels, classifiers, judges = _content_classifiers(datamodule, content, train_classifier, accelerator)
    evaluator = TranslationEvaluator(
        test_images, domain_features, inception, batch_size, labels=labels, content=classifiers
    )
    extractors = [f"{domain_features.tag} (test accuracy {meta['test_accuracy']:.3f})"]
    if inception is not None:
        extractors.append(inception.tag)
    sizes = {d: len(x) for d, x in test_images.items()}
    return evaluator, TranslationProtocol(extractors, sizes, datamodule.source, judges)


def _content_classifiers(
    datamodule: Any, content: bool | None, train: bool, accelerator: str
) -> tuple[dict[str, Tensor] | None, dict[str, nn.Module] | None, dict[str, dict[str, Any]] | None]:
    """(test labels per domain, classifier per target domain, protocol per direction) of content
    preservation, or three Nones when it is off (see :func:`build_translation_evaluator`)."""
    if content is False:
        return None, None, None
    classes = getattr(datamodule, "domain_classes", None)
    if classes is None:
        if content:
            why = getattr(datamodule, "unlabelled_because", "") or "the data has no labels"
            raise ConfigError(
                f"metrics.content_preservation=true needs two labelled domains, but {why}. Put every "
                "image of both domains in class sub-folders with the same names on both sides "
                "(trainA/<class>/..., trainB/<class>/..., testA/<class>/..., testB/<class>/...), or set "
                "metrics.content_preservation=null (measured when the domains are labelled)."
            )
        return None, None, None
    loaded = {d: load_or_train_content_classifier(datamodule, d, accelerator, train) for d in DOMAIN_LABELS}
    missing = [d.upper() for d, found in loaded.items() if found is None]
    if missing:
        paths = ", ".join(
            str(content_classifier_path(datamodule.root, datamodule.stats_name, d.lower())) for d in missing
        )
        if content:
            raise ConfigError(
                "metrics.content_preservation=true: no classifier of the classes of domain "
                f"{' and '.join(missing)} ({paths}) and metrics.train_classifier=false. Set "
                "metrics.train_classifier=true to train it (once, cached), or "
                "metrics.content_preservation=null."
            )
        log.warning(
            "Content preservation is off: no classifier at %s and metrics.train_classifier=false.", paths
        )
        return None, None, None
    labels = {d: datamodule.domain_labels(d, "test") for d in DOMAIN_LABELS}
    judges = {
        direction: {
            "classifier": loaded[target][0].tag,
            "ceiling": float(loaded[target][1]["test_accuracy"]),
            "classes": len(classes),
        }
        for direction, (_, target) in DIRECTIONS.items()
    }
    return labels, {d: found[0] for d, found in loaded.items()}, judges
