"""Fixtures of the metric tests."""

import pytest


@pytest.fixture(autouse=True)
def _single_threaded(one_thread: None) -> None:
    """Every metric test runs torch on one thread (Inception's forward: 0.3 s on one, 5 s on two)."""
