"""The order in which training samples are visited: reshuffled every epoch, repeatable, resumable.

The permutation of epoch ``e`` is a function of ``(seed, e)`` only, so a run resumed from a
checkpoint taken in the middle of an epoch continues with exactly the batches the uninterrupted run
would have seen. Under DDP each rank takes its own interleaved share of the same permutation
(Lightning's automatic ``DistributedSampler`` is switched off: ``trainer.use_distributed_sampler``).
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import Sampler


class EpochShuffle(Sampler[int]):
    """Indices 0..n-1 in a random order fixed by ``(seed, epoch)``, split between DDP ranks.

    Args:
        n: dataset size.
        seed: seed of the shuffling (store it to resume).
        rank, world_size: this process's share: positions ``rank, rank + world_size, ...``;
            every rank gets ``n // world_size`` indices so that all ranks run the same number of steps.

    Lightning calls :meth:`set_epoch` at the start of every epoch. :meth:`start_at` makes the next
    pass begin at a given sample of the current epoch (used once, when resuming mid-epoch).
    """

    def __init__(self, n: int, seed: int, rank: int = 0, world_size: int = 1) -> None:
        self.n, self.seed, self.rank, self.world_size = n, seed, rank, world_size
        self.epoch = 0
        self._start = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def start_at(self, position: int) -> None:
        """Skip the first ``position`` indices of this rank's share in the next pass only."""
        self._start = position

    def permutation(self, epoch: int) -> torch.Tensor:
        """This rank's indices for ``epoch``, (n // world_size,) long."""
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        order = torch.randperm(self.n, generator=generator)
        return order[self.rank : len(self) * self.world_size : self.world_size]

    def __iter__(self) -> Iterator[int]:
        start, self._start = self._start, 0
        return iter(self.permutation(self.epoch)[start:].tolist())

    def __len__(self) -> int:
        return self.n // self.world_size
