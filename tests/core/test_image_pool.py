"""The image pool of past fakes: filling, the 1/2 swaps, determinism, checkpoints."""

from __future__ import annotations

import io

import pytest
import torch
from torch import nn

from gan_lightning.core.image_pool import ImagePool
from gan_lightning.errors import ConfigError


@pytest.fixture(autouse=True)
def _one_thread(one_thread: None) -> None:
    """One intra-op thread for every pool test."""


def _ids(start: int, n: int) -> torch.Tensor:
    """n images shaped (1, 2, 2) whose every pixel is its id."""
    return torch.arange(start, start + n, dtype=torch.float32).view(n, 1, 1, 1).expand(n, 1, 2, 2).clone()


def _values(images: torch.Tensor) -> list[int]:
    return [int(v) for v in images[:, 0, 0, 0].tolist()]


def test_returns_inputs_unchanged_until_full() -> None:
    pool = ImagePool(5)
    g = torch.Generator().manual_seed(0)
    assert len(pool) == 0
    for k in range(2):
        x = _ids(k, 1)
        torch.testing.assert_close(pool.query(x, g), x)
    x = _ids(2, 3)
    torch.testing.assert_close(pool.query(x, g), x)
    assert len(pool) == 5
    assert _values(pool.images) == [0, 1, 2, 3, 4]
    assert pool.images.shape == (5, 1, 2, 2)


def test_a_batch_that_fills_the_pool_mixes_only_after_it_is_full() -> None:
    pool = ImagePool(3)
    g = torch.Generator().manual_seed(1)
    out = pool.query(_ids(0, 64), g)
    assert _values(out)[:3] == [0, 1, 2]
    assert len(pool) == 3
    assert any(v != i for i, v in enumerate(_values(out)))  # some later images came from the pool


def test_swaps_half_the_time_and_stores_the_new_image() -> None:
    size = 10
    pool = ImagePool(size)
    g = torch.Generator().manual_seed(2)
    pool.query(_ids(0, size), g)
    shadow = list(range(size))
    swapped = 0
    picked = [0] * size
    n = 2000
    for k in range(size, size + n):
        (value,) = _values(pool.query(_ids(k, 1), g))
        if value != k:
            swapped += 1
            assert value in shadow  # a stored image is returned...
            j = shadow.index(value)
            shadow[j] = k  # ...and the new one takes its place
            picked[j] += 1
        assert _values(pool.images) == shadow
        assert len(pool) == size
    assert 0.45 < swapped / n < 0.55
    assert min(picked) > 0.5 * swapped / size  # the stored image is chosen uniformly


def test_size_zero_is_identity() -> None:
    pool = ImagePool(0)
    g = torch.Generator().manual_seed(0)
    state = g.get_state()
    x = torch.randn(4, 3, 8, 8)
    for _ in range(3):
        assert torch.equal(pool.query(x, g), x)
    assert len(pool) == 0
    assert torch.equal(g.get_state(), state)  # nothing drawn


def test_outputs_are_detached_and_inputs_untouched() -> None:
    pool = ImagePool(2)
    g = torch.Generator().manual_seed(0)
    for k in range(20):
        x = _ids(10 * k, 4).requires_grad_()
        before = x.detach().clone()
        out = pool.query(x * 1.0, g)
        assert not out.requires_grad
        assert out.shape == x.shape
        assert torch.equal(x.detach(), before)
    assert not pool.images.requires_grad


def test_randomness_only_from_the_given_generator() -> None:
    def run(seed: int) -> list[int]:
        torch.manual_seed(seed)  # the global generator must not matter
        pool = ImagePool(4)
        g = torch.Generator().manual_seed(123)
        return [v for k in range(50) for v in _values(pool.query(_ids(3 * k, 3), g))]

    first = run(0)
    assert first == run(1)
    assert first != list(range(150))
    torch.manual_seed(5)
    state = torch.get_rng_state()
    pool = ImagePool(4)
    pool.query(_ids(0, 40), torch.Generator().manual_seed(0))
    assert torch.equal(torch.get_rng_state(), state)


