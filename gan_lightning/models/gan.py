"""The noise-to-sample GAN: one family for GAN, DCGAN, conditional GAN and LSGAN.

The variants differ only in configuration: the network architecture (``arch``), the loss
(``loss``) and whether G and D see class labels (``conditional``). The training step (Goodfellow et
al., 2014, Algorithm 1) as phases, each a separate optimizer update:

    discriminator  (n_critic times)  D on real x and on G(z), z ~ prior, G frozen; plus the WGAN-GP
                                     penalty, and R1 when it is not lazy
    r1             (every r1_every)  lazy R1 on real x, weight gamma / 2 * r1_every  (Mescheder 2018)
    generator                        G through D(G(z)), D frozen
    path_length    (every pl_every)  StyleGAN2's path-length penalty, for generators with a latent W

With an ``augment`` (DiffAugment or ADA) D sees real and generated images only through it, in the
discriminator and the generator phases alike. ``trainer.max_steps`` counts generator steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Generator, Tensor

from gan_lightning import log_names
from gan_lightning.augment import AdaptiveAugment, build_augment
from gan_lightning.core import AdversarialModule, Phase
from gan_lightning.errors import ConfigError
from gan_lightning.losses import get_loss, gradient_penalty, path_length_penalty, r1_penalty
from gan_lightning.networks import build_networks
from gan_lightning.noise import check_prior, sample_noise


class GAN(AdversarialModule):
    """Generator G: z (N, z_dim) [+ y] -> x (N, *data_shape); discriminator D: x [+ y] -> logits (N,).

    Args:
        data_shape: shape of one sample, e.g. (1, 28, 28), from the datamodule.
        num_classes: size of the label space (needed when ``conditional``).
        classes: label ids present in the training data (sample grids show these), default all.
        tanh_output: G ends in tanh (images in [-1, 1]); False for unbounded toy data.
        arch: network family, ``mlp`` or ``conv`` (see :mod:`gan_lightning.networks`).
        networks: per-arch options, ``{arch: {"generator": {...}, "discriminator": {...}}}``.
        conditional: condition G and D on class labels (cGAN).
        z_dim: latent size. noise: latent prior, ``normal`` or ``uniform`` (in [-1, 1]).
        loss: name in :data:`gan_lightning.losses.LOSSES`; loss_kwargs: its options.
        n_critic: discriminator updates per generator update (k in Algorithm 1).
        real_label: D's target for real samples; 0.9 gives one-sided label smoothing.
        r1_gamma: weight gamma of the R1 penalty gamma / 2 * E||grad D(x)||^2 (0 = off).
        r1_every: R1 runs every this many generator steps, weighted by it (lazy regularization).
        pl_weight: weight of the path-length penalty (0 = off; needs a generator with a latent W).
        pl_every: the path-length penalty runs every this many generator steps, weighted by it.
        pl_decay: decay of the running mean path length.
        augment: ``None`` or ``{"kind": "diffaugment" | "ada", **options}`` (``augment=`` group).
        data: the data config the model is trained on, recorded so that ``sample`` and ``evaluate``
            find the dataset again from the checkpoint alone.
        optimizer, scheduler, grad_clip, ema_kimg, ema_rampup, spectral_norm, compile,
            channels_last: see :class:`~gan_lightning.core.AdversarialModule`.
    """

    def __init__(
        self,
        data_shape: Sequence[int],
        num_classes: int | None = None,
        classes: Sequence[int] | None = None,
        tanh_output: bool = True,
        arch: str = "mlp",
        networks: dict[str, Any] | None = None,
        conditional: bool = False,
        z_dim: int = 100,
        noise: str = "normal",
        loss: str = "non_saturating",
        loss_kwargs: dict[str, float] | None = None,
        n_critic: int = 1,
        real_label: float = 1.0,
        r1_gamma: float = 0.0,
        r1_every: int = 16,
        pl_weight: float = 0.0,
        pl_every: int = 4,
        pl_decay: float = 0.01,
        augment: dict[str, Any] | None = None,
        grad_clip: dict[str, Any] | None = None,
        optimizer: dict[str, Any] | None = None,
        scheduler: dict[str, Any] | None = None,
        ema_kimg: float | None = None,
        ema_rampup: float | None = None,
        spectral_norm: str = "none",
        data: dict[str, Any] | None = None,
        compile: bool = False,
        channels_last: bool = False,
    ) -> None:
        super().__init__(
            optimizer=optimizer, scheduler=scheduler, grad_clip=grad_clip, ema_kimg=ema_kimg,
            ema_rampup=ema_rampup, spectral_norm=spectral_norm, compile=compile, channels_last=channels_last,
        )  # fmt: skip
        self.save_hyperparameters(ignore=["compile", "channels_last"])  # how to run, not what the model is
        _check_options(z_dim, n_critic, real_label, conditional, num_classes)
        _check_regularizers(r1_gamma, r1_every, pl_weight, pl_every, pl_decay)
        check_prior(noise)
        self.loss = get_loss(loss, **(loss_kwargs or {}))
        if real_label != 1.0 and not self.loss.probabilistic:
            raise ConfigError(
                f"model.real_label={real_label} (label smoothing) applies to the minimax and non_saturating "
                f"losses only, not to '{loss}'. For least squares set model.loss_kwargs.b instead."
            )
        arch_options = (networks or {}).get(arch, {})
        self.generator, self.discriminator = build_networks(
            arch,
            z_dim=z_dim,
            data_shape=data_shape,
            num_classes=num_classes if conditional else None,
            tanh_output=tanh_output,
            generator_kwargs=arch_options.get("generator"),
            discriminator_kwargs=arch_options.get("discriminator"),
        )
        if pl_weight > 0:
            if not has_latent_w(self.generator):
                raise ConfigError(
                    f"model.pl_weight={pl_weight}: the path-length penalty needs a generator with a latent W "
                    f"(a mapping network, as StyleGAN2's); model.arch={arch} has none. Set model.pl_weight=0."
                )
            self.register_buffer("path_length_mean", torch.zeros(()))
        augment = dict(augment or {})
        if augment.get("kind", "none") != "none" and len(data_shape) != 3:
            raise ConfigError(
                f"augment={augment['kind']} transforms images, but this data has shape {tuple(data_shape)}. "
                "Use augment=none for 2-D toy data."
            )
        self.augment = build_augment(**augment) if augment else None
        self.finish_networks()
        self.classes = (
            list(classes) if classes is not None else (list(range(num_classes)) if num_classes else None)
        )

    # --- the two networks, with or without labels ------------------------------------------------

    @property
    def conditional(self) -> bool:
        return self.hparams.conditional

    def sample_z(self, n: int, generator: Generator | None = None) -> Tensor:
        """n latent vectors (n, z_dim) on the model's device."""
        return sample_noise(self.hparams.noise, n, self.hparams.z_dim, self.device, generator)

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """G(z [, y]) of the trained generator: (N, z_dim) -> (N, *data_shape)."""
        return self.generator(z, labels if self.conditional else None)

    def discriminate(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        """D(x [, y]) logits (N,)."""
        return self.discriminator(x, labels if self.conditional else None)

    def augmented(self, images: Tensor, noise: Generator) -> Tensor:
        """What D sees of a batch: the images through the differentiable augmentation, if any."""
        return images if self.augment is None else self.augment(images, noise)

    # --- sampling interface -------------------------------------------------------------------------

    def sample_inputs(
        self,
        n: int,
        generator: Generator | None = None,
        labels: Tensor | None = None,
        truncation: float | None = None,
    ) -> dict[str, Tensor]:
        """``{"z": (n, z_dim)[, "labels": (n,)]}`` on the model's device. The noise is drawn where
        ``generator`` lives (a CPU generator gives the same samples on any device); ``truncation``
        redraws every coordinate beyond that threshold (the truncation trick of BigGAN)."""
        where = generator.device if generator is not None else self.device
        z = sample_noise(self.hparams.noise, n, self.hparams.z_dim, where, generator, truncation)
        inputs = {"z": z.to(self.device)}
        if self.conditional:
            if labels is None:
                raise ValueError("A conditional model needs labels to sample.")
            inputs["labels"] = labels.to(self.device)
        return inputs

    def generate(self, inputs: dict[str, Tensor], ema: bool | None = None) -> Tensor:
        generator = self.sampling_network("generator", ema)
        return generator(inputs["z"], inputs.get("labels") if self.conditional else None)

    # --- the training step as phases ----------------------------------------------------------------

    @property
    def lazy_r1(self) -> bool:
        return self.hparams.r1_gamma > 0 and self.hparams.r1_every > 1

    def build_phases(self) -> list[Phase]:
        h = self.hparams
        phases = [
            Phase(
                "discriminator",
                "discriminator",
                self.discriminator_loss,
                log_names.D_LOSS,
                repeats=h.n_critic,
            )
        ]
        if self.lazy_r1:
            phases.append(Phase("r1", "discriminator", self.r1_loss, log_names.D_REG_LOSS, every=h.r1_every))
        phases.append(Phase("generator", "generator", self.generator_loss, log_names.G_LOSS))
        if h.pl_weight > 0:
            phases.append(
                Phase(
                    "path_length", "generator", self.path_length_loss, log_names.G_REG_LOSS, every=h.pl_every
                )
            )
        return phases

    def discriminator_loss(self, batch: tuple[Tensor, ...], noise: Generator) -> tuple[Tensor, dict]:
        real, labels = batch
        with torch.no_grad():
            fake = self(self.sample_z(real.size(0), noise), labels)
        real_seen, fake_seen = self.augmented(real, noise), self.augmented(fake, noise)
        real_logits = self.discriminate(real_seen, labels)
        fake_logits = self.discriminate(fake_seen, labels)
        loss = self.loss.discriminator(real_logits, fake_logits, self.hparams.real_label)
        values = {
            log_names.D_REAL: self.loss.score(real_logits.detach()).mean(),
            log_names.D_FAKE_BEFORE_D_STEP: self.loss.score(fake_logits.detach()).mean(),
        }
        if self.loss.gradient_penalty_weight > 0:
            penalty = self._in_float32(
                gradient_penalty,
                lambda x: self.discriminate(x, labels),
                real_seen,
                fake_seen,
                generator=noise,
            )
            loss = loss + self.loss.gradient_penalty_weight * penalty
            values[log_names.GRADIENT_PENALTY] = penalty.detach()
        if self.hparams.r1_gamma > 0 and not self.lazy_r1:
            penalty = self._r1(real, labels, noise)
            loss = loss + 0.5 * self.hparams.r1_gamma * penalty
            values[log_names.R1] = penalty.detach()
        if isinstance(self.augment, AdaptiveAugment):
            self.augment.accumulate(real_logits.detach())
        return loss, values

    def r1_loss(self, batch: tuple[Tensor, ...], noise: Generator) -> tuple[Tensor, dict]:
        """Lazy R1: gamma / 2 * E||grad_x D(x)||^2 on real x, times the interval (StyleGAN2)."""
        real, labels = batch
        penalty = self._r1(real, labels, noise)
        loss = 0.5 * self.hparams.r1_gamma * self.hparams.r1_every * penalty
        return loss, {log_names.R1: penalty.detach()}

    def _r1(self, real: Tensor, labels: Tensor, noise: Generator) -> Tensor:
        """R1 on the real images as given (the gradient goes through the augmentation)."""
        return self._in_float32(
            r1_penalty, lambda x: self.discriminate(self.augmented(x, noise), labels), real
        )

    def generator_loss(self, batch: tuple[Tensor, ...], noise: Generator) -> tuple[Tensor, dict]:
        real, labels = batch
        fake = self(self.sample_z(real.size(0), noise), labels)
        fake_logits = self.discriminate(self.augmented(fake, noise), labels)
        loss = self.loss.generator(fake_logits)
        return loss, {log_names.D_FAKE_AFTER_D_STEP: self.loss.score(fake_logits.detach()).mean()}

    def path_length_loss(self, batch: tuple[Tensor, ...], noise: Generator) -> tuple[Tensor, dict]:
        """StyleGAN2's path-length penalty on half a batch, times the interval."""
        real, labels = batch
        n = max(1, real.size(0) // 2)
        z = self.sample_z(n, noise)
        w = self.generator.mapping(z, labels[:n] if self.conditional else None)
        images = self.generator.synthesis(w)
        penalty, mean, _ = path_length_penalty(
            images, w, self.path_length_mean, self.hparams.pl_decay, generator=noise
        )
        self.path_length_mean.copy_(self.trainer.strategy.reduce(mean.detach(), reduce_op="mean"))  # DDP
        loss = self.hparams.pl_weight * self.hparams.pl_every * penalty
        return loss, {log_names.PATH_LENGTH: penalty.detach(), log_names.PATH_LENGTH_MEAN: mean.detach()}

    def _in_float32(self, penalty, *args, **kwargs) -> Tensor:
        """A gradient penalty in float32 even under mixed precision (double backward in fp16
        overflows)."""
        with torch.autocast(self.device.type, enabled=False):
            args = tuple(a.float() if isinstance(a, Tensor) else a for a in args)
            return penalty(*args, **kwargs)

    def after_phases(self, batch: tuple[Tensor, ...]) -> dict[str, Tensor]:
        """The EMA update, and ADA's probability adjusted from D's outputs on real images."""
        logs = super().after_phases(batch)
        if isinstance(self.augment, AdaptiveAugment):
            images = batch[0].size(0) * self.trainer.world_size
            self.augment.update(images, reduce=self._sum_over_ranks)
            logs[log_names.AUGMENT_P] = self.augment.p.detach().clone()
            logs[log_names.AUGMENT_RT] = self.augment.r_t.detach().clone()
        return logs

    def _sum_over_ranks(self, tensor: Tensor) -> Tensor:
        return self.trainer.strategy.reduce(tensor, reduce_op="sum")


def has_latent_w(generator: torch.nn.Module) -> bool:
    """A generator with a latent W: ``mapping(z, labels) -> w`` and ``synthesis(w) -> images``."""
    return callable(getattr(generator, "mapping", None)) and callable(getattr(generator, "synthesis", None))


def _check_regularizers(
    r1_gamma: float, r1_every: int, pl_weight: float, pl_every: int, pl_decay: float
) -> None:
    for key, value in (("r1_gamma", r1_gamma), ("pl_weight", pl_weight)):
        if value < 0:
            raise ConfigError(f"model.{key} must be >= 0 (0 = off), got {value}.")
    for key, value in (("r1_every", r1_every), ("pl_every", pl_every)):
        if int(value) != value or value < 1:
            raise ConfigError(f"model.{key} must be a positive integer (generator steps), got {value}.")
    if not 0 < pl_decay < 1:
        raise ConfigError(f"model.pl_decay must be in (0, 1), got {pl_decay}.")


def _check_options(
    z_dim: int, n_critic: int, real_label: float, conditional: bool, num_classes: int | None
) -> None:
    if z_dim <= 0:
        raise ConfigError(f"model.z_dim must be a positive integer, got {z_dim}.")
    if n_critic < 1:
        raise ConfigError(
            f"model.n_critic must be at least 1 (discriminator steps per generator step), got {n_critic}."
        )
    if not 0.0 < real_label <= 1.0:
        raise ConfigError(f"model.real_label must be in (0, 1], got {real_label}.")
    if conditional and not num_classes:
        raise ConfigError(
            "A conditional model needs labelled data, but this dataset has no labels. Use an unconditional "
            "model (model=gan or model=dcgan), or give the image folder one sub-folder per class."
        )
