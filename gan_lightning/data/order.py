"""The order in which training samples are visited: reshuffled every epoch, repeatable, resumable.

The permutation of epoch ``e`` is a function of ``(seed, e)`` only, so a run resumed from a
checkpoint taken in the middle of an epoch continues with exactly the batches the uninterrupted run
would have seen. Under DDP each rank takes its own interleaved share of the same permutation
(Lightning's automatic ``DistributedSampler`` is switched off: ``trainer.use_distributed_sampler``).

Batches (:class:`ScheduledBatches`) are cut from the endless stream of these permutations with the
size that a :class:`BatchSizes` plan gives each generator step: ``data.batch_size`` at every step, or a
size per resolution in progressive growing (``model.progressive.batch_sizes``). Batch ``k`` takes the
next ``b(k)`` indices of the current permutation, or the first ``b(k)`` of the next one when fewer are
left (those are skipped, as ``drop_last`` does): a batch never holds a sample twice, and with one size
the batches are those of ``DataLoader(sampler=EpochShuffle, batch_size=b, drop_last=True)``. Where
batch ``k`` starts is computed from the plan in closed form, and each loader epoch starts at the run's
count of batches (``batches_seen``), not at Lightning's epoch number: resuming at any batch is exact,
from a checkpoint of the middle of a run as from the last one of a finished run (which Lightning
restores as the start of a new epoch).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
from torch.utils.data import Sampler


class EpochShuffle(Sampler[int]):
    """Indices 0..n-1 in a random order fixed by ``(seed, epoch)``, split between DDP ranks.

    Args:
        n: dataset size.
        seed: seed of the shuffling (store it to resume).
        rank, world_size: this process's share: positions ``rank, rank + world_size, ...``;
            every rank gets ``n // world_size`` indices so that all ranks run the same number of steps.
    """

    epoch: int = 0  # the permutation that iterating yields (:meth:`set_epoch`)

    def __init__(self, n: int, seed: int, rank: int = 0, world_size: int = 1) -> None:
        self.n, self.seed, self.rank, self.world_size = n, seed, rank, world_size

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def permutation(self, epoch: int) -> torch.Tensor:
        """This rank's indices for ``epoch``, (n // world_size,) long."""
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        order = torch.randperm(self.n, generator=generator)
        return order[self.rank : len(self) * self.world_size : self.world_size]

    def __iter__(self) -> Iterator[int]:
        return iter(self.permutation(self.epoch).tolist())

    def __len__(self) -> int:
        return self.n // self.world_size


@dataclass(frozen=True)
class BatchSizes:
    """The batch size (per process) of every generator step, piecewise constant: ``sizes[i]`` from step
    ``starts[i]`` on (``starts[0] == 0``, non-decreasing; of equal starts the last wins). ``names`` say
    which option set each size, for messages (``data.batch_size``, ``model.progressive.batch_sizes[32]``).
    """

    starts: tuple[int, ...]
    sizes: tuple[int, ...]
    names: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.starts or self.starts[0] != 0 or list(self.starts) != sorted(self.starts):
            raise ValueError(f"BatchSizes.starts must begin at 0 and never decrease, got {self.starts}.")
        if not len(self.starts) == len(self.sizes) == len(self.names):
            raise ValueError("BatchSizes needs one size and one name per start.")

    @classmethod
    def constant(cls, size: int, name: str = "data.batch_size") -> BatchSizes:
        return cls((0,), (size,), (name,))

    def at(self, step: int) -> int:
        """The batch size of generator step ``step``."""
        return self.sizes[bisect_right(self.starts, step) - 1]

    def segments(self, until: int) -> Iterator[tuple[int, int, int]]:
        """``(first step, end step, size)`` of the stretches of one size that cover steps 0 .. until-1."""
        ends = (*self.starts[1:], None)
        for start, end, size in zip(self.starts, ends, self.sizes, strict=True):
            stop = until if end is None else min(end, until)
            if start < stop:
                yield start, stop, size

    def samples_before(self, step: int) -> int:
        """Samples (per process) in the batches of generator steps 0 .. step-1."""
        return sum((end - start) * size for start, end, size in self.segments(step))


class ScheduledBatches(Sampler[list[int]]):
    """Batches of the sizes ``sizes`` gives, cut from the stream of ``order``'s permutations (module
    docstring); a batch sampler (``DataLoader(batch_sampler=...)``).

    Batch ``k`` is the run's batch ``k``, the one of generator step ``k``: each pass (loader epoch) starts
    at ``next_batch()`` (the datamodule's ``batches_seen``, read at the pass's first batch) and ends
    where the run's loader epoch ends, at the next multiple of ``per_epoch``. Neither Lightning's epoch
    number nor a pass left unfinished can shift the steps' sizes, and resuming is a matter of counting.
    With sizes that change, a loader epoch is no longer one permutation (``trainer.max_steps`` ends
    such runs).
    """

    def __init__(
        self, order: EpochShuffle, sizes: BatchSizes, per_epoch: int, next_batch: Callable[[], int]
    ) -> None:
        if not all(0 < size <= len(order) for size in sizes.sizes):
            raise ValueError(f"Batch sizes {sizes.sizes} must be in 1..{len(order)} (the samples per pass).")
        self.order, self.sizes, self.per_epoch, self.next_batch = order, sizes, per_epoch, next_batch

    def __len__(self) -> int:
        return self.per_epoch

    def position(self, batch: int) -> tuple[int, int]:
        """``(permutation, offset)`` after the run's first ``batch`` batches: batch ``batch`` starts there,
        or at the start of the next permutation when it does not fit in what is left."""
        n = len(self.order)
        permutation, offset = 0, 0
        for start, end, size in self.sizes.segments(batch):
            count = end - start
            fits = (n - offset) // size  # batches of this size still in the current permutation
            if count <= fits:
                offset += count * size
                continue
            full, rest = divmod(count - fits - 1, n // size)  # the others, from the next permutation on
            permutation, offset = permutation + 1 + full, (rest + 1) * size
        return permutation, offset

    def __iter__(self) -> Iterator[list[int]]:
        # A generator: where the pass starts is read at its first batch, once the batches before it
        # have all been counted (the loader's iterator may be made earlier).
        first = self.next_batch()
        n = len(self.order)
        permutation, offset = self.position(first)
        indices: list[int] | None = None
        for batch in range(first, (first // self.per_epoch + 1) * self.per_epoch):
            size = self.sizes.at(batch)
            if offset + size > n:
                permutation, offset, indices = permutation + 1, 0, None
            if indices is None:
                indices = self.order.permutation(permutation).tolist()
            yield indices[offset : offset + size]
            offset += size
