"""Real features: computed once, then read from an atomic on-disk cache keyed by the protocol."""

from __future__ import annotations

import logging

import pytest
import torch
from torch import Tensor, nn
from torch.utils.data import TensorDataset

from gan_lightning.errors import ConfigError
from gan_lightning.metrics.real_stats import cache_key, extract_features, real_features


class CountingExtractor(nn.Module):
    """Mean of each image row as features (N, 4); counts the images it saw."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0
        self.images = 0

    def forward(self, images: Tensor) -> Tensor:
        self.calls += 1
        self.images += len(images)
        return images.mean(dim=(1, 3))


def dataset(n: int = 20) -> TensorDataset:
    images = torch.randn(n, 1, 4, 6, generator=torch.Generator().manual_seed(0))
    return TensorDataset(images, torch.arange(n) % 10)


def test_features_are_computed_once_then_read_from_the_cache(tmp_path):
    extractor, data = CountingExtractor(), dataset()
    first = real_features(extractor, data, 20, tmp_path / "fid_stats", "key", batch_size=8)
    assert (extractor.calls, extractor.images) == (3, 20)
    torch.testing.assert_close(first, data.tensors[0].mean(dim=(1, 3)))  # all images, in order
    second = real_features(extractor, data, 20, tmp_path / "fid_stats", "key", batch_size=8)
    assert extractor.calls == 3  # not called again
    assert torch.equal(second, first)
    saved = torch.load(tmp_path / "fid_stats" / "key.pt", weights_only=True)
    assert saved["key"] == "key" and torch.equal(saved["features"], first)


def test_the_cache_is_what_is_read(tmp_path):
    extractor, data = CountingExtractor(), dataset()
    real_features(extractor, data, 20, tmp_path, "key")
    torch.save({"features": torch.zeros(20, 4), "key": "key"}, tmp_path / "key.pt")
    assert torch.equal(real_features(extractor, data, 20, tmp_path, "key"), torch.zeros(20, 4))
    other = real_features(extractor, data, 20, tmp_path, "other key")
    assert extractor.calls == 2 and other.abs().sum() > 0


def test_cache_file_is_written_atomically(tmp_path):
    real_features(CountingExtractor(), dataset(), 10, tmp_path / "stats", "mnist_test_all_x_n10")
    real_features(CountingExtractor(), dataset(), 5, tmp_path / "stats", "mnist_test_all_x_n5")
    assert sorted(p.name for p in (tmp_path / "stats").iterdir()) == [
        "mnist_test_all_x_n10.pt",
        "mnist_test_all_x_n5.pt",
    ]


def test_a_subset_is_fixed_and_random():
    data = dataset(20)
    a = extract_features(CountingExtractor(), data, 8)
    b = extract_features(CountingExtractor(), data, 8)
    everything = data.tensors[0].mean(dim=(1, 3))
    assert a.shape == (8, 4) and torch.equal(a, b)  # same images every time (seed 0)
    chosen = [int((everything == row).all(dim=1).nonzero()) for row in a]
    assert len(set(chosen)) == 8 and chosen != list(range(8))  # distinct images, not the first 8


def test_cache_key_names_every_part_of_the_protocol():
    base = cache_key("mnist", "test", None, "classifier-abc", 10000)
    assert base == "mnist_test_all_classifier-abc_n10000"
    variants = [
        cache_key("fashion_mnist", "test", None, "classifier-abc", 10000),
        cache_key("mnist", "train", None, "classifier-abc", 10000),
        cache_key("mnist", "test", [3], "classifier-abc", 10000),
        cache_key("mnist", "test", [0, 1], "classifier-abc", 10000),
        cache_key("mnist", "test", None, "inception-123", 10000),
        cache_key("mnist", "test", None, "classifier-abc", 5000),
    ]
    assert len({base, *variants}) == 7
    assert variants[3] == "mnist_test_c0-1_classifier-abc_n10000"


def test_more_images_than_the_reference_set_is_a_config_error(tmp_path):
    extractor = CountingExtractor()
    with pytest.raises(ConfigError, match="has 20 images, fewer than the 21 requested"):
        real_features(extractor, dataset(20), 21, tmp_path, "key")
    assert extractor.calls == 0 and not list(tmp_path.iterdir())


def test_unwritable_cache_only_warns(tmp_path, caplog):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    data = dataset()
    with caplog.at_level(logging.WARNING, logger="gan_lightning.metrics.real_stats"):
        features = real_features(CountingExtractor(), data, 20, blocker / "fid_stats", "key")
    torch.testing.assert_close(features, data.tensors[0].mean(dim=(1, 3)))
    assert "Could not cache real features" in caplog.text and "GAN_CACHE_DIR" in caplog.text
    assert blocker.is_file() and blocker.read_text() == ""
