"""What the style-based families (StyleGAN, StyleGAN2) add to the GAN's training step: a latent W.

The generator maps z through a mapping network to w, and w drives every layer of the synthesis network
(:class:`~gan_lightning.networks.style_layers.StyleGenerator`). Training mixes styles (Karras et al.
2019): with probability ``style_mixing`` a batch takes its styles from two latents, switched at a random
layer. Sampling truncates in W around the tracked average w, and per-layer noise is fixed (``const``).
The step's phases are the GAN's (:mod:`gan_lightning.models.gan`); :mod:`~gan_lightning.models.stylegan2`
adds the path-length penalty, :mod:`~gan_lightning.models.stylegan` progressive growing.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import Generator, Tensor

from gan_lightning.errors import ConfigError
from gan_lightning.models.gan import GAN


class StyleBasedGAN(GAN):
    """A :class:`~gan_lightning.models.GAN` whose generator has a latent W (``mapping`` / ``synthesis``).

    Args:
        style_mixing: probability that a training batch mixes the styles of two latents (Karras et al.
            2019: 0.9); 0 = off.
        **options: those of :class:`~gan_lightning.models.GAN`.
    """

    architectures: ClassVar[tuple[str, ...]] = ("stylegan2", "stylegan")

    def __init__(self, *args: Any, style_mixing: float = 0.0, **options: Any) -> None:
        if not 0.0 <= style_mixing <= 1.0:
            raise ConfigError(f"model.style_mixing is a probability in [0, 1], got {style_mixing}.")
        super().__init__(*args, **options)

    def check_arch(self, arch: str) -> None:
        if arch not in self.architectures:
            raise ConfigError(
                f"model.arch={arch}: {type(self).__name__} needs style-based networks "
                f"({', '.join(self.architectures)}); for the others use model=gan, dcgan or transgan."
            )

    @property
    def has_latent_w(self) -> bool:
        return True

    # --- sampling interface -------------------------------------------------------------------------

    def truncation_inputs(self, truncation: float | None) -> tuple[float | None, dict[str, Tensor]]:
        """The truncation trick in W (Karras et al. 2019): psi in [0, 1] (``w_avg + psi (w - w_avg)``;
        1 = off, 0 = the average image), passed to :meth:`generate` as ``inputs["truncation"]``."""
        if truncation is None:
            return None, {}
        if not 0.0 <= truncation <= 1.0:
            raise ConfigError(
                f"truncation={truncation}: this model truncates in W, with psi in [0, 1] (1 = off, 0 = the "
                "average image)."
            )
        return None, {"truncation": torch.tensor(float(truncation))}

    def generate(self, inputs: dict[str, Tensor], ema: bool | None = None) -> Tensor:
        """Images of :meth:`sample_inputs`' inputs, or of ``{"w": (n, w_dim) or (n, num_ws, w_dim)}``.
        Per-layer noise is the fixed ``const`` noise here (as NVlabs' generation scripts do), so that
        sampling is repeatable and draws no random numbers."""
        generator = self.sampling_network("generator", ema)
        if "w" in inputs:
            return generator.synthesis(inputs["w"], noise_mode="const")
        psi = float(inputs["truncation"]) if "truncation" in inputs else None
        labels = inputs.get("labels") if self.conditional else None
        return generator(inputs["z"], labels, truncation=psi, noise_mode="const")

    def latents_w(self, inputs: dict[str, Tensor], ema: bool | None = None) -> Tensor:
        """w (n, w_dim) of :meth:`sample_inputs`' inputs (truncated when they say so)."""
        generator = self.sampling_network("generator", ema)
        w = generator.mapping(inputs["z"], inputs.get("labels") if self.conditional else None)
        return generator.truncate(w, float(inputs["truncation"])) if "truncation" in inputs else w

    # --- the training step ------------------------------------------------------------------------

    def fake_images(self, n: int, labels: Tensor | None, rng: Generator) -> Tensor:
        """G's images for a training phase: z and the per-layer noise drawn with ``rng``; with
        probability ``style_mixing`` the layers from a random cutoff in [1, num_ws) take the styles of a
        second latent. The coin and the cutoff are drawn on the host (:meth:`host_rng`)."""
        z = self.sample_z(n, rng)
        options: dict[str, Any] = {"noise_rng": rng}
        if self.hparams.style_mixing > 0:
            choices = self.host_rng(rng)
            mix = torch.rand((), generator=choices).tolist() < self.hparams.style_mixing
            cutoff = torch.randint(1, self.generator.num_ws, (), generator=choices).tolist()
            if mix:
                options.update(mixing_z=self.sample_z(n, rng), mixing_cutoff=cutoff)
        return self.generator(z, labels if self.conditional else None, **options)
