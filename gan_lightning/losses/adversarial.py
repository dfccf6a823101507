"""Adversarial losses, selected by name from one registry.

Every loss works on the discriminator's raw outputs ("logits", shape (N,)), never on probabilities,
so the log terms are computed with ``softplus`` and stay finite for any logit. Notation:
``r = D(x)`` for real samples, ``f = D(G(z))`` for generated ones, ``sigma`` the logistic sigmoid, and
``log sigma(t) = -softplus(-t)``, ``log(1 - sigma(t)) = -softplus(t)``.

Use :func:`get_loss` (``get_loss("least_squares", a=-1, b=1, c=0)``,
``get_loss("wasserstein", gp_weight=10, drift=0.001)``); :data:`LOSSES` lists the names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import torch
import torch.nn.functional as F
from torch import Tensor

from gan_lightning.errors import ConfigError


@dataclass(frozen=True)
class AdversarialLoss:
    """A pair of loss functions plus what the training step needs to know about them.

    Attributes:
        name: registry name.
        discriminator: ``(real_logits, fake_logits, real_target) -> scalar`` loss that D minimises.
        generator: ``fake_logits -> scalar`` loss that G minimises.
        probabilistic: outputs are logits of a probability (D(x) is logged as ``sigmoid(logit)``);
            only such losses accept a smoothed real target.
        gradient_penalty_weight: weight of the WGAN-GP penalty added to D's loss (0 = none).
    """

    name: str
    discriminator: Callable[[Tensor, Tensor, float], Tensor]
    generator: Callable[[Tensor], Tensor]
    probabilistic: bool = False
    gradient_penalty_weight: float = 0.0

    def score(self, logits: Tensor) -> Tensor:
        """What the dashboards call D(.): a probability for probabilistic losses, else the raw output."""
        return torch.sigmoid(logits) if self.probabilistic else logits


# --- binary cross-entropy family (Goodfellow et al., 2014) -----------------------------------


def bce_discriminator(real: Tensor, fake: Tensor, real_target: float = 1.0) -> Tensor:
    """-[t log sigma(r) + (1-t) log(1-sigma(r))] - log(1 - sigma(f)), averaged over the batch.

    ``t`` is the real target: 1 normally, e.g. 0.9 for one-sided label smoothing.
    """
    real_loss = F.binary_cross_entropy_with_logits(real, torch.full_like(real, real_target))
    fake_loss = F.softplus(fake).mean()  # -log(1 - sigma(f))
    return real_loss + fake_loss


def minimax_generator(fake: Tensor) -> Tensor:
    """The original, saturating objective: G minimises log(1 - sigma(f)) = -softplus(f)."""
    return -F.softplus(fake).mean()


def non_saturating_generator(fake: Tensor) -> Tensor:
    """The non-saturating heuristic: G minimises -log sigma(f) = softplus(-f)."""
    return F.softplus(-fake).mean()


# --- least squares (Mao et al., 2017) ---------------------------------------------------------


def least_squares_discriminator(
    real: Tensor, fake: Tensor, real_target: float = 1.0, *, a: float = 0.0, b: float = 1.0
) -> Tensor:
    """1/2 E[(r - b)^2] + 1/2 E[(f - a)^2]: D pushes real outputs to ``b`` and fake ones to ``a``."""
    return 0.5 * ((real - b) ** 2).mean() + 0.5 * ((fake - a) ** 2).mean()


def least_squares_generator(fake: Tensor, *, c: float = 1.0) -> Tensor:
    """1/2 E[(f - c)^2]: G pushes D's output on its samples to ``c``."""
    return 0.5 * ((fake - c) ** 2).mean()


# --- hinge (Lim & Ye, 2017; Miyato et al., 2018) ----------------------------------------------


def hinge_discriminator(real: Tensor, fake: Tensor, real_target: float = 1.0) -> Tensor:
    """E[max(0, 1 - r)] + E[max(0, 1 + f)]."""
    return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()


def linear_generator(fake: Tensor) -> Tensor:
    """-E[f]: used by the hinge and Wasserstein losses."""
    return -fake.mean()


# --- Wasserstein (Arjovsky et al., 2017) with gradient penalty (Gulrajani et al., 2017) ---------
# The penalty itself lives in :mod:`gan_lightning.losses.regularizers`; the training step adds it.


def wasserstein_discriminator(
    real: Tensor, fake: Tensor, real_target: float = 1.0, *, drift: float = 0.0
) -> Tensor:
    """E[f] - E[r] + drift * E[r^2]: the critic maximises the gap between real and fake scores.

    ``drift`` is the epsilon-drift of Karras et al. (2018, progressive GAN; 0.001 there, as in
    TransGAN's code): a small pull of the real scores towards 0 that keeps them from drifting away.
    The default 0 is the plain WGAN critic loss.
    """
    loss = fake.mean() - real.mean()
    if drift:
        loss = loss + drift * (real**2).mean()
    return loss


# --- registry ---------------------------------------------------------------------------------


def _minimax() -> AdversarialLoss:
    return AdversarialLoss("minimax", bce_discriminator, minimax_generator, probabilistic=True)


def _non_saturating() -> AdversarialLoss:
    return AdversarialLoss("non_saturating", bce_discriminator, non_saturating_generator, probabilistic=True)


def _least_squares(a: float = 0.0, b: float = 1.0, c: float = 1.0) -> AdversarialLoss:
    return AdversarialLoss(
        "least_squares",
        partial(least_squares_discriminator, a=a, b=b),
        partial(least_squares_generator, c=c),
    )


def _hinge() -> AdversarialLoss:
    return AdversarialLoss("hinge", hinge_discriminator, linear_generator)


def _wasserstein(gp_weight: float = 10.0, drift: float = 0.0) -> AdversarialLoss:
    if drift < 0:
        raise ConfigError(
            f"model.loss_kwargs.drift must be >= 0 (0 = off, 0.001 in progressive GAN), got {drift}."
        )
    discriminator = partial(wasserstein_discriminator, drift=drift) if drift else wasserstein_discriminator
    return AdversarialLoss("wasserstein", discriminator, linear_generator, gradient_penalty_weight=gp_weight)


LOSSES: dict[str, Callable[..., AdversarialLoss]] = {
    "minimax": _minimax,
    "non_saturating": _non_saturating,
    "least_squares": _least_squares,
    "hinge": _hinge,
    "wasserstein": _wasserstein,
}


def get_loss(name: str, **kwargs: float) -> AdversarialLoss:
    """Build the loss registered under ``name`` with its options (``a, b, c``, or ``gp_weight, drift``)."""
    if name not in LOSSES:
        raise ConfigError(f"Unknown loss '{name}'. Choose one of: {', '.join(LOSSES)} (model.loss=...).")
    try:
        return LOSSES[name](**kwargs)
    except TypeError as err:
        raise ConfigError(f"Loss '{name}' does not take the options {dict(kwargs)}: {err}") from err
