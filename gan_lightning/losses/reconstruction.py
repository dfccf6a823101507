"""Reconstruction losses for image-to-image models (cycle consistency in CycleGAN / DiscoGAN).

Both take two tensors of the same shape (e.g. (N, C, H, W)) and average over every element.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor

from gan_lightning.errors import ConfigError

__all__ = ["RECONSTRUCTION_LOSSES", "get_reconstruction_loss", "l1_loss", "l2_loss"]


def l1_loss(x: Tensor, target: Tensor) -> Tensor:
    """Mean absolute error mean(|x - target|) over all elements (the cycle loss of CycleGAN)."""
    return (x - target).abs().mean()


def l2_loss(x: Tensor, target: Tensor) -> Tensor:
    """Mean squared error mean((x - target)^2) over all elements (DiscoGAN's reconstruction loss)."""
    return (x - target).pow(2).mean()


RECONSTRUCTION_LOSSES: dict[str, Callable[[Tensor, Tensor], Tensor]] = {"l1": l1_loss, "l2": l2_loss}


def get_reconstruction_loss(name: str) -> Callable[[Tensor, Tensor], Tensor]:
    """The reconstruction loss registered under ``name`` (``l1`` or ``l2``)."""
    if name not in RECONSTRUCTION_LOSSES:
        raise ConfigError(
            f"Unknown reconstruction loss '{name}'. Choose one of: {', '.join(RECONSTRUCTION_LOSSES)}."
        )
    return RECONSTRUCTION_LOSSES[name]
