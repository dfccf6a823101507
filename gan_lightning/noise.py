"""Latent noise priors: z ~ N(0, I) (``normal``) or z ~ U[-1, 1]^d (``uniform``)."""

from __future__ import annotations

import torch
from torch import Tensor

from gan_lightning.errors import ConfigError

PRIORS = ("normal", "uniform")
MAX_REDRAWS = 100  # truncation: redraws before the last few coordinates are clamped


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
    truncation: float | None = None,
) -> Tensor:
    """Draw ``n`` latent vectors, shape (n, z_dim), from ``prior``.

    ``truncation`` (> 0) redraws every coordinate whose magnitude exceeds it until none does: the
    truncation trick (Brock et al., 2019), trading variety for quality as it shrinks.
    """
    check_prior(prior)
    z = _draw(prior, (n, z_dim), device, generator)
    if truncation is None:
        return z
    if not truncation > 0:
        raise ConfigError(f"truncation must be positive (a threshold on |z|), got {truncation}.")
    for _ in range(MAX_REDRAWS):
        beyond = z.abs() > truncation
        if not bool(beyond.any()):
            return z
        z = torch.where(beyond, _draw(prior, z.shape, device, generator), z)
    return z.clamp(-truncation, truncation)  # practically unreachable: P(|z| > t) ** MAX_REDRAWS


def _draw(prior: str, shape: tuple[int, ...], device, generator: torch.Generator | None) -> Tensor:
    if prior == "normal":
        return torch.randn(shape, device=device, generator=generator)
    return torch.rand(shape, device=device, generator=generator) * 2.0 - 1.0
