"""The GAN families: one LightningModule per shape of training step, one config per paper in ``conf/model/``.

=====================  ==========================================================  ====================
family                 training step                                               configs
=====================  ==========================================================  ====================
``GAN``                D (n_critic times, + WGAN-GP / R1), lazy R1, G              gan, dcgan, cgan,
                                                                                   lsgan, transgan(_paper)
``StyleGAN2``          the GAN's step on a latent W: style mixing, + path length    stylegan2(_paper, _cifar)
``StyleGAN``           the GAN's step on a latent W: style mixing, + growing        stylegan
``UnpairedTranslation``  G and F (adversarial + cycle + identity), then D_A and D_B  cyclegan, discogan
``PairedTranslation``  G once, D on (source, target) / (source, G(source)), then    pix2pix
                       G (adversarial + L1)
=====================  ==========================================================  ====================

A new family is one module here (a subclass of :class:`~gan_lightning.core.AdversarialModule` that
declares its phases, its sampling interface and what it takes from the data, ``data_options``), one
entry in :data:`FAMILIES`, and one config.
"""

from __future__ import annotations

from typing import Any

from gan_lightning.core import AdversarialModule
from gan_lightning.errors import ConfigError
from gan_lightning.models.gan import GAN
from gan_lightning.models.paired import PairedTranslation
from gan_lightning.models.style_based import StyleBasedGAN
from gan_lightning.models.stylegan import StyleGAN
from gan_lightning.models.stylegan2 import StyleGAN2
from gan_lightning.models.translation import UnpairedTranslation

#: every family, by the class path that checkpoints record (``model_class``)
FAMILIES: dict[str, type[AdversarialModule]] = {
    f"{cls.__module__}.{cls.__qualname__}": cls
    for cls in (GAN, StyleGAN2, StyleGAN, UnpairedTranslation, PairedTranslation)
}
#: the options the one noise-to-sample class of earlier versions took for the style-based families
_STYLE_OPTIONS = {"style_mixing": 0.0, "pl_weight": 0.0, "pl_every": 4, "pl_decay": 0.01, "progressive": None}


def family_for_checkpoint(model_class: str | None, hparams: dict[str, Any]) -> tuple[type, dict[str, Any]]:
    """The family class and constructor options of a checkpoint's ``model_class`` and hyperparameters.

    Checkpoints of versions before the style-based families had their own classes (v0.1 records no
    class) name ``gan_lightning.models.GAN`` with every option: they load as the family their ``arch``
    and options say, without the options that family does not take (at their old defaults)."""
    name = model_class or "gan_lightning.models.gan.GAN"
    name = {"gan_lightning.models.GAN": "gan_lightning.models.gan.GAN"}.get(name, name)
    if name not in FAMILIES:
        raise ConfigError(f"This checkpoint was written by '{name}', which is not a family of this version.")
    family, options = FAMILIES[name], dict(hparams)
    if family is not GAN or not _STYLE_OPTIONS.keys() & options.keys():
        return family, options
    arch = options.get("arch", "mlp")
    if arch == "stylegan" and not options.get("pl_weight"):
        family, kept = StyleGAN, {"style_mixing", "progressive"}
    elif arch in StyleBasedGAN.architectures:
        family, kept = StyleGAN2, {"style_mixing", "pl_weight", "pl_every", "pl_decay"}
    else:
        kept = set()
    for key, default in _STYLE_OPTIONS.items():
        if key in kept or key not in options:
            continue
        value = options.pop(key)
        if value != default:
            raise ConfigError(
                f"This checkpoint's model (arch={arch}) sets {key}={value}, which {family.__name__} does not "
                "take in this version."
            )
    return family, options


__all__ = [
    "FAMILIES",
    "GAN",
    "PairedTranslation",
    "StyleBasedGAN",
    "StyleGAN",
    "StyleGAN2",
    "UnpairedTranslation",
    "family_for_checkpoint",
]
