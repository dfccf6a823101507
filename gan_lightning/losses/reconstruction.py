"""Reconstruction losses for image-to-image models (cycle consistency in CycleGAN / DiscoGAN).

:func:`l1_loss` and :func:`l2_loss` take two tensors of the same shape (e.g. (N, C, H, W)) and
average over every element; :func:`feature_matching_loss` compares D's features of two batches.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor

from gan_lightning.errors import ConfigError

__all__ = ["RECONSTRUCTION_LOSSES", "feature_matching_loss", "get_reconstruction_loss", "l1_loss", "l2_loss"]


def l1_loss(x: Tensor, target: Tensor) -> Tensor:
    """Mean absolute error mean(|x - target|) over all elements (the cycle loss of CycleGAN)."""
    return (x - target).abs().mean()


def l2_loss(x: Tensor, target: Tensor) -> Tensor:
    """Mean squared error mean((x - target)^2) over all elements (DiscoGAN's reconstruction loss)."""
    return (x - target).pow(2).mean()


def feature_matching_loss(real_features: list[Tensor], fake_features: list[Tensor]) -> Tensor:
    """Sum over D's layers of mean((E_batch[f_real] - E_batch[f_fake])^2) (Salimans et al. 2016; the
    feature-matching term of DiscoGAN). Each list holds one (N, ...) activation per layer."""
    if len(real_features) != len(fake_features) or not real_features:
        raise ValueError("feature_matching_loss needs the same non-zero number of layers on both sides.")
    terms = [(r.mean(0) - f.mean(0)).pow(2).mean() for r, f in zip(real_features, fake_features, strict=True)]
    return sum(terms[1:], terms[0])


RECONSTRUCTION_LOSSES: dict[str, Callable[[Tensor, Tensor], Tensor]] = {"l1": l1_loss, "l2": l2_loss}


def get_reconstruction_loss(name: str) -> Callable[[Tensor, Tensor], Tensor]:
    """The reconstruction loss registered under ``name`` (``l1`` or ``l2``)."""
    if name not in RECONSTRUCTION_LOSSES:
        raise ConfigError(
            f"Unknown reconstruction loss '{name}'. Choose one of: {', '.join(RECONSTRUCTION_LOSSES)}."
        )
    return RECONSTRUCTION_LOSSES[name]
