"""Unpaired image-to-image translation: one family for CycleGAN and DiscoGAN.

Two domains A and B, two generators ``G: A -> B`` (``generator_ab``) and ``F: B -> A``
(``generator_ba``), two discriminators ``D_B`` (judges G's outputs, ``discriminator_b``) and ``D_A``
(``discriminator_a``). Batches are pairs ``(a, b)`` of unpaired images in [-1, 1]. The papers differ
only in configuration (``conf/model/cyclegan.yaml``, ``conf/model/discogan.yaml``):

- CycleGAN (Zhu et al. 2017): ResNet generators, 70x70 PatchGAN discriminators, least-squares loss,
  cycle loss ``|F(G(a)) - a| + |G(F(b)) - b|`` weighted 10, identity loss ``|G(b) - b| + |F(a) - a|``
  weighted 0.5 x 10, and an image pool of 50 past translations per discriminator.
- DiscoGAN (Kim et al. 2017): encoder-decoder generators, conv discriminators, BCE loss plus feature
  matching on D's activations, an L2 reconstruction loss whose weight follows a curriculum (small for
  the first steps, then the full weight).

The training step, as phases (generator first, as in the CycleGAN reference):

    generator      G and F together: adversarial + cycle + identity + feature matching terms
    discriminator  D_A and D_B on real images and on the generator phase's translations (through
                   the image pool); R1 on real images when ``r1_gamma`` > 0

Every extra of the core works here as well: EMA of both generators (translations then come from the
averages), spectral normalization, DiffAugment / ADA before the discriminators, gradient clipping.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Generator, Tensor, nn

from gan_lightning import log_names
from gan_lightning.augment import AdaptiveAugment
from gan_lightning.core import AdversarialModule, Phase
from gan_lightning.core.image_pool import ImagePool
from gan_lightning.errors import ConfigError
from gan_lightning.losses import feature_matching_loss, get_loss, get_reconstruction_loss, r1_penalty
from gan_lightning.networks import build_translation_networks

DOMAINS = ("a", "b")


class UnpairedTranslation(AdversarialModule):
    """Generators (N, C, S, S) -> (N, C, S, S) in [-1, 1] between domains A and B; discriminators
    images -> logits ((N,) or a patch map (N, 1, H', W')).

    Args:
        data_shape: (C, S, S) of both domains, from the datamodule.
        arch: ``resnet`` (ResNet G + PatchGAN D, CycleGAN) or ``encoder_decoder`` (DiscoGAN).
        networks: per-arch options, ``{arch: {"generator": {...}, "discriminator": {...}}}``.
        loss: adversarial loss name (:data:`gan_lightning.losses.LOSSES`); loss_kwargs: its options.
        adversarial_weight: weight of the generators' adversarial terms.
        cycle_weight: weight lambda of the cycle (reconstruction) loss.
        cycle_curriculum: ``None`` or ``{"until_step": N, "weight": w}``: the cycle weight is ``w``
            before generator step N, then ``cycle_weight`` (DiscoGAN's schedule).
        identity_weight: weight of the identity loss as a fraction of ``cycle_weight`` (0.5 in
            CycleGAN; 0 = off, the paper's ablation).
        reconstruction: ``l1`` (CycleGAN) or ``l2`` (DiscoGAN), for the cycle and identity losses.
        feature_matching_weight: weight of the feature-matching term on D's activations (DiscoGAN).
        pool_size: past translations kept per discriminator (Shrivastava et al. 2017); 0 = no pool.
        r1_gamma: R1 penalty gamma / 2 * E||grad D(x)||^2 on real images of both domains (0 = off).
        data: the data config, recorded so that ``translate`` and ``evaluate`` find the domains again.
        **core: the options every family shares (optimizer, scheduler, grad_clip, ema_kimg, ema_rampup,
            spectral_norm, augment, compile, channels_last): see
            :class:`~gan_lightning.core.AdversarialModule`.
    """

    groups = {
        "discriminator": ("discriminator_a", "discriminator_b"),
        "generator": ("generator_ab", "generator_ba"),
    }
    ema_networks = ("generator_ab", "generator_ba")
    data_kind = "two_domains"
    grid_columns = 3  # SampleGrid's rows: a | G(a) | F(G(a)), then b | F(b) | G(F(b))

    def __init__(
        self,
        data_shape: Sequence[int],
        arch: str = "resnet",
        networks: dict[str, Any] | None = None,
        loss: str = "least_squares",
        loss_kwargs: dict[str, float] | None = None,
        adversarial_weight: float = 1.0,
        cycle_weight: float = 10.0,
        cycle_curriculum: dict[str, float] | None = None,
        identity_weight: float = 0.5,
        reconstruction: str = "l1",
        feature_matching_weight: float = 0.0,
        pool_size: int = 50,
        r1_gamma: float = 0.0,
        data: dict[str, Any] | None = None,
        **core: Any,
    ) -> None:
        _check_image_shape(data_shape)
        super().__init__(**core)
        self.save_hyperparameters(ignore=["compile", "channels_last"])  # how to run, not what the model is
        _check_weights(
            adversarial_weight, cycle_weight, identity_weight, feature_matching_weight, pool_size, r1_gamma
        )
        self.curriculum = _check_curriculum(cycle_curriculum)
        self.loss = get_loss(loss, **(loss_kwargs or {}))
        if self.loss.gradient_penalty_weight > 0:
            raise ConfigError(
                "model.loss=wasserstein with a gradient penalty is not supported by the translation family; "
                "use least_squares (CycleGAN), non_saturating (DiscoGAN) or hinge."
            )
        self.reconstruction_loss = get_reconstruction_loss(reconstruction)
        arch_options = (networks or {}).get(arch, {})
        (self.generator_ab, self.generator_ba), (self.discriminator_a, self.discriminator_b) = (
            build_translation_networks(
                arch, data_shape, arch_options.get("generator"), arch_options.get("discriminator")
            )
        )
        self.pool_a, self.pool_b = ImagePool(pool_size), ImagePool(pool_size)
        self.finish_networks()
        self._translations: dict[str, Tensor] = {}  # the generator phase's outputs, for D's phase

    @classmethod
    def data_options(cls, datamodule: Any) -> dict[str, Any]:
        """What this family takes from the data: the image shape (C, S, S) of both domains."""
        return {"data_shape": list(datamodule.data_shape)}

    # --- the networks -------------------------------------------------------------------------------

    def translator(self, direction: str, ema: bool | None = None) -> nn.Module:
        """``G`` for ``a2b``, ``F`` for ``b2a``: the EMA copy when there is one (unless ``ema=False``)."""
        return self.sampling_network(_generator_name(direction), ema)

    def translate(self, images: Tensor, direction: str = "a2b", ema: bool | None = None) -> Tensor:
        """Translate images (N, C, S, S) in [-1, 1] of the source domain of ``direction``."""
        return self.translator(direction, ema)(images)

    def forward(self, images: Tensor, direction: str = "a2b") -> Tensor:
        """The trained (not averaged) generator of ``direction`` applied to ``images``."""
        return getattr(self, _generator_name(direction))(images)

    def _discriminate(self, domain: str, images: Tensor, rng: Generator, features: bool = False):
        discriminator = self.discriminator_a if domain == "a" else self.discriminator_b
        seen = self.augmented(images, rng)
        return discriminator(seen, return_features=True) if features else discriminator(seen)

    # --- sampling interface (grids and metrics) -------------------------------------------------------

    def generate(self, inputs: dict[str, Tensor], ema: bool | None = None) -> Tensor:
        """The translation grid of ``{"a": (n, C, S, S), "b": (n, C, S, S)}``, test images of the two
        domains (:meth:`UnpairedDataModule.grid_inputs <gan_lightning.data.UnpairedDataModule.grid_inputs>`):
        one row per image, ``a | G(a) | F(G(a))`` then ``b | F(b) | G(F(b))`` (``grid_columns`` columns)."""
        rows = []
        for domain, there, back in (("a", "a2b", "b2a"), ("b", "b2a", "a2b")):
            source = inputs[domain]
            translated = self.translate(source, there, ema)
            rows.append(torch.stack([source, translated, self.translate(translated, back, ema)], dim=1))
        return torch.cat(rows).flatten(0, 1)

    # --- the training step --------------------------------------------------------------------------

    def build_phases(self) -> list[Phase]:
        return [
            Phase("generator", "generator", self.generator_loss, log_names.G_LOSS),
            Phase("discriminator", "discriminator", self.discriminator_loss, log_names.D_LOSS),
        ]

    def cycle_weight_at(self, step: int) -> float:
        """The cycle weight in force at generator step ``step`` (DiscoGAN's curriculum, if any)."""
        if self.curriculum is not None and step < self.curriculum["until_step"]:
            return self.curriculum["weight"]
        return self.hparams.cycle_weight

    def generator_loss(self, batch: tuple[Tensor, ...], rng: Generator) -> tuple[Tensor, dict]:
        real_a, real_b = batch[0], batch[1]
        h = self.hparams
        cycle_weight = self.cycle_weight_at(self.steps_done)
        fake_b, fake_a = self.generator_ab(real_a), self.generator_ba(real_b)
        cycled = {"a2b": self.generator_ba(fake_b), "b2a": self.generator_ab(fake_a)}
        sources = {"a2b": real_a, "b2a": real_b}
        targets = {"a2b": ("b", fake_b, real_b), "b2a": ("a", fake_a, real_a)}
        total = torch.zeros((), device=real_a.device)
        values: dict[str, Tensor] = {log_names.CYCLE_WEIGHT: torch.tensor(cycle_weight)}
        for direction in log_names.DIRECTIONS:
            domain, fake, real = targets[direction]
            if h.feature_matching_weight > 0:
                fake_logits, fake_features = self._discriminate(domain, fake, rng, features=True)
                with torch.no_grad():
                    _, real_features = self._discriminate(domain, real, rng, features=True)
                matching = feature_matching_loss(real_features, fake_features)
                total = total + h.feature_matching_weight * matching
                values[log_names.per_direction(log_names.FEATURE_MATCHING, direction)] = matching.detach()
            else:
                fake_logits = self._discriminate(domain, fake, rng)
            adversarial = self.loss.generator(fake_logits)
            cycle = self.reconstruction_loss(cycled[direction], sources[direction])
            total = total + h.adversarial_weight * adversarial + cycle_weight * cycle
            values[log_names.per_direction(log_names.G_ADVERSARIAL, direction)] = adversarial.detach()
            values[log_names.per_direction(log_names.CYCLE, direction)] = cycle.detach()
            values[log_names.per_direction(log_names.D_TRANSLATED_AFTER_D_STEP, direction)] = self.loss.score(
                fake_logits.detach()
            ).mean()
        if h.identity_weight > 0:  # G should leave images of its target domain unchanged
            for direction, generator, image in (
                ("a2b", self.generator_ab, real_b),
                ("b2a", self.generator_ba, real_a),
            ):
                identity = self.reconstruction_loss(generator(image), image)
                total = total + h.identity_weight * cycle_weight * identity
                values[log_names.per_direction(log_names.IDENTITY, direction)] = identity.detach()
        self._translations = {"a": fake_a.detach(), "b": fake_b.detach()}
        return total, values

    def discriminator_loss(self, batch: tuple[Tensor, ...], rng: Generator) -> tuple[Tensor, dict]:
        reals = {"a": batch[0], "b": batch[1]}
        # The pools draw on the CPU (the same choices on any device, no device read), seeded per step.
        pool_seed = torch.randint(2**62, (1,), generator=self.host_rng(rng)).tolist()[0]
        pool_rng = torch.Generator().manual_seed(pool_seed)
        total = torch.zeros((), device=batch[0].device)
        values: dict[str, Tensor] = {}
        for domain, pool in (("a", self.pool_a), ("b", self.pool_b)):
            fake = pool.query(self._translations.pop(domain), pool_rng)
            real_logits = self._discriminate(domain, reals[domain], rng)
            fake_logits = self._discriminate(domain, fake, rng)
            loss = self.loss.discriminator(real_logits, fake_logits, 1.0)
            if self.hparams.r1_gamma > 0:
                with self.eager():  # a double backward
                    penalty = r1_penalty(lambda x, d=domain: self._discriminate(d, x, rng), reals[domain])
                loss = loss + 0.5 * self.hparams.r1_gamma * penalty
                values[log_names.per_direction(log_names.R1, domain)] = penalty.detach()
            if domain == "b" and isinstance(self.augment, AdaptiveAugment):
                self.augment.accumulate(real_logits.detach().flatten())
            total = total + loss
            values[log_names.per_direction(log_names.D_DOMAIN_LOSS, domain)] = loss.detach()
            values[log_names.per_direction(log_names.D_REAL, domain)] = self.loss.score(
                real_logits.detach()
            ).mean()
            translated = "a2b" if domain == "b" else "b2a"  # what this domain's D judges
            values[log_names.per_direction(log_names.D_TRANSLATED_BEFORE_D_STEP, translated)] = (
                self.loss.score(fake_logits.detach()).mean()
            )
        return total, values


def _generator_name(direction: str) -> str:
    if direction not in log_names.DIRECTIONS:
        raise ConfigError(f"direction must be a2b (A -> B) or b2a (B -> A), got '{direction}'.")
    return "generator_ab" if direction == "a2b" else "generator_ba"


def _check_image_shape(data_shape: Sequence[int]) -> None:
    if len(data_shape) != 3:
        raise ConfigError(
            f"Translation models work on images; this data has samples of shape {tuple(data_shape)}. "
            "Use data=unpaired with two image folders."
        )


def _check_weights(
    adversarial: float, cycle: float, identity: float, matching: float, pool_size: int, r1_gamma: float
) -> None:
    for key, value in (
        ("adversarial_weight", adversarial),
        ("cycle_weight", cycle),
        ("identity_weight", identity),
        ("feature_matching_weight", matching),
        ("r1_gamma", r1_gamma),
    ):
        if value < 0:
            raise ConfigError(f"model.{key} must be >= 0 (0 = off), got {value}.")
    if int(pool_size) != pool_size or pool_size < 0:
        raise ConfigError(f"model.pool_size must be a whole number >= 0 (0 = no pool), got {pool_size}.")


def _check_curriculum(curriculum: dict[str, float] | None) -> dict[str, float] | None:
    if not curriculum:
        return None
    if set(curriculum) != {"until_step", "weight"}:
        raise ConfigError(
            "model.cycle_curriculum takes until_step (generator steps) and weight, e.g. "
            f"model.cycle_curriculum={{until_step:10000,weight:0.01}}; got {curriculum}."
        )
    if curriculum["until_step"] < 0 or curriculum["weight"] < 0:
        raise ConfigError(f"model.cycle_curriculum values must be >= 0, got {curriculum}.")
    return dict(curriculum)