def test_different_seeds_differ() -> None:
    outs = []
    for seed in (0, 1):
        pool, g = ImagePool(4), torch.Generator().manual_seed(seed)
        outs.append([v for k in range(30) for v in _values(pool.query(_ids(2 * k, 2), g))])
    assert outs[0] != outs[1]


def _filled(size: int, n: int, seed: int = 0) -> tuple[ImagePool, torch.Generator]:
    pool, g = ImagePool(size), torch.Generator().manual_seed(seed)
    for k in range(n):
        pool.query(_ids(2 * k, 2), g)
    return pool, g


@pytest.mark.parametrize(("size", "queries"), [(6, 20), (6, 2), (6, 0)], ids=["full", "partial", "empty"])
def test_state_dict_round_trip_restores_contents_and_outputs(size: int, queries: int) -> None:
    pool, g = _filled(size, queries)
    buffer = io.BytesIO()
    torch.save({"pool": pool.state_dict(), "rng": g.get_state()}, buffer)
    buffer.seek(0)
    saved = torch.load(buffer)
    fresh = ImagePool(size)
    fresh.load_state_dict(saved["pool"])
    assert len(fresh) == len(pool) == min(size, 2 * queries)
    assert torch.equal(fresh.images, pool.images)
    g2 = torch.Generator()
    g2.set_state(saved["rng"])
    for k in range(100, 130):
        assert torch.equal(pool.query(_ids(2 * k, 2), g), fresh.query(_ids(2 * k, 2), g2))
    assert torch.equal(fresh.images, pool.images)


def test_loading_replaces_other_contents() -> None:
    full, _ = _filled(6, 20)
    other, _ = _filled(6, 20, seed=7)
    other.images.add_(1000)
    other.load_state_dict(full.state_dict())
    assert torch.equal(other.images, full.images)
    empty = ImagePool(6)
    full.load_state_dict(empty.state_dict())
    assert len(full) == 0


def test_pool_in_a_parent_module_checkpoint() -> None:
    class Model(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = nn.Linear(2, 2)
            self.pool_a = ImagePool(4)
            self.pool_b = ImagePool(4)

    model = Model()
    g = torch.Generator().manual_seed(0)
    model.pool_a.query(torch.randn(6, 3, 4, 4), g)
    state = model.state_dict()
    assert state["pool_a.images"].shape == (4, 3, 4, 4)
    fresh = Model()
    fresh.load_state_dict(state)  # strict: the grown buffer loads into an empty one
    assert torch.equal(fresh.pool_a.images, model.pool_a.images)
    assert len(fresh.pool_b) == 0


def test_smaller_pool_keeps_the_first_images() -> None:
    pool, _ = _filled(6, 20)
    small = ImagePool(3)
    small.load_state_dict(pool.state_dict())
    assert torch.equal(small.images, pool.images[:3])


def test_dtype_follows_the_first_images_and_shape_is_checked() -> None:
    pool = ImagePool(2)
    g = torch.Generator().manual_seed(0)
    pool.query(torch.randn(2, 3, 4, 4, dtype=torch.float64), g)
    assert pool.images.dtype == torch.float64
    out = pool.query(torch.randn(8, 3, 4, 4), g)
    assert out.dtype == torch.float32
    with pytest.raises(ValueError, match=r"shaped \(3, 4, 4\)"):
        pool.query(torch.randn(1, 3, 8, 8), g)


def test_negative_size_is_refused_and_repr() -> None:
    with pytest.raises(ConfigError, match="at least 0"):
        ImagePool(-1)
    pool, _ = _filled(3, 5)
    assert repr(pool) == "ImagePool(size=3, stored=3)"


def test_global_generator_when_none_given() -> None:
    pool_a, pool_b = ImagePool(3), ImagePool(3)
    outs = []
    for pool in (pool_a, pool_b):
        torch.manual_seed(11)
        outs.append([v for k in range(20) for v in _values(pool.query(_ids(2 * k, 2)))])
    assert outs[0] == outs[1]
