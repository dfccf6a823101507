"""Translation metrics: the domain classifier, and the per-direction values against hand computations."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from gan_lightning.data import UnpairedDataModule
from gan_lightning.errors import ConfigError
from gan_lightning.metrics.classifier_net import DatasetClassifier
from gan_lightning.metrics.content_classifier import content_classifier_path, load_or_train_content_classifier
from gan_lightning.metrics.domain_classifier import DomainFeatures, train_domain_classifier
from gan_lightning.metrics.extractors import InceptionFeatures
from gan_lightning.metrics.translation import TranslationEvaluator, build_translation_evaluator
from tests.conftest import make_labelled_domains
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


# --- content preservation -------------------------------------------------------------------------


class GreenClass(nn.Module):
    """A stand-in classifier of 3 classes, blind to the domain: the class is the third of [-1, 1] the
    image's mean green level falls in."""

    def predict(self, images: torch.Tensor) -> torch.Tensor:
        return ((images[:, 1].mean(dim=(1, 2)) + 1) * 1.5).floor().clamp(0, 2).long()


def green_classes(labels: list[int], red: float, seed: int) -> torch.Tensor:
    """Images (N, 3, 8, 8) whose green level encodes ``labels`` (the middle of each class's third) and
    whose red level (the domain) is ``red``, blue noise."""
    generator = torch.Generator().manual_seed(seed)
    images = torch.rand(len(labels), 3, 8, 8, generator=generator) * 2 - 1
    images[:, 0] = red
    images[:, 1] = (torch.tensor(labels, dtype=torch.float)[:, None, None] * 2 + 1) / 3 - 1
    return images


class Constant(Shift):
    """A generator that ignores its input: every translation is ``image``."""

    def __init__(self, image: torch.Tensor) -> None:
        super().__init__(0.0)
        self.image = image

    def translate(self, images: torch.Tensor, direction: str, ema=None) -> torch.Tensor:
        return self.image.expand(len(images), -1, -1, -1).clone()


def test_content_preservation_against_hand_computations():
    labels = {"a": [0, 0, 1, 1, 2, 2, 2], "b": [0, 1, 1, 2, 2]}
    images = {"a": green_classes(labels["a"], -0.8, 0), "b": green_classes(labels["b"], 0.8, 1)}
    classifier = DomainFeatures(DatasetClassifier((3, 8, 8), 2, width=4, feature_dim=8), tag="domains-x")
    judges = {"a": GreenClass(), "b": GreenClass()}

    def content(model, given: dict[str, list[int]]) -> dict[str, float]:
        evaluator = TranslationEvaluator(
            images, classifier, batch_size=3, kid_subset_size=2,
            labels={d: torch.tensor(v) for d, v in given.items()}, content=judges,
        )  # fmt: skip
        assert "content_acc_a2b" in evaluator.scalar_names
        values = evaluator.evaluate(model)
        return {d: values[f"content_acc_{d}"] for d in ("a2b", "b2a")}

    # identity generators and a perfect judge: content kept, the judge's accuracy (1)
    assert content(Shift(0.0), labels) == {"a2b": 1.0, "b2a": 1.0}
    # a judge wrong on 2 of A's 7 images and 1 of B's 5: the identity scores the judge's accuracy
    wrong = {"a": [1, 2, 1, 1, 2, 2, 2], "b": [0, 1, 1, 2, 0]}
    assert content(Shift(0.0), wrong) == {"a2b": pytest.approx(5 / 7), "b2a": pytest.approx(4 / 5)}
    # a generator that draws one image of class 2 for any input: the share of class 2 in the sources
    constant = Constant(green_classes([2], 0.0, 2))
    assert content(constant, labels) == {"a2b": pytest.approx(3 / 7), "b2a": pytest.approx(2 / 5)}


def test_no_content_preservation_without_labels():
    images = two_domains(4)
    classifier = DomainFeatures(DatasetClassifier((3, 16, 16), 2, width=4, feature_dim=8), tag="domains-x")
    evaluator = TranslationEvaluator(images, classifier, batch_size=4, kid_subset_size=2)
    assert not any(name.startswith("content_acc") for name in evaluator.scalar_names)
    assert "content_acc_a2b" not in evaluator.evaluate(Shift(0.1))
    with pytest.raises(ValueError, match="labels"):
        TranslationEvaluator(images, classifier, content={"a": GreenClass(), "b": GreenClass()})


class ReverseChannels(Shift):
    """Both directions reverse the colour channels: on make_labelled_domains, test A becomes test B."""

    def __init__(self) -> None:
        super().__init__(0.0)

    def translate(self, images: torch.Tensor, direction: str, ema=None) -> torch.Tensor:
        return images.flip(1)


def labelled_datamodule(root, cache) -> UnpairedDataModule:
    return UnpairedDataModule(path=str(root), root=str(cache), image_size=32, batch_size=2)


def test_content_classifiers_are_trained_once_and_judge_real_translations(labelled_domains, tmp_path):
    dm = labelled_datamodule(labelled_domains, tmp_path / "cache")
    evaluator, protocol = build_translation_evaluator(dm, batch_size=8, accelerator="cpu")
    for domain in "ab":
        assert content_classifier_path(dm.root, dm.stats_name, domain).is_file()
    assert set(protocol.content) == {"a2b", "b2a"} and protocol.content["a2b"]["classes"] == 3
    assert protocol.content["a2b"]["classifier"].startswith("classes-b-")  # judged in the target domain
    assert "content preservation over 3 classes" in str(protocol)
    values = evaluator.evaluate(ReverseChannels())
    # test A reversed is test B, image for image: the score is the B classifier's own accuracy on real B
    assert values["content_acc_a2b"] == pytest.approx(protocol.content["a2b"]["ceiling"])
    assert values["content_acc_b2a"] == pytest.approx(protocol.content["b2a"]["ceiling"])
    constant = Constant(evaluator.test_images["b"][:1])  # one real B image for every input
    assert evaluator.content_accuracy(constant.translate(evaluator.test_images["a"], "a2b"), "a", "b") == (
        pytest.approx(1 / 3)  # 4 test images of each class: whatever it is called, a third match it
    )
    found = load_or_train_content_classifier(dm, "b", "cpu", train=False)
    assert found is not None and not found[1]["trained_now"]  # cached


def test_asking_for_content_preservation_on_unlabelled_or_untrained_domains_says_what_to_do(
    tmp_path, labelled_domains
):
    unlabelled = make_labelled_domains(tmp_path / "other", names_b=("cross", "circle", "square"))
    dm = labelled_datamodule(unlabelled, tmp_path / "cache")
    with pytest.raises(ConfigError, match="needs two labelled domains.*only in B: circle"):
        build_translation_evaluator(dm, accelerator="cpu", content=True)
    evaluator, protocol = build_translation_evaluator(dm, accelerator="cpu")  # null: left out quietly
    assert evaluator.content is None and protocol.content is None
    dm = labelled_datamodule(labelled_domains, tmp_path / "cache")
    with pytest.raises(ConfigError, match="train_classifier=false.*train_classifier=true"):
        build_translation_evaluator(dm, accelerator="cpu", content=True, train_classifier=False)
    evaluator, _ = build_translation_evaluator(dm, accelerator="cpu", train_classifier=False)
    assert evaluator.content is None
    evaluator, _ = build_translation_evaluator(dm, accelerator="cpu", content=False)
    assert evaluator.content is None
