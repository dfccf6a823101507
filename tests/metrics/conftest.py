"""Fixtures of the metric tests."""

from __future__ import annotations

import pytest

from gan_lightning.files import CACHE_ENV


@pytest.fixture(autouse=True)
def no_cache_env(monkeypatch):
    """Derived files go where each test says, not to a GAN_CACHE_DIR of the caller's shell."""
    monkeypatch.delenv(CACHE_ENV, raising=False)
