"""The training order (EpochShuffle) and the datamodule's resumable, optionally on-device loader."""

from __future__ import annotations

import random

import pytest
import torch
from torch.utils.data import BatchSampler

from gan_lightning.data import MNISTDataModule
from gan_lightning.data.order import BatchSizes, EpochShuffle, ScheduledBatches
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


# --- batches whose size changes with the step ---------------------------------------------------------


def run_batches(order: EpochShuffle, sizes: BatchSizes, per_epoch: int, n: int, first: int = 0):
    """The run's batches ``first`` .. ``first + n - 1``, pass after pass, counted as the datamodule
    counts them (``batches_seen``, read at the start of each pass); each pass's batches as a list."""
    seen = [first]
    batches = ScheduledBatches(order, sizes, per_epoch, next_batch=lambda: seen[0])
    passes = []
    while seen[0] < first + n:
        passes.append([])
        for batch in batches:
            passes[-1].append(batch)
            seen[0] += 1
    return passes


def test_one_size_gives_the_batches_of_a_plain_loader():
    order = EpochShuffle(22, seed=4)
    passes = run_batches(order, BatchSizes.constant(5), per_epoch=4, n=12)
    plain = []
    for epoch in range(3):
        order.set_epoch(epoch)
        plain.append(list(BatchSampler(order, batch_size=5, drop_last=True)))
    assert passes == plain


def test_each_batch_takes_the_next_indices_of_one_permutation():
    """20 samples; sizes 6 (steps 0-2), 4 (steps 3-6), 3 from step 7 on. After step 2 only 2 samples of
    permutation 0 are left, fewer than 4: step 3 starts permutation 1 (as drop_last would)."""
    order = EpochShuffle(20, seed=1)
    sizes = BatchSizes(starts=(0, 3, 7), sizes=(6, 4, 3), names=("a", "b", "c"))
    passes = run_batches(order, sizes, per_epoch=5, n=15)
    assert [len(p) for p in passes] == [5, 5, 5]  # loader epochs of per_epoch batches
    batches = sum(passes, [])
    assert [len(b) for b in batches] == [6, 6, 6, 4, 4, 4, 4, 3, 3, 3, 3, 3, 3, 3, 3]
    p0, p1, p2 = (order.permutation(e).tolist() for e in range(3))
    assert sum(batches[:3], []) == p0[:18]  # 2 left over: skipped
    assert sum(batches[3:8], []) == p1[:19]  # 4 x 4 + 3
    assert batches[8] == p2[:3]  # 1 left in p1, fewer than 3
    assert all(len(set(b)) == len(b) for b in batches)


@pytest.mark.parametrize("seed", range(6))
def test_starting_at_any_batch_continues_the_uninterrupted_run(seed):
    """A loader made at batch k (a resumed run) yields the rest of k's loader epoch, then the next
    epochs, exactly as the uninterrupted run did."""
    rng = random.Random(seed)
    n, per_epoch = rng.randint(10, 30), rng.randint(1, 6)
    starts = sorted({0, *(rng.randint(0, 25) for _ in range(rng.randint(0, 4)))})
    sizes = BatchSizes(tuple(starts), tuple(rng.randint(1, n) for _ in starts), tuple("x" for _ in starts))
    order = EpochShuffle(n, seed=seed)
    full = sum(run_batches(order, sizes, per_epoch, n=8 * per_epoch), [])
    assert [len(b) for b in full] == [sizes.at(k) for k in range(len(full))]
    for k in range(len(full) - per_epoch):
        resumed = run_batches(order, sizes, per_epoch, n=per_epoch, first=k)
        assert len(resumed[0]) == per_epoch - k % per_epoch, k
        assert sum(resumed, []) == full[k : k + sum(map(len, resumed))], k


def test_the_loader_follows_the_models_batch_sizes(mnist_root):
    """The datamodule's loader (plain and on the device) takes the sizes of the plan step by step, and a
    loader rebuilt at batches_seen (resume) continues with the same batches."""
    plan = BatchSizes(starts=(0, 2, 5), sizes=(16, 8, 4), names=("a", "b", "c"))
    loaders = []
    for on_device in (False, True):
        dm = _ready(mnist_root, on_device=on_device)
        dm.shuffle_seed = 3
        dm.training_batch_sizes = lambda: plan
        loaders.append(dm)
    plain = [(x, y) for _, (x, y) in zip(range(4), loaders[0].train_dataloader(), strict=False)]
    fast = [(x, y) for _, (x, y) in zip(range(4), loaders[1].train_dataloader(), strict=False)]
    assert [y.shape[0] for _, y in plain] == [16, 16, 8, 8]  # one loader epoch: 64 // 16 batches
    for (x1, y1), (x2, y2) in zip(plain, fast, strict=True):
        assert torch.equal(x1, x2) and torch.equal(y1, y2)
    resumed = _ready(mnist_root)
    resumed.load_state_dict({"shuffle_seed": 3, "batches_seen": 2})
    resumed.training_batch_sizes = lambda: plan
    rest = [y for _, y in resumed.train_dataloader()]
    assert len(rest) == 2 and all(torch.equal(a, b) for a, (_, b) in zip(rest, plain[2:], strict=True))


def test_a_planned_batch_larger_than_the_training_set_is_refused(mnist_root):
    dm = _ready(mnist_root)
    dm.training_batch_sizes = lambda: BatchSizes(
        (0, 3), (16, 65), ("data.batch_size", "model.progressive.batch_sizes[28]")
    )
    with pytest.raises(ConfigError, match=r"batch_sizes\[28\]=65 is more than the 64 training samples"):
        dm.train_dataloader()
