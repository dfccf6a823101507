"""Latent noise priors."""

from __future__ import annotations

import pytest
import torch

from gan_lightning.errors import ConfigError
from gan_lightning.noise import PRIORS, check_prior, sample_noise


@pytest.mark.parametrize("prior", PRIORS)
@pytest.mark.parametrize(("n", "z_dim"), [(1, 1), (5, 7), (16, 100)])
def test_shapes(prior: str, n: int, z_dim: int) -> None:
    z = sample_noise(prior, n, z_dim)
    assert z.shape == (n, z_dim)
    assert z.dtype == torch.float32
    assert z.device.type == "cpu"


def test_normal_statistics() -> None:
    z = sample_noise("normal", 4000, 50, generator=torch.Generator().manual_seed(0))
    assert z.mean().item() == pytest.approx(0.0, abs=0.01)
    assert z.std().item() == pytest.approx(1.0, abs=0.01)
    # A Gaussian leaves [-1, 1] about a third of the time.
    outside = (z.abs() > 1).float().mean().item()
    assert outside == pytest.approx(0.3173, abs=0.01)


def test_uniform_range() -> None:
    z = sample_noise("uniform", 4000, 50, generator=torch.Generator().manual_seed(0))
    assert z.min().item() >= -1.0
    assert z.max().item() <= 1.0
    assert z.min().item() < -0.99
    assert z.max().item() > 0.99
    assert z.mean().item() == pytest.approx(0.0, abs=0.01)
    # Var of U[-1, 1] is 1/3.
    assert z.var().item() == pytest.approx(1 / 3, abs=0.01)


@pytest.mark.parametrize("prior", PRIORS)
def test_seeded_generator_is_reproducible(prior: str) -> None:
    a = sample_noise(prior, 8, 16, generator=torch.Generator().manual_seed(123))
    b = sample_noise(prior, 8, 16, generator=torch.Generator().manual_seed(123))
    c = sample_noise(prior, 8, 16, generator=torch.Generator().manual_seed(124))
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert not torch.allclose(a, c)


def test_successive_draws_differ() -> None:
    gen = torch.Generator().manual_seed(0)
    assert not torch.allclose(
        sample_noise("normal", 4, 4, generator=gen), sample_noise("normal", 4, 4, generator=gen)
    )


@pytest.mark.parametrize("prior", ["gaussian", "Normal", ""])
def test_unknown_prior(prior: str) -> None:
    with pytest.raises(ConfigError) as info:
        sample_noise(prior, 2, 3)
    for name in PRIORS:
        assert name in str(info.value)
    with pytest.raises(ConfigError):
        check_prior(prior)


def test_check_prior_accepts_known() -> None:
    for prior in PRIORS:
        check_prior(prior)  # does not raise
    assert PRIORS == ("normal", "uniform")
