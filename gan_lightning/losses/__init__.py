"""Losses, in three kinds:

- :mod:`~gan_lightning.losses.adversarial`: the G / D loss pairs (minimax, non-saturating, least
  squares, hinge, Wasserstein), picked by name with :func:`get_loss` from :data:`LOSSES`.
- :mod:`~gan_lightning.losses.regularizers`: penalties added to them: WGAN-GP's
  :func:`gradient_penalty`, :func:`r1_penalty` and StyleGAN2's :func:`path_length_penalty`.
- :mod:`~gan_lightning.losses.reconstruction`: :func:`l1_loss` / :func:`l2_loss` between an image and
  its reconstruction, picked with :func:`get_reconstruction_loss`; :func:`feature_matching_loss`.
"""

from gan_lightning.losses.adversarial import (
    LOSSES,
    AdversarialLoss,
    bce_discriminator,
    get_loss,
    hinge_discriminator,
    least_squares_discriminator,
    least_squares_generator,
    linear_generator,
    minimax_generator,
    non_saturating_generator,
    wasserstein_discriminator,
)
from gan_lightning.losses.reconstruction import (
    RECONSTRUCTION_LOSSES,
    feature_matching_loss,
    get_reconstruction_loss,
    l1_loss,
    l2_loss,
)
from gan_lightning.losses.regularizers import gradient_penalty, path_length_penalty, r1_penalty

__all__ = [
    "AdversarialLoss",
    "LOSSES",
    "get_loss",
    "bce_discriminator",
    "minimax_generator",
    "non_saturating_generator",
    "least_squares_discriminator",
    "least_squares_generator",
    "hinge_discriminator",
    "linear_generator",
    "wasserstein_discriminator",
    "gradient_penalty",
    "r1_penalty",
    "path_length_penalty",
    "RECONSTRUCTION_LOSSES",
    "feature_matching_loss",
    "get_reconstruction_loss",
    "l1_loss",
    "l2_loss",
]
