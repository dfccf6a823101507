"""Paired image-to-image translation: pix2pix (Isola et al. 2017).

Batches are pairs ``(source, target)`` of aligned images in [-1, 1] (``data=paired``: A/ and B/ folders
matched by name, or sources derived from any image folder with ``data.derive=edges|grayscale``). One
generator G: source -> target, with no latent input (dropout is its noise), and one conditional
discriminator D that judges the pair ``(source, image)`` concatenated along the channels, as a map of
patch logits (the 70x70 PatchGAN). The paper's configuration is ``conf/model/pix2pix.yaml``.

The training step, as in the reference (junyanz/pytorch-CycleGAN-and-pix2pix, ``pix2pix_model.py``):
G translates the batch once before the phases (:meth:`before_phases`), then

    discriminator  D on (source, target) -> real and (source, G(source)) -> fake, the loss weighted
                   by ``d_loss_weight`` (0.5: "slows down the rate at which D learns relative to G")
    generator      G through D(source, G(source)) + ``l1_weight`` * |G(source) - target| (100)

Every extra of the core works here too: EMA of G (grids and metrics then use the average),
spectral normalization, DiffAugment / ADA before D (the same transform on both halves of a pair),
gradient clipping.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Generator, Tensor

from gan_lightning import log_names
from gan_lightning.augment import AdaptiveAugment
from gan_lightning.core import AdversarialModule, Phase
from gan_lightning.errors import ConfigError
from gan_lightning.losses import get_loss
from gan_lightning.networks import build_network


class PairedTranslation(AdversarialModule):
    """G: source (N, C_a, S, S) -> image (N, C_b, S, S) in [-1, 1]; D: (source, image) -> patch logits.

    Args:
        source_shape: (C_a, S, S) of the sources, from the datamodule.
        data_shape: (C_b, S, S) of the targets, from the datamodule.
        networks: ``{"generator": {_target_, ...}, "discriminator": {_target_, ...}}``: each network's
            class and options; G is called with ``in_channels``, ``out_channels``, ``image_size``, D
            with ``in_channels`` (C_a + C_b) and ``image_size``.
        loss: adversarial loss name (:data:`gan_lightning.losses.LOSSES`; the reference's ``vanilla``
            GAN is ``non_saturating``); loss_kwargs: its options.
        adversarial_weight: weight of G's adversarial term.
        l1_weight: weight lambda of the L1 term |G(source) - target| (100 in the paper; 0: a GAN alone).
        d_loss_weight: D's loss is multiplied by this (0.5 in the reference).
        data: the data config, recorded so that ``translate`` and ``evaluate`` find the data again
            (``translate`` derives the sources of a model trained with ``data.derive``).
        **core: the options every family shares: see :class:`~gan_lightning.core.AdversarialModule`.
    """

    groups = {"discriminator": ("discriminator",), "generator": ("generator",)}
    ema_networks = ("generator",)
    data_kind = "paired"
    grid_columns = 3  # SampleGrid's rows: source | G(source) | target

    def __init__(
        self,
        source_shape: Sequence[int],
        data_shape: Sequence[int],
        networks: dict[str, Any],
        loss: str = "non_saturating",
        loss_kwargs: dict[str, float] | None = None,
        adversarial_weight: float = 1.0,
        l1_weight: float = 100.0,
        d_loss_weight: float = 0.5,
        data: dict[str, Any] | None = None,
        **core: Any,
    ) -> None:
        _check_shapes(source_shape, data_shape)
        super().__init__(**core)
        self.save_hyperparameters(ignore=["compile", "channels_last"])  # how to run, not what the model is
        for key, value in (
            ("adversarial_weight", adversarial_weight),
            ("l1_weight", l1_weight),
            ("d_loss_weight", d_loss_weight),
        ):
            if value < 0:
                raise ConfigError(f"model.{key} must be >= 0, got {value}.")
        self.loss = get_loss(loss, **(loss_kwargs or {}))
        if self.loss.gradient_penalty_weight > 0:
            raise ConfigError(
                "model.loss=wasserstein with a gradient penalty is not supported by pix2pix; use "
                "non_saturating (the paper), least_squares or hinge."
            )
        source_channels, (channels, side) = int(source_shape[0]), (int(data_shape[0]), int(data_shape[-1]))
        self.generator = build_network(
            networks.get("generator"), "model.networks.generator",
            in_channels=source_channels, out_channels=channels, image_size=side,
        )  # fmt: skip
        self.discriminator = build_network(
            networks.get("discriminator"), "model.networks.discriminator",
            in_channels=source_channels + channels, image_size=side,
        )  # fmt: skip
        self.finish_networks()
        self._translated: Tensor | None = None  # G(source) of this step, for both phases

    @classmethod
    def data_options(cls, datamodule: Any) -> dict[str, Any]:
        """What this family takes from the data: the shapes of the sources and of the targets."""
        return {"source_shape": list(datamodule.source_shape), "data_shape": list(datamodule.data_shape)}

    # --- the networks -------------------------------------------------------------------------------

    def translate(self, source: Tensor, ema: bool | None = None) -> Tensor:
        """G(source): (N, C_a, S, S) -> (N, C_b, S, S) in [-1, 1]; the EMA generator unless ``ema=False``."""
        return self.sampling_network("generator", ema)(source)

    def forward(self, source: Tensor) -> Tensor:
        """The trained (not averaged) generator applied to ``source``."""
        return self.generator(source)

    def discriminate(self, source: Tensor, image: Tensor, rng: Generator) -> Tensor:
        """D's patch logits of the pairs (source, image); an augmentation transforms both alike."""
        pair = self.augmented(torch.cat([source, image], dim=1), rng)
        return self.discriminator(pair)

    # --- sampling interface (grids and metrics) -------------------------------------------------------

    def generate(self, inputs: dict[str, Tensor], ema: bool | None = None) -> Tensor:
        """The grid of ``{"source": (n, C_a, S, S), "target": (n, C_b, S, S)}``, fixed test pairs of the
        data (:meth:`PairedDataModule.grid_inputs <gan_lightning.data.PairedDataModule.grid_inputs>`):
        one row per pair, ``source | G(source) | target`` (one-channel sources shown in C_b channels)."""
        source, target = inputs["source"], inputs["target"]
        shown = source.expand(-1, target.size(1), -1, -1) if source.size(1) == 1 else source
        return torch.stack([shown, self.translate(source, ema), target], dim=1).flatten(0, 1)

    # --- the training step --------------------------------------------------------------------------

    def build_phases(self) -> list[Phase]:
        return [
            Phase("discriminator", "discriminator", self.discriminator_loss, log_names.D_LOSS),
            Phase("generator", "generator", self.generator_loss, log_names.G_LOSS),
        ]

    def before_phases(self, batch: tuple[Tensor, ...]) -> dict[str, Tensor]:
        """G translates the batch once (as the reference's ``forward``): D sees it detached, G's phase
        backpropagates through it."""
        self._translated = self.generator(batch[0])
        return {}

    def discriminator_loss(self, batch: tuple[Tensor, ...], rng: Generator) -> tuple[Tensor, dict]:
        source, target = batch[0], batch[1]
        real_logits = self.discriminate(source, target, rng)
        fake_logits = self.discriminate(source, self._translated.detach(), rng)
        loss = self.hparams.d_loss_weight * self.loss.discriminator(real_logits, fake_logits, 1.0)
        if isinstance(self.augment, AdaptiveAugment):
            self.augment.accumulate(real_logits.detach().flatten())
        return loss, {
            log_names.D_REAL: self.loss.score(real_logits.detach()).mean(),
            log_names.D_TRANSLATED_BEFORE_D_STEP: self.loss.score(fake_logits.detach()).mean(),
        }

    def generator_loss(self, batch: tuple[Tensor, ...], rng: Generator) -> tuple[Tensor, dict]:
        source, target = batch[0], batch[1]
        translated, self._translated = self._translated, None
        fake_logits = self.discriminate(source, translated, rng)
        adversarial = self.loss.generator(fake_logits)
        l1 = (translated - target).abs().mean()
        loss = self.hparams.adversarial_weight * adversarial + self.hparams.l1_weight * l1
        return loss, {
            log_names.G_ADVERSARIAL: adversarial.detach(),
            log_names.L1: l1.detach(),
            log_names.D_TRANSLATED_AFTER_D_STEP: self.loss.score(fake_logits.detach()).mean(),
        }


def _check_shapes(source_shape: Sequence[int], data_shape: Sequence[int]) -> None:
    if len(source_shape) != 3 or len(data_shape) != 3 or tuple(source_shape[1:]) != tuple(data_shape[1:]):
        raise ConfigError(
            f"pix2pix translates images to images of the same size; the data gives sources of shape "
            f"{tuple(source_shape)} and targets of shape {tuple(data_shape)}. Use data=paired."
        )
