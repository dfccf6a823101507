"""2-D Gaussian-mixture toy data: centres, spreads, reproducibility."""

from __future__ import annotations

import math

import pytest
import torch

from gan_lightning.data import GaussianMixtureDataModule
from gan_lightning.data.gaussian_mixture import DEFAULT_STD, mixture_centres, sample_mixture
from gan_lightning.errors import ConfigError


def _ready(**kwargs) -> GaussianMixtureDataModule:
    kwargs.setdefault("batch_size", 64)
    kwargs.setdefault("n_samples", 4000)
    dm = GaussianMixtureDataModule(**kwargs)
    dm.setup("fit")
    return dm


def test_ring_centres() -> None:
    centres = mixture_centres("ring")
    expected = torch.tensor(
        [[math.cos(2 * math.pi * k / 8), math.sin(2 * math.pi * k / 8)] for k in range(8)]
    )
    torch.testing.assert_close(centres, expected)
    torch.testing.assert_close(centres.norm(dim=1), torch.ones(8))
    torch.testing.assert_close(centres[0], torch.tensor([1.0, 0.0]))
    torch.testing.assert_close(centres[2], torch.tensor([0.0, 1.0]), atol=1e-6, rtol=0)


def test_ring_options() -> None:
    centres = mixture_centres("ring", n_modes=4, radius=2.0)
    torch.testing.assert_close(
        centres, torch.tensor([[2.0, 0.0], [0.0, 2.0], [-2.0, 0.0], [0.0, -2.0]]), atol=1e-6, rtol=0
    )


def test_grid_centres() -> None:
    centres = mixture_centres("grid")
    assert centres.shape == (25, 2)
    axis = [-4.0, -2.0, 0.0, 2.0, 4.0]
    assert {tuple(c) for c in centres.tolist()} == {(a, b) for a in axis for b in axis}


def test_default_std() -> None:
    assert DEFAULT_STD == {"ring": 0.01, "grid": 0.05}
    assert GaussianMixtureDataModule(kind="ring").std == 0.01
    assert GaussianMixtureDataModule(kind="grid").std == 0.05
    assert GaussianMixtureDataModule(kind="grid", std=0.2).std == 0.2


@pytest.mark.parametrize(("kind", "modes"), [("ring", 8), ("grid", 25)])
def test_samples_near_their_mode(kind: str, modes: int) -> None:
    dm = _ready(kind=kind)
    points, labels = dm.train_set.tensors
    assert points.shape == (4000, 2)
    assert labels.shape == (4000,)
    assert labels.dtype == torch.long
    centres = mixture_centres(kind)
    offsets = points - centres[labels]
    assert offsets.abs().max().item() < 5 * dm.std
    # The spread is the configured sigma, not just bounded by it.
    assert offsets.std().item() == pytest.approx(dm.std, rel=0.05)
    counts = torch.bincount(labels, minlength=modes)
    assert len(counts) == modes
    # Modes are drawn uniformly.
    assert counts.min().item() > 0.5 * 4000 / modes


def test_custom_std_and_ring() -> None:
    dm = _ready(kind="ring", std=0.1, n_modes=4, radius=3.0, n_samples=2000)
    points, labels = dm.train_set.tensors
    assert dm.num_classes == 4
    assert points.norm(dim=1).mean().item() == pytest.approx(3.0, abs=0.05)
    assert (points - dm.centres[labels]).std().item() == pytest.approx(0.1, rel=0.1)


def test_sample_mixture_seeded() -> None:
    centres = mixture_centres("grid")
    a = sample_mixture(centres, 0.05, 100, torch.Generator().manual_seed(7))
    b = sample_mixture(centres, 0.05, 100, torch.Generator().manual_seed(7))
    torch.testing.assert_close(a[0], b[0], rtol=0, atol=0)
    assert torch.equal(a[1], b[1])


def test_same_seed_same_data() -> None:
    a = _ready(kind="grid", seed=3).train_set.tensors
    b = _ready(kind="grid", seed=3).train_set.tensors
    torch.testing.assert_close(a[0], b[0], rtol=0, atol=0)
    assert torch.equal(a[1], b[1])


def test_different_seed_different_data() -> None:
    a = _ready(kind="ring", seed=0).train_set.tensors[0]
    b = _ready(kind="ring", seed=1).train_set.tensors[0]
    assert not torch.allclose(a, b)


def test_data_does_not_depend_on_global_seed() -> None:
    torch.manual_seed(0)
    a = _ready(kind="ring", seed=5).train_set.tensors[0]
    torch.manual_seed(99)
    b = _ready(kind="ring", seed=5).train_set.tensors[0]
    torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_unknown_kind() -> None:
    with pytest.raises(ConfigError, match="ring"):
        GaussianMixtureDataModule(kind="spiral")
    with pytest.raises(ConfigError):
        mixture_centres("spiral")


@pytest.mark.parametrize("kwargs", [{"n_samples": 0}, {"std": 0.0}, {"std": -1.0}])
def test_bad_values(kwargs: dict) -> None:
    with pytest.raises(ConfigError, match="positive"):
        GaussianMixtureDataModule(**kwargs)


@pytest.mark.parametrize(("kind", "modes"), [("ring", 8), ("grid", 25)])
def test_metadata_and_batches(kind: str, modes: int) -> None:
    dm = _ready(kind=kind)
    assert dm.data_shape == (2,)
    assert dm.is_image is False
    assert dm.num_classes == modes
    assert dm.class_names[0] == "mode 0"
    assert len(dm.class_names) == modes
    x, y = next(iter(dm.train_dataloader()))
    assert x.shape == (64, 2)
    assert x.dtype == torch.float32
    assert y.shape == (64,)
    assert y.dtype == torch.long
    assert len(dm.train_dataloader()) == 4000 // 64


def test_default_sample_count() -> None:
    dm = _ready(kind="ring", n_samples=100_000)
    assert len(dm.train_set) == 100_000
