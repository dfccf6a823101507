"""Generator / discriminator pairs, selected by architecture name (``model.arch``).

Each network is built from its config node ``model.networks.<arch>.generator`` (``.discriminator``):
its ``_target_``, the class, called with the node's other keys and the shapes the data dictates. A node
without one (checkpoints written before the configs named their classes) gets the architecture's
classes of the registries below. A network of your own, with the same interface, plugs in with
``model.networks.conv.generator._target_=mypackage.MyGenerator``.

Noise-to-sample families (:data:`ARCHITECTURES`, :func:`build_networks`): every generator maps
``(z (N, z_dim), labels (N,) or None)`` to samples shaped like the data, and every discriminator maps
``(samples, labels or None)`` to logits (N,). Passing ``num_classes`` builds the label-conditioned
variant of the same architecture.

Image-to-image families (:data:`TRANSLATORS`, :func:`build_translation_networks`): generators map
images (N, C, S, S) to images of the same shape; discriminators map images to logits, (N,) or a patch
map (N, 1, H', W'), and give their intermediate activations with ``return_features=True``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hydra.utils import get_object
from torch import nn

from gan_lightning.errors import ConfigError
from gan_lightning.networks.dcgan import DCGANDiscriminator, DCGANGenerator
from gan_lightning.networks.mlp import MLPDiscriminator, MLPGenerator
from gan_lightning.networks.stylegan import StyleGANDiscriminator, StyleGANGenerator
from gan_lightning.networks.stylegan2 import StyleGAN2Discriminator, StyleGAN2Generator
from gan_lightning.networks.transgan import TransGANDiscriminator, TransGANGenerator
from gan_lightning.networks.translation import (
    DiscoDiscriminator,
    EncoderDecoderGenerator,
    PatchDiscriminator,
    ResnetGenerator,
)
from gan_lightning.networks.unet import UNetGenerator

ARCHITECTURES: dict[str, tuple[type[nn.Module], type[nn.Module]]] = {
    "mlp": (MLPGenerator, MLPDiscriminator),
    "conv": (DCGANGenerator, DCGANDiscriminator),
    "transformer": (TransGANGenerator, TransGANDiscriminator),  # TransGAN (Jiang et al. 2021)
    "stylegan": (StyleGANGenerator, StyleGANDiscriminator),  # Karras et al. 2019, progressive growing
    "stylegan2": (StyleGAN2Generator, StyleGAN2Discriminator),  # Karras et al. 2020
}


def network_class(
    default: type[nn.Module], options: dict[str, Any] | None
) -> tuple[type[nn.Module], dict[str, Any]]:
    """(class, constructor options) of a network's config node: its ``_target_``, else ``default``."""
    options = dict(options or {})
    target = options.pop("_target_", None)
    if target is None:
        return default, options
    try:
        cls = get_object(target)
    except Exception as err:  # hydra raises ImportError or ValueError, with the cause
        raise ConfigError(f"Cannot import the network _target_ '{target}': {err}") from err
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        raise ConfigError(f"The network _target_ '{target}' is not a torch.nn.Module class.")
    return cls, options


def build_network(node: dict[str, Any] | None, where: str, **interface: Any) -> nn.Module:
    """The network of a config node ``{_target_: a.Class, **options}``, called with ``options`` and the
    ``interface`` the family passes (the shapes its data dictates); ``where`` names the node in errors."""
    if not node or "_target_" not in node:
        raise ConfigError(f"{where} needs a _target_ (the network's class) and its options; got {node!r}.")
    cls, options = network_class(nn.Module, node)
    try:
        return cls(**options, **interface)
    except TypeError as err:
        raise ConfigError(f"Bad option in {where} for {cls.__name__}: {err}") from err


def build_networks(
    arch: str,
    z_dim: int,
    data_shape: Sequence[int],
    num_classes: int | None = None,
    tanh_output: bool = True,
    generator_kwargs: dict[str, Any] | None = None,
    discriminator_kwargs: dict[str, Any] | None = None,
) -> tuple[nn.Module, nn.Module]:
    """Build ``(generator, discriminator)`` of architecture ``arch`` for data of ``data_shape``."""
    if arch not in ARCHITECTURES:
        raise ConfigError(
            f"Unknown architecture '{arch}'. Choose one of: {', '.join(ARCHITECTURES)} (model.arch=...)."
        )
    generator_cls, generator_kwargs = network_class(ARCHITECTURES[arch][0], generator_kwargs)
    discriminator_cls, discriminator_kwargs = network_class(ARCHITECTURES[arch][1], discriminator_kwargs)
    try:
        generator = generator_cls(
            z_dim=z_dim,
            out_shape=data_shape,
            num_classes=num_classes,
            tanh_output=tanh_output,
            **generator_kwargs,
        )
        discriminator = discriminator_cls(
            in_shape=data_shape, num_classes=num_classes, **discriminator_kwargs
        )
    except TypeError as err:
        raise ConfigError(f"Bad network option for model.arch={arch}: {err}") from err
    return generator, discriminator


TRANSLATORS: dict[str, tuple[type[nn.Module], type[nn.Module]]] = {
    "resnet": (ResnetGenerator, PatchDiscriminator),  # CycleGAN (Zhu et al. 2017)
    "encoder_decoder": (EncoderDecoderGenerator, DiscoDiscriminator),  # DiscoGAN (Kim et al. 2017)
}


def build_translation_networks(
    arch: str,
    data_shape: Sequence[int],
    generator_kwargs: dict[str, Any] | None = None,
    discriminator_kwargs: dict[str, Any] | None = None,
) -> tuple[tuple[nn.Module, nn.Module], tuple[nn.Module, nn.Module]]:
    """``((G: A -> B, F: B -> A), (D_A, D_B))`` of image-to-image architecture ``arch`` for images of
    ``data_shape`` (C, S, S) in both domains."""
    if arch not in TRANSLATORS:
        raise ConfigError(
            f"Unknown translation architecture '{arch}'. Choose one of: {', '.join(TRANSLATORS)} "
            "(model.arch=...)."
        )
    generator_cls, generator_kwargs = network_class(TRANSLATORS[arch][0], generator_kwargs)
    discriminator_cls, discriminator_kwargs = network_class(TRANSLATORS[arch][1], discriminator_kwargs)
    channels, side = int(data_shape[0]), int(data_shape[-1])
    try:
        generators = tuple(
            generator_cls(in_channels=channels, out_channels=channels, image_size=side, **generator_kwargs)
            for _ in range(2)
        )
        discriminators = tuple(
            discriminator_cls(in_channels=channels, image_size=side, **discriminator_kwargs) for _ in range(2)
        )
    except TypeError as err:
        raise ConfigError(f"Bad network option for model.arch={arch}: {err}") from err
    return generators, discriminators


__all__ = [
    "ARCHITECTURES",
    "build_network",
    "build_networks",
    "network_class",
    "build_translation_networks",
    "TRANSLATORS",
    "DCGANGenerator",
    "DCGANDiscriminator",
    "MLPGenerator",
    "MLPDiscriminator",
    "StyleGANGenerator",
    "StyleGANDiscriminator",
    "StyleGAN2Generator",
    "StyleGAN2Discriminator",
    "TransGANGenerator",
    "TransGANDiscriminator",
    "ResnetGenerator",
    "PatchDiscriminator",
    "EncoderDecoderGenerator",
    "DiscoDiscriminator",
    "UNetGenerator",
]
