"""A dataset held as two tensors on one device, fetched a whole batch at a time (``data.on_device``)."""

from __future__ import annotations

import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset


class TensorBatches(Dataset):
    """Samples ``x`` (N, ...) and labels ``y`` (N,) on ``device``; a batch is one indexing operation.

    The DataLoader calls :meth:`__getitems__` with a batch of indices (no per-sample Python calls,
    no host-to-device copy); use it with ``collate_fn=keep_batch`` and ``num_workers=0``.
    """

    def __init__(self, x: Tensor, y: Tensor, device: torch.device | str = "cpu") -> None:
        self.x, self.y = x.to(device), y.to(device)

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        return self.x[index], self.y[index]

    def __getitems__(self, indices: list[int]) -> tuple[Tensor, Tensor]:
        index = torch.as_tensor(indices, device=self.x.device)
        return self.x[index], self.y[index]


def keep_batch(batch: tuple[Tensor, Tensor]) -> tuple[Tensor, Tensor]:
    """The collate function for :class:`TensorBatches`: the batch is already stacked."""
    return batch


def as_tensors(dataset: Dataset, batch_size: int = 1000) -> tuple[Tensor, Tensor]:
    """Every sample of ``dataset`` (after its transforms), stacked: x (N, ...) float, y (N,) long."""
    xs, ys = [], []
    for x, y in DataLoader(dataset, batch_size=batch_size):
        xs.append(x)
        ys.append(torch.as_tensor(y, dtype=torch.long))
    return torch.cat(xs), torch.cat(ys)
