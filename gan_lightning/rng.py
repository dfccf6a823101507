"""Saving and restoring the global random number generators, for exact resume from a checkpoint.

Training noise has its own per-step generator (:meth:`AdversarialModule.training_rng`); these global states
cover everything else that draws from the default generators, such as dropout. Work beside training
(evaluations, sample grids, training a feature net) runs inside :func:`untouched_global_rng`, so that a
run's weights never depend on its evaluation schedule or on what was already cached.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch


def rng_states() -> dict[str, Any]:
    """The states of Python's, NumPy's, torch's CPU and (when present) every CUDA generator, as plain
    values and tensors (loadable with ``torch.load(weights_only=True)``)."""
    kind, keys, position, has_gauss, cached = np.random.get_state()
    numpy_state = [
        kind,
        torch.from_numpy(keys.astype(np.int64)),
        int(position),
        int(has_gauss),
        float(cached),
    ]
    states = {"python": random.getstate(), "numpy": numpy_state, "torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def set_rng_states(states: dict[str, Any]) -> None:
    """Restore what :func:`rng_states` returned (CUDA states only where CUDA is in use)."""
    random.setstate(states["python"])
    kind, keys, position, has_gauss, cached = states["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), position, has_gauss, cached))
    torch.set_rng_state(states["torch"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


@contextmanager
def untouched_global_rng() -> Iterator[None]:
    """Run the block, then put every global generator back where it was: whatever the block draws
    (a ``DataLoader`` iterator draws its base seed from torch's generator, dropout in eval code ...)
    leaves the training's random streams alone."""
    states = rng_states()
    try:
        yield
    finally:
        set_rng_states(states)
