"""Latent noise priors: z ~ N(0, I) (``normal``) or z ~ U[-1, 1]^d (``uniform``)."""

from __future__ import annotations

import torch
from torch import Tensor

from gan_lightning.errors import ConfigError

PRIORS = ("normal", "uniform")


def check_prior(prior: str) -> None:
    """Raise a :class:`ConfigError` naming the valid priors when ``prior`` is not one of them."""
    if prior not in PRIORS:
        raise ConfigError(
            f"Unknown noise prior '{prior}'. Choose one of: {', '.join(PRIORS)} (model.noise=...)."
        )


def sample_noise(
    prior: str,
    n: int,
    z_dim: int,
    device: torch.device | str = "cpu",
    generator: torch.Generator | None = None,
) -> Tensor:
    """Draw ``n`` latent vectors, shape (n, z_dim), from ``prior``."""
    check_prior(prior)
    if prior == "normal":
        return torch.randn(n, z_dim, device=device, generator=generator)
    return torch.rand(n, z_dim, device=device, generator=generator) * 2.0 - 1.0
