"""``data.subset=N``: a fixed N training samples (data-efficiency studies); the test split stays whole."""

from __future__ import annotations

import pytest
import torch

from gan_lightning.data import MNISTDataModule
from gan_lightning.errors import ConfigError


def train_images(dm: MNISTDataModule) -> torch.Tensor:
    dataset = dm.load_split("train")
    return torch.stack([dataset[i][0] for i in range(len(dataset))])


def test_subset_is_fixed_and_leaves_the_test_split_whole(mnist_root):
    a = MNISTDataModule(root=mnist_root, subset=20)
    b = MNISTDataModule(root=mnist_root, subset=20)
    torch.manual_seed(123)  # the run's seed does not choose the subset
    assert len(a.load_split("train")) == 20
    assert torch.equal(train_images(a), train_images(b))
    assert len(a.load_split("test")) == len(MNISTDataModule(root=mnist_root).load_split("test")) == 32
    whole = train_images(MNISTDataModule(root=mnist_root))
    assert not torch.equal(train_images(a), whole[:20])  # a random choice, not the first 20


@pytest.mark.parametrize(
    ("subset", "message"), [(0, "must be a positive number"), (1000, "is more than the 64")]
)
def test_bad_subset(mnist_root, subset, message):
    with pytest.raises(ConfigError, match=message):
        MNISTDataModule(root=mnist_root, subset=subset).load_split("train")
