"""Translation metrics: the domain classifier, and the per-direction values against hand computations."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from gan_lightning.metrics.classifier_net import DatasetClassifier
from gan_lightning.metrics.domain_classifier import DomainFeatures, train_domain_classifier
from gan_lightning.metrics.extractors import InceptionFeatures
from gan_lightning.metrics.translation import TranslationEvaluator
from tests.metrics.test_extractors import random_inception_weights  # noqa: F401  (a fixture)


def two_domains(n: int, side: int = 16, seed: int = 0) -> dict[str, torch.Tensor]:
    """Domain A dark, domain B bright, with noise."""
    generator = torch.Generator().manual_seed(seed)
    noise = torch.rand(2, n, 3, side, side, generator=generator) * 0.6
    return {"a": noise[0] - 0.9, "b": noise[1] + 0.3}


class Shift(nn.Module):
    """A stand-in translation model: both directions add ``delta`` (a round trip adds 2 delta)."""

    def __init__(self, delta: float) -> None:
        super().__init__()
        self.delta = delta
        self.anchor = nn.Parameter(torch.zeros(()))

    @property
    def device(self) -> torch.device:
        return self.anchor.device

    def translate(self, images: torch.Tensor, direction: str, ema=None) -> torch.Tensor:
        return images + self.delta


def test_domain_classifier_tells_the_domains_apart():
    images = {"train": two_domains(64), "test": two_domains(16, seed=1)}
    net, accuracy = train_domain_classifier(
        images, epochs=6, batch_size=16, width=8, feature_dim=16, accelerator="cpu"
    )
    assert accuracy > 0.9
    features = DomainFeatures(net, tag="domains-test")
    _, predicted = features.features_and_predictions(images["test"]["b"])
    assert predicted.float().mean() > 0.9  # B is class 1


def test_values_per_direction_match_hand_computations(random_inception_weights):  # noqa: F811
    torch.manual_seed(0)
    classifier = DomainFeatures(DatasetClassifier((3, 16, 16), 2, width=8, feature_dim=16), tag="domains-x")
    inception = InceptionFeatures(weights_path=random_inception_weights)
    evaluator = TranslationEvaluator(two_domains(6), classifier, inception, batch_size=4, kid_subset_size=3)
    values = evaluator.evaluate(Shift(0.1))
    for direction in ("a2b", "b2a"):
        assert values[f"cycle_l1_{direction}"] == pytest.approx(0.2, abs=1e-5)
        assert values[f"cycle_psnr_{direction}"] == pytest.approx(10 * math.log10(4 / 0.04), abs=1e-3)
        assert values[f"identity_l1_{direction}"] == pytest.approx(0.1, abs=1e-5)
        assert 0.0 <= values[f"domain_acc_{direction}"] <= 1.0
        assert values[f"fid_{direction}"] > 0 and values[f"fid_inception_{direction}"] > 0
        assert f"kid_inception_{direction}" in values
    # a translation that lands on the target domain scores a lower FID than one that stays at the source
    near = TranslationEvaluator(two_domains(6), classifier, None, batch_size=4, kid_subset_size=3)
    assert near.evaluate(Shift(1.2))["fid_a2b"] < near.evaluate(Shift(0.0))["fid_a2b"]
