"""The noise-to-sample GAN (Goodfellow et al., 2014): GAN, DCGAN, conditional GAN, LSGAN, WGAN-GP, TransGAN.

These variants share one training step and differ only in configuration: the networks (``arch``), the
loss (``loss``) and whether G and D see class labels (``conditional``). The step (Algorithm 1 of the
paper) as phases, each a separate optimizer update:

    discriminator  (n_critic times)  D on real x and on G(z), z ~ prior, G frozen; plus the WGAN-GP
                                     penalty, and R1 when it is not lazy
    r1             (every r1_every)  lazy R1 on real x, weight gamma / 2 * r1_every  (Mescheder 2018)
    generator                        G through D(G(z)), D frozen

With an ``augment`` (DiffAugment or ADA) D sees real and generated images only through it, in the
discriminator and the generator phases alike. ``trainer.max_steps`` counts generator steps. The
style-based families build on this step: :mod:`gan_lightning.models.style_based` (latent W, style
mixing, truncation in W), :mod:`~gan_lightning.models.stylegan2` (path length) and
:mod:`~gan_lightning.models.stylegan` (progressive growing).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import torch
from torch import Generator, Tensor

from gan_lightning import log_names
from gan_lightning.augment import AdaptiveAugment
from gan_lightning.core import AdversarialModule, Phase
from gan_lightning.errors import ConfigError
from gan_lightning.losses import get_loss, gradient_penalty, r1_penalty
from gan_lightning.networks import build_networks
from gan_lightning.noise import check_prior, sample_noise


class GAN(AdversarialModule):
    """Generator G: z (N, z_dim) [+ y] -> x (N, *data_shape); discriminator D: x [+ y] -> logits (N,).

    Args:
        data_shape: shape of one sample, e.g. (1, 28, 28), from the datamodule.
        num_classes: size of the label space (needed when ``conditional``).
        classes: label ids present in the training data (sample grids show these), default all.
        tanh_output: G ends in tanh (images in [-1, 1]); False for unbounded toy data.
        arch: network family, one of :attr:`architectures` (see :mod:`gan_lightning.networks`).
        networks: per-arch options, ``{arch: {"generator": {...}, "discriminator": {...}}}``.
        conditional: condition G and D on class labels (cGAN).
        z_dim: latent size. noise: latent prior, ``normal`` or ``uniform`` (in [-1, 1]).
        loss: name in :data:`gan_lightning.losses.LOSSES`; loss_kwargs: its options.
        n_critic: discriminator updates per generator update (k in Algorithm 1).
        real_label: D's target for real samples; 0.9 gives one-sided label smoothing.
        r1_gamma: weight gamma of the R1 penalty gamma / 2 * E||grad D(x)||^2 (0 = off).
        r1_every: R1 runs every this many generator steps, weighted by it (lazy regularization).
        data: the data config the model is trained on, recorded so that ``sample`` and ``evaluate``
            find the dataset again from the checkpoint alone.
        **core: the options every family shares (optimizer, scheduler, grad_clip, ema_kimg, ema_rampup,
            spectral_norm, augment, compile, channels_last): see
            :class:`~gan_lightning.core.AdversarialModule`.
    """

    #: the network families (``model.arch``) this training step is made for
    architectures: ClassVar[tuple[str, ...]] = ("mlp", "conv", "transformer")

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
        data: dict[str, Any] | None = None,
        **core: Any,
    ) -> None:
        core["augment"] = _check_augment(core.get("augment"), data_shape)
        super().__init__(**core)
        self.save_hyperparameters(ignore=["compile", "channels_last"])  # how to run, not what the model is
        self.check_arch(arch)
        _check_options(z_dim, n_critic, real_label, conditional, num_classes)
        check_positive_interval(r1_gamma, r1_every, "r1_gamma", "r1_every")
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
        self.build_extras()
        self.finish_networks()
        self.classes = (
            list(classes) if classes is not None else (list(range(num_classes)) if num_classes else None)
        )

    @classmethod
    def data_options(cls, datamodule: Any) -> dict[str, Any]:
        """What this family takes from the data: the sample shape, the labels, the output range."""
        return {
            "data_shape": list(datamodule.data_shape),
            "num_classes": datamodule.num_classes,
            "classes": datamodule.classes,
            "tanh_output": datamodule.is_image,
        }

    def check_arch(self, arch: str) -> None:
        if arch not in self.architectures:
            raise ConfigError(
                f"Unknown architecture for {type(self).__name__}: model.arch={arch}. It trains "
                f"{', '.join(self.architectures)}; the style-based networks come with their own training "
                "step: use model=stylegan2 or model=stylegan."
            )

    def build_extras(self) -> None:
        """Buffers and checks of a family built on this step, after the networks (none here)."""

    # --- the two networks, with or without labels ------------------------------------------------

    @property
    def conditional(self) -> bool:
        return self.hparams.conditional

    @property
    def has_latent_w(self) -> bool:
        """Truncation, interpolation and style mixing happen in a latent W (the style-based families)."""
        return False

    def sample_z(self, n: int, rng: Generator | None = None) -> Tensor:
        """n latent vectors (n, z_dim) on the model's device, drawn with ``rng``."""
        return sample_noise(self.hparams.noise, n, self.hparams.z_dim, self.device, rng)

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """G(z [, y]) of the trained generator: (N, z_dim) -> (N, *data_shape)."""
        return self.generator(z, labels if self.conditional else None)

    def discriminate(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        """D(x [, y]) logits (N,)."""
        return self.discriminator(x, labels if self.conditional else None)

    # --- sampling interface -------------------------------------------------------------------------

    def sample_inputs(
        self,
        n: int,
        rng: Generator | None = None,
        labels: Tensor | None = None,
        truncation: float | None = None,
    ) -> dict[str, Tensor]:
        """``{"z": (n, z_dim)[, "labels": (n,)][, "truncation": psi]}`` on the model's device. The noise is
        drawn where the random-number generator ``rng`` lives (a CPU one gives the same samples on any
        device). ``truncation``: see :meth:`truncation_inputs`."""
        z_threshold, extra = self.truncation_inputs(truncation)
        where = rng.device if rng is not None else self.device
        z = sample_noise(self.hparams.noise, n, self.hparams.z_dim, where, rng, z_threshold)
        inputs = {"z": z.to(self.device), **extra}
        if self.conditional:
            if labels is None:
                raise ValueError("A conditional model needs labels to sample.")
            inputs["labels"] = labels.to(self.device)
        return inputs

    def truncation_inputs(self, truncation: float | None) -> tuple[float | None, dict[str, Tensor]]:
        """(threshold for z, extra inputs) of a truncation: here a threshold beyond which latent
        coordinates are redrawn (BigGAN's trick, > 0)."""
        return truncation, {}

    def generate(self, inputs: dict[str, Tensor], ema: bool | None = None) -> Tensor:
        """Samples of :meth:`sample_inputs`' inputs, by the EMA generator unless ``ema=False``."""
        generator = self.sampling_network("generator", ema)
        return generator(inputs["z"], inputs.get("labels") if self.conditional else None)

    # --- the training step as phases ----------------------------------------------------------------

    def fake_images(self, n: int, labels: Tensor | None, rng: Generator) -> Tensor:
        """G's images for a training phase, from latents drawn with ``rng``."""
        return self(self.sample_z(n, rng), labels)

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
        return phases

    def discriminator_loss(self, batch: tuple[Tensor, ...], rng: Generator) -> tuple[Tensor, dict]:
        real, labels = batch
        with torch.no_grad():
            fake = self.fake_images(real.size(0), labels, rng)
        real_seen, fake_seen = self.augmented(real, rng), self.augmented(fake, rng)
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
                rng=rng,
            )
            loss = loss + self.loss.gradient_penalty_weight * penalty
            values[log_names.GRADIENT_PENALTY] = penalty.detach()
        if self.hparams.r1_gamma > 0 and not self.lazy_r1:
            penalty = self._r1(real, labels, rng)
            loss = loss + 0.5 * self.hparams.r1_gamma * penalty
            values[log_names.R1] = penalty.detach()
        if isinstance(self.augment, AdaptiveAugment):
            self.augment.accumulate(real_logits.detach())
        return loss, values

    def r1_loss(self, batch: tuple[Tensor, ...], rng: Generator) -> tuple[Tensor, dict]:
        """Lazy R1: gamma / 2 * E||grad_x D(x)||^2 on real x, times the interval (StyleGAN2)."""
        real, labels = batch
        penalty = self._r1(real, labels, rng)
        loss = 0.5 * self.hparams.r1_gamma * self.hparams.r1_every * penalty
        return loss, {log_names.R1: penalty.detach()}

    def _r1(self, real: Tensor, labels: Tensor, rng: Generator) -> Tensor:
        """R1 on the real images as given (the gradient goes through the augmentation)."""
        return self._in_float32(r1_penalty, lambda x: self.discriminate(self.augmented(x, rng), labels), real)

    def generator_loss(self, batch: tuple[Tensor, ...], rng: Generator) -> tuple[Tensor, dict]:
        real, labels = batch
        fake = self.fake_images(real.size(0), labels, rng)
        fake_logits = self.discriminate(self.augmented(fake, rng), labels)
        loss = self.loss.generator(fake_logits)
        return loss, {log_names.D_FAKE_AFTER_D_STEP: self.loss.score(fake_logits.detach()).mean()}

    def _in_float32(self, penalty, *args, **kwargs) -> Tensor:
        """A gradient penalty in float32 even under mixed precision (double backward in fp16
        overflows), through the uncompiled networks (:meth:`eager`)."""
        with torch.autocast(self.device.type, enabled=False), self.eager():
            args = tuple(a.float() if isinstance(a, Tensor) else a for a in args)
            return penalty(*args, **kwargs)


def check_positive_interval(weight: float, every: int, weight_key: str, every_key: str) -> None:
    """A regularizer's weight (>= 0, 0 = off) and its interval in generator steps (a positive integer)."""
    if weight < 0:
        raise ConfigError(f"model.{weight_key} must be >= 0 (0 = off), got {weight}.")
    if int(every) != every or every < 1:
        raise ConfigError(f"model.{every_key} must be a positive integer (generator steps), got {every}.")


def _check_augment(augment: dict[str, Any] | None, data_shape: Sequence[int]) -> dict[str, Any] | None:
    if augment and augment.get("kind", "none") != "none" and len(data_shape) != 3:
        raise ConfigError(
            f"augment={augment['kind']} transforms images, but this data has shape {tuple(data_shape)}. "
            "Use augment=none for 2-D toy data."
        )
    return augment


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
