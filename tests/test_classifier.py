"""``python -m gan_lightning.classifier``: training, where the file goes, and class consistency on real
images (the classifier's judgement of real labelled images is its own test accuracy)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf
from torch.utils.data import DataLoader

from gan_lightning.classifier import train_classifier
from gan_lightning.data import MNISTDataModule
from gan_lightning.errors import ConfigError
from gan_lightning.files import CACHE_ENV
from gan_lightning.metrics.classifier_net import load_classifier
from gan_lightning.metrics.classifier_training import DEFAULTS
from gan_lightning.metrics.evaluator import SampleEvaluator
from gan_lightning.metrics.extractors import ClassifierFeatures
from tests.conftest import make_mnist_like
from tests.eval_helpers import cli, compose_config, single_thread, tiny_classifier, tiny_data_root


@pytest.fixture(autouse=True)
def _isolated(monkeypatch):
    monkeypatch.delenv(CACHE_ENV, raising=False)
    with single_thread():
        yield


def test_command_trains_saves_and_reports_the_accuracy(tmp_path):
    root = make_mnist_like(tmp_path / "data", "MNIST", n_train=512, n_test=128)
    result = cli(
        "gan_lightning.classifier",
        "data=mnist",
        f"data.root={root}",
        "classifier.epochs=2",
        "classifier.batch_size=32",
        "accelerator=cpu",
        env={CACHE_ENV: None},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    path = root / "classifiers" / "mnist.pt"
    match = re.search(
        r"mnist classifier: test accuracy (\d\.\d{4}) \(test split\), saved to (\S+)", result.stdout
    )
    assert match, result.stdout
    assert Path(match.group(2)) == path
    net, meta = load_classifier(path, "mnist")
    assert meta["dataset"] == "mnist"
    assert meta["test_accuracy"] > 0.5  # blobs whose position is the label: easy
    assert float(match.group(1)) == pytest.approx(meta["test_accuracy"], abs=5e-5)
    assert sorted(p.name for p in path.parent.iterdir()) == ["mnist.pt"]
    assert net(torch.zeros(2, 1, 28, 28)).shape == (2, 10)


def compose_classifier(root: Path, *overrides: str):
    return compose_config(
        "classifier",
        f"data.root={root}",
        "classifier.batch_size=32",
        "classifier.epochs=1",
        "accelerator=cpu",
        *overrides,
    )


def test_the_command_and_the_first_run_share_one_recipe(tmp_path):
    options = OmegaConf.to_container(compose_config("classifier", f"data.root={tmp_path}").classifier)
    assert options.pop("path") is None
    assert options == DEFAULTS


def test_gan_cache_dir_receives_the_classifier(tmp_path, monkeypatch, capsys):
    root = make_mnist_like(tmp_path / "data", "MNIST")
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    accuracy = train_classifier(compose_classifier(root))
    path = tmp_path / "cache" / "classifiers" / "mnist.pt"
    assert load_classifier(path)[1]["test_accuracy"] == accuracy
    assert not (root / "classifiers").exists()
    assert f"saved to {path}" in capsys.readouterr().out


def test_classifier_path_option(tmp_path):
    root = make_mnist_like(tmp_path / "data", "FashionMNIST")
    target = tmp_path / "elsewhere" / "fm.pt"
    accuracy = train_classifier(compose_classifier(root, "data=fashion_mnist", f"classifier.path={target}"))
    meta = load_classifier(target)[1]
    assert (meta["dataset"], meta["test_accuracy"]) == ("fashion_mnist", accuracy)
    assert not (root / "classifiers").exists()


def test_toy_data_has_no_classifier(tmp_path):
    with pytest.raises(ConfigError, match="needs a labelled image dataset; 'gaussian_mixture'"):
        train_classifier(compose_classifier(tmp_path, "data=gaussian_mixture"))


def class_consistency(path: Path, dataset) -> tuple[float, float]:
    """(class_acc of the evaluator fed the real images with their true labels, accuracy by argmax)."""
    classifier, _ = load_classifier(path, "mnist")
    images, labels = next(iter(DataLoader(dataset, batch_size=len(dataset))))
    evaluator = SampleEvaluator(
        ClassifierFeatures(classifier, tag="classifier-test"),
        torch.zeros(len(images), classifier.config["feature_dim"]),
        n_fake=len(images),
        metrics=("class_acc",),
        num_classes=10,
    )
    for start in range(0, len(images), 10):  # in batches, as generated images are fed
        evaluator.update(images[start : start + 10], labels[start : start + 10])
    values = evaluator.compute()
    direct = (classifier(images).argmax(1) == labels).double().mean().item()
    assert sum(values["class_histogram"]) == len(images)
    assert values["class_histogram"] == torch.bincount(classifier(images).argmax(1), minlength=10).tolist()
    return values["class_acc"], direct


def test_class_consistency_of_real_test_images_is_the_classifier_accuracy(tmp_path_factory):
    path = tiny_classifier(tmp_path_factory)
    test_split = MNISTDataModule(root=tiny_data_root(tmp_path_factory)).load_split("test")
    assert len(test_split) == 32
    class_acc, direct = class_consistency(path, test_split)
    assert class_acc == pytest.approx(direct, abs=1e-7)  # float32 of the same fraction k / 32
    assert round(class_acc * 32) == round(direct * 32)
    # ...and the accuracy measured when the classifier was trained, on the same images.
    assert class_acc == pytest.approx(load_classifier(path)[1]["test_accuracy"], abs=1e-6)


def test_class_consistency_on_a_subset_of_classes(tmp_path_factory):
    path = tiny_classifier(tmp_path_factory)
    subset = MNISTDataModule(root=tiny_data_root(tmp_path_factory), classes=[1, 3]).load_split("test")
    assert len(subset) == 7  # labels cycle 0..9 over 32 images: 1, 3 four and three times
    class_acc, direct = class_consistency(path, subset)
    assert round(class_acc * 7) == round(direct * 7)
