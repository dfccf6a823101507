"""FID on the real MNIST test set (from ../shared/datasets): two halves are close, noise is far."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import DataLoader, Subset

from gan_lightning.data import MNISTDataModule
from gan_lightning.metrics.classifier_net import DatasetClassifier
from gan_lightning.metrics.evaluator import SampleEvaluator
from gan_lightning.metrics.extractors import ClassifierFeatures
from gan_lightning.metrics.real_stats import extract_features
from tests.conftest import SHARED_DATASETS

pytestmark = pytest.mark.skipif(
    not (SHARED_DATASETS / "MNIST").is_dir(), reason="needs ../shared/datasets/MNIST"
)


def test_fid_between_real_halves_is_small_and_against_noise_large():
    datamodule = MNISTDataModule(root=SHARED_DATASETS, download=False)
    test_set = datamodule.load_split("test")
    torch.manual_seed(0)
    extractor = ClassifierFeatures(DatasetClassifier((1, 28, 28), 10), tag="random-cnn")
    first_half = Subset(test_set, range(2000))
    second_half = Subset(test_set, range(2000, 4000))
    evaluator = SampleEvaluator(
        extractor, extract_features(extractor, first_half, 2000), 2000, metrics=("fid",)
    )

    for images, _ in DataLoader(second_half, batch_size=500):
        evaluator.update(images)
    fid_real = evaluator.compute()["fid"]
    evaluator.reset()
    for _ in range(4):
        evaluator.update(torch.rand(500, 1, 28, 28) * 2 - 1)
    fid_noise = evaluator.compute()["fid"]

    assert fid_real >= 0
    assert fid_real < 0.05 * fid_noise, (fid_real, fid_noise)
