"""Drawing samples from a trained model, in batches, repeatably, through the family's sampling
interface (:meth:`~gan_lightning.core.AdversarialModule.sample_inputs` and ``generate``)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch
from torch import Tensor


def cycle_labels(classes: Sequence[int], n: int) -> Tensor:
    """``n`` labels cycling through ``classes`` in order: 0, 1, ..., 9, 0, 1, ..."""
    return torch.tensor(list(classes)).repeat(n // len(classes) + 1)[:n]


@torch.no_grad()
def generate_batches(
    model,
    n: int,
    batch_size: int = 500,
    labels: Tensor | None = None,
    seed: int = 0,
    ema: bool | None = None,
    truncation: float | None = None,
) -> Iterator[tuple[Tensor, Tensor | None]]:
    """Yield ``(samples, labels)`` batches, ``n`` samples in all, from ``model`` in eval mode.

    Inputs come from a generator seeded with ``seed`` on the CPU, so the samples do not depend on
    (or disturb) the global random state, nor on the device. The EMA generator is used when the model
    has one, unless ``ema=False``.
    """
    rng = torch.Generator().manual_seed(seed)
    was_training = model.training
    model.eval()
    try:
        for start in range(0, n, batch_size):
            size = min(batch_size, n - start)
            y = labels[start : start + size] if labels is not None else None
            inputs = model.sample_inputs(size, rng, y, truncation)
            yield model.generate(inputs, ema=ema), inputs.get("labels")
    finally:
        model.train(was_training)
