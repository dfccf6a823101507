"""The noise-to-sample GAN: one family for GAN, DCGAN, conditional GAN, LSGAN, TransGAN and StyleGAN.

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

Generators with a latent W (StyleGAN, StyleGAN2: ``mapping`` / ``synthesis``) add: style mixing
regularization (``style_mixing``: with that probability a batch takes its styles from two latents,
switched at a random layer), the truncation trick in W around the tracked average w, and, for growing
networks (StyleGAN v1), progressive growing on a schedule in generator steps (``progressive``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Generator, Tensor

from gan_lightning import log_names
from gan_lightning.augment import AdaptiveAugment
from gan_lightning.core import AdversarialModule, Phase
from gan_lightning.core.progressive import ProgressiveSchedule
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
        style_mixing: probability that a training batch mixes the styles of two latents (Karras et
            al. 2019: 0.9); generators with a latent W only; 0 = off.
        progressive: ``None`` or ``{"stable_steps": S, "fade_steps": F, "total_steps": T}``: progressive
            growing for networks that grow (model.arch=stylegan): S generator steps at each resolution,
            F steps of fade-in before each new one; T (``trainer.max_steps``) must reach the last.
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
        style_mixing: float = 0.0,
        progressive: dict[str, int] | None = None,
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
            ema_rampup=ema_rampup, spectral_norm=spectral_norm, augment=_check_augment(augment, data_shape),
            compile=compile, channels_last=channels_last,
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
        if style_mixing and not is_style_generator(self.generator):
            raise ConfigError(
                f"model.style_mixing={style_mixing} mixes the styles of two latents; model.arch={arch} has "
                "no mapping network (use model=stylegan2 or model=stylegan), or set model.style_mixing=0."
            )
        if not 0.0 <= style_mixing <= 1.0:
            raise ConfigError(f"model.style_mixing is a probability in [0, 1], got {style_mixing}.")
        self.progression = _progression(progressive, self.generator, self.discriminator, arch)
        self.finish_networks()
        self.classes = (
            list(classes) if classes is not None else (list(range(num_classes)) if num_classes else None)
        )

    # --- the two networks, with or without labels ------------------------------------------------

    @property
    def conditional(self) -> bool:
        return self.hparams.conditional

    @property
    def has_latent_w(self) -> bool:
        """A StyleGAN generator (:func:`is_style_generator`): truncation, interpolation and style mixing
        happen in its latent W."""
        return is_style_generator(self.generator)

    def sample_z(self, n: int, generator: Generator | None = None) -> Tensor:
        """n latent vectors (n, z_dim) on the model's device."""
        return sample_noise(self.hparams.noise, n, self.hparams.z_dim, self.device, generator)

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
        generator: Generator | None = None,
        labels: Tensor | None = None,
        truncation: float | None = None,
    ) -> dict[str, Tensor]:
        """``{"z": (n, z_dim)[, "labels": (n,)][, "truncation": psi]}`` on the model's device. The noise
        is drawn where ``generator`` lives (a CPU generator gives the same samples on any device).

        ``truncation``: for generators with a latent W, psi in [0, 1] of the truncation trick in W
        (``w_avg + psi (w - w_avg)``, Karras et al. 2019; 1 = off, 0 = the average image); for the
        others, a threshold beyond which latent coordinates are redrawn (BigGAN's trick, > 0)."""
        where = generator.device if generator is not None else self.device
        in_w = self.has_latent_w and truncation is not None
        if in_w and not 0.0 <= truncation <= 1.0:
            raise ConfigError(
                f"truncation={truncation}: this model truncates in W, with psi in [0, 1] (1 = off, 0 = the "
                "average image)."
            )
        z_threshold = None if self.has_latent_w else truncation
        z = sample_noise(self.hparams.noise, n, self.hparams.z_dim, where, generator, z_threshold)
        inputs = {"z": z.to(self.device)}
        if in_w:
            inputs["truncation"] = torch.tensor(float(truncation))
        if self.conditional:
            if labels is None:
                raise ValueError("A conditional model needs labels to sample.")
            inputs["labels"] = labels.to(self.device)
        return inputs

    def generate(self, inputs: dict[str, Tensor], ema: bool | None = None) -> Tensor:
        """Images of :meth:`sample_inputs`' inputs, or of ``{"w": (n, w_dim) or (n, num_ws, w_dim)}`` for
        generators with a latent W. StyleGAN's per-layer noise is the fixed ``const`` noise here (as
        NVlabs' generation scripts do), so that sampling is repeatable and draws no random numbers."""
        generator = self.sampling_network("generator", ema)
        labels = inputs.get("labels") if self.conditional else None
        if not self.has_latent_w:
            return generator(inputs["z"], labels)
        if "w" in inputs:
            return generator.synthesis(inputs["w"], noise_mode="const")
        psi = float(inputs["truncation"]) if "truncation" in inputs else None
        return generator(inputs["z"], labels, truncation=psi, noise_mode="const")

    def latents_w(self, inputs: dict[str, Tensor], ema: bool | None = None) -> Tensor:
        """w (n, w_dim) of :meth:`sample_inputs`' inputs (truncated when they say so): StyleGAN only."""
        generator = self.sampling_network("generator", ema)
        w = generator.mapping(inputs["z"], inputs.get("labels") if self.conditional else None)
        return generator.truncate(w, float(inputs["truncation"])) if "truncation" in inputs else w

    # --- the training step as phases ----------------------------------------------------------------

    def fake_images(self, n: int, labels: Tensor | None, noise: Generator) -> Tensor:
        """G's images for a training phase, from noise drawn with ``noise``. Generators with a latent W
        draw their per-layer noise from it too, and mix styles with probability ``style_mixing``: the
        layers from a random cutoff in [1, num_ws) take the styles of a second latent (Karras 2019)."""
        z = self.sample_z(n, noise)
        if not self.has_latent_w:
            return self(z, labels)
        options: dict[str, Any] = {"noise_generator": noise}
        if self.hparams.style_mixing > 0:  # the coin and the cutoff are drawn on the host (no device read)
            choices = self.host_rng(noise)
            mix = torch.rand((), generator=choices).tolist() < self.hparams.style_mixing
            cutoff = torch.randint(1, self.generator.num_ws, (), generator=choices).tolist()
            if mix:
                options.update(mixing_z=self.sample_z(n, noise), mixing_cutoff=cutoff)
        return self.generator(z, labels if self.conditional else None, **options)

    def before_phases(self, batch: tuple[Tensor, ...]) -> dict[str, Tensor]:
        """Progressive growing: the resolution and fade-in of this generator step, set on G, D and the
        EMA generator, logged as ``train/resolution`` and ``train/fade_alpha``."""
        if self.progression is None:
            return {}
        level, alpha = self.progression.at(self.steps_done)
        networks = [self.generator, self.discriminator]
        if self.ema is not None:
            networks.append(self.ema.networks["generator"])
        for network in networks:
            network.set_progress(level, alpha)
        return {
            log_names.RESOLUTION: torch.tensor(float(self.progression.sides[level])),
            log_names.FADE_ALPHA: torch.tensor(alpha),
        }

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
            fake = self.fake_images(real.size(0), labels, noise)
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
        fake = self.fake_images(real.size(0), labels, noise)
        fake_logits = self.discriminate(self.augmented(fake, noise), labels)
        loss = self.loss.generator(fake_logits)
        return loss, {log_names.D_FAKE_AFTER_D_STEP: self.loss.score(fake_logits.detach()).mean()}

    def path_length_loss(self, batch: tuple[Tensor, ...], noise: Generator) -> tuple[Tensor, dict]:
        """StyleGAN2's path-length penalty on half a batch, times the interval."""
        real, labels = batch
        n = max(1, real.size(0) // 2)
        z = self.sample_z(n, noise)
        with self.eager():  # a double backward
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
        overflows), through the uncompiled networks (:meth:`eager`)."""
        with torch.autocast(self.device.type, enabled=False), self.eager():
            args = tuple(a.float() if isinstance(a, Tensor) else a for a in args)
            return penalty(*args, **kwargs)


def _progression(
    progressive: dict[str, int] | None, generator: torch.nn.Module, discriminator: torch.nn.Module, arch: str
) -> ProgressiveSchedule | None:
    if not progressive:
        return None
    if not all(callable(getattr(net, "set_progress", None)) for net in (generator, discriminator)):
        raise ConfigError(
            f"model.progressive grows the networks a resolution at a time; model.arch={arch} does not grow "
            "(use model=stylegan), or set model.progressive=null."
        )
    options = dict(progressive)
    total = options.pop("total_steps", None)
    unknown = set(options) - {"stable_steps", "fade_steps"}
    if unknown:
        raise ConfigError(
            f"model.progressive takes stable_steps, fade_steps and total_steps; got also {sorted(unknown)}."
        )
    schedule = ProgressiveSchedule(tuple(generator.sides), **options)
    schedule.check_reaches_the_end(total)
    return schedule


def has_latent_w(generator: torch.nn.Module) -> bool:
    """A generator with a latent W: ``mapping(z, labels) -> w`` and ``synthesis(w) -> images`` (what
    the path-length penalty needs)."""
    return callable(getattr(generator, "mapping", None)) and callable(getattr(generator, "synthesis", None))


def is_style_generator(generator: torch.nn.Module) -> bool:
    """A StyleGAN generator (:class:`~gan_lightning.networks.style_layers.StyleGenerator`): a latent W
    with ``num_ws`` styles, ``truncate``, style mixing and noise options in ``forward``."""
    return (
        has_latent_w(generator)
        and hasattr(generator, "num_ws")
        and callable(getattr(generator, "truncate", None))
    )


def _check_augment(augment: dict[str, Any] | None, data_shape: Sequence[int]) -> dict[str, Any] | None:
    if augment and augment.get("kind", "none") != "none" and len(data_shape) != 3:
        raise ConfigError(
            f"augment={augment['kind']} transforms images, but this data has shape {tuple(data_shape)}. "
            "Use augment=none for 2-D toy data."
        )
    return augment


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
