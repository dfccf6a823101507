"""Fixtures of the metric tests."""

from __future__ import annotations

import pytest
import torch

from gan_lightning.files import CACHE_ENV


@pytest.fixture(autouse=True)
def no_cache_env(monkeypatch):
    """Derived files go where each test says, not to a GAN_CACHE_DIR of the caller's shell."""
    monkeypatch.delenv(CACHE_ENV, raising=False)


@pytest.fixture(autouse=True)
def one_thread():
    """One intra-op thread: on a small, busy machine two threads contending make these tiny
    computations many times slower (Inception's forward: 0.3 s on one thread, 5 s on two)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
