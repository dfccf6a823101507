"""The training order (EpochShuffle) and the datamodule's resumable, optionally on-device loader."""

from __future__ import annotations

import pytest
import torch

from gan_lightning.data import MNISTDataModule
from gan_lightning.data.order import EpochShuffle
from gan_lightning.errors import ConfigError


def test_every_epoch_is_a_new_permutation_fixed_by_the_seed():
    order = EpochShuffle(50, seed=3)
    epochs = []
    for epoch in range(3):
        order.set_epoch(epoch)
        epochs.append(list(order))
    assert all(sorted(e) == list(range(50)) for e in epochs)
    assert epochs[0] != epochs[1] != epochs[2]
    again = EpochShuffle(50, seed=3)
    again.set_epoch(1)
    assert list(again) == epochs[1]
    other = EpochShuffle(50, seed=4)
    assert list(other) != epochs[0]


def test_start_at_skips_into_the_epoch_once():
    order = EpochShuffle(20, seed=0)
    order.set_epoch(2)
    full = list(order)
    order.start_at(8)
    assert list(order) == full[8:]
    assert list(order) == full  # the next pass starts at the beginning again


def test_ranks_share_the_epoch_without_overlap():
    shares = [list(EpochShuffle(21, seed=1, rank=r, world_size=2)) for r in range(2)]
    assert len(shares[0]) == len(shares[1]) == 10  # equal shares: every rank runs the same steps
    assert not set(shares[0]) & set(shares[1])


def _ready(root, **kwargs) -> MNISTDataModule:
    dm = MNISTDataModule(root=root, download=False, batch_size=16, **kwargs)
    dm.setup("fit")
    return dm


def test_resumed_loader_continues_with_the_next_batch(mnist_root):
    dm = _ready(mnist_root)
    dm.shuffle_seed = 5
    batches = [y for _, y in dm.train_dataloader()]  # 64 images: 4 batches per epoch
    resumed = _ready(mnist_root)
    resumed.load_state_dict({"shuffle_seed": 5, "batches_seen": 2})
    rest = [y for _, y in resumed.train_dataloader()]
    assert len(rest) == 2
    assert all(torch.equal(a, b) for a, b in zip(rest, batches[2:], strict=True))


def test_on_device_gives_the_same_batches_in_one_tensor(mnist_root):
    plain, fast = _ready(mnist_root), _ready(mnist_root, on_device=True)
    plain.shuffle_seed = fast.shuffle_seed = 11
    for (x1, y1), (x2, y2) in zip(plain.train_dataloader(), fast.train_dataloader(), strict=True):
        assert torch.equal(x1, x2) and torch.equal(y1, y2)


def test_on_device_needs_no_workers(mnist_root):
    with pytest.raises(ConfigError, match="data.on_device=true .* data.num_workers=0"):
        MNISTDataModule(root=mnist_root, on_device=True, num_workers=2)
