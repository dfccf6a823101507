"""StyleGAN2 (Karras et al. 2020): the style-based GAN's step plus the path-length penalty.

discriminator  D on real x and G(z) (non-saturating loss)
r1             (every r1_every)  lazy R1 on real x
generator      G through D, styles mixed with probability ``style_mixing``
path_length    (every pl_every)  E(||J_w^T y|| - a)^2 on half a batch, a the running mean length
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Generator, Tensor

from gan_lightning import log_names
from gan_lightning.core import Phase
from gan_lightning.errors import ConfigError
from gan_lightning.losses import path_length_penalty
from gan_lightning.models.gan import check_positive_interval
from gan_lightning.models.style_based import StyleBasedGAN


class StyleGAN2(StyleBasedGAN):
    """A :class:`~gan_lightning.models.style_based.StyleBasedGAN` with lazy path-length regularization.

    Args:
        pl_weight: weight of the path-length penalty (0 = off).
        pl_every: the penalty runs every this many generator steps, weighted by it.
        pl_decay: decay of the running mean path length.
        **options: those of :class:`~gan_lightning.models.style_based.StyleBasedGAN`.
    """

    def __init__(
        self, *args: Any, pl_weight: float = 0.0, pl_every: int = 4, pl_decay: float = 0.01, **options: Any
    ) -> None:
        check_positive_interval(pl_weight, pl_every, "pl_weight", "pl_every")
        if not 0 < pl_decay < 1:
            raise ConfigError(f"model.pl_decay must be in (0, 1), got {pl_decay}.")
        super().__init__(*args, **options)

    def build_extras(self) -> None:
        if self.hparams.pl_weight > 0:
            self.register_buffer("path_length_mean", torch.zeros(()))

    def build_phases(self) -> list[Phase]:
        phases = super().build_phases()
        if self.hparams.pl_weight > 0:
            phases.append(
                Phase(
                    "path_length",
                    "generator",
                    self.path_length_loss,
                    log_names.G_REG_LOSS,
                    every=self.hparams.pl_every,
                )
            )
        return phases

    def path_length_loss(self, batch: tuple[Tensor, ...], rng: Generator) -> tuple[Tensor, dict]:
        """StyleGAN2's path-length penalty on half a batch, times the interval."""
        real, labels = batch
        n = max(1, real.size(0) // 2)
        z = self.sample_z(n, rng)
        with self.eager():  # a double backward
            w = self.generator.mapping(z, labels[:n] if self.conditional else None)
            images = self.generator.synthesis(w)
            penalty, mean, _ = path_length_penalty(
                images, w, self.path_length_mean, self.hparams.pl_decay, rng=rng
            )
        self.path_length_mean.copy_(self.trainer.strategy.reduce(mean.detach(), reduce_op="mean"))  # DDP
        loss = self.hparams.pl_weight * self.hparams.pl_every * penalty
        return loss, {log_names.PATH_LENGTH: penalty.detach(), log_names.PATH_LENGTH_MEAN: mean.detach()}
