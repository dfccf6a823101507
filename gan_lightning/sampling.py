"""Drawing samples from a trained generator, in batches, repeatably."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch
from torch import Tensor

from gan_lightning.noise import sample_noise


def cycle_labels(classes: Sequence[int], n: int) -> Tensor:
    """``n`` labels cycling through ``classes`` in order: 0, 1, ..., 9, 0, 1, ..."""
    return torch.tensor(list(classes)).repeat(n // len(classes) + 1)[:n]


@torch.no_grad()
def generate_batches(
    model, n: int, batch_size: int = 500, labels: Tensor | None = None, seed: int = 0
) -> Iterator[tuple[Tensor, Tensor | None]]:
    """Yield ``(images, labels)`` batches, ``n`` samples in all, from ``model`` in eval mode.

    Noise comes from a generator seeded with ``seed`` on the CPU, so the samples do not depend on
    (or disturb) the global random state, nor on the device.
    """
    rng = torch.Generator().manual_seed(seed)
    was_training = model.training
    model.eval()
    try:
        for start in range(0, n, batch_size):
            size = min(batch_size, n - start)
            z = sample_noise(model.hparams.noise, size, model.hparams.z_dim, "cpu", rng).to(model.device)
            y = labels[start : start + size].to(model.device) if labels is not None else None
            yield model(z, y), y
    finally:
        model.train(was_training)
