"""Fixtures of the network tests."""

import pytest
import torch


@pytest.fixture(autouse=True)
def _seeded(one_thread: None) -> None:
    """A fixed seed and one intra-op thread for every network test."""
    torch.manual_seed(0)
