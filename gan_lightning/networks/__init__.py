"""Generator / discriminator pairs, selected by architecture name (``model.arch``).

Every generator maps ``(z (N, z_dim), labels (N,) or None)`` to samples shaped like the data, and
every discriminator maps ``(samples, labels or None)`` to logits (N,). Passing ``num_classes``
builds the label-conditioned variant of the same architecture.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import nn

from gan_lightning.errors import ConfigError
from gan_lightning.networks.dcgan import DCGANDiscriminator, DCGANGenerator
from gan_lightning.networks.mlp import MLPDiscriminator, MLPGenerator

ARCHITECTURES: dict[str, tuple[type[nn.Module], type[nn.Module]]] = {
    "mlp": (MLPGenerator, MLPDiscriminator),
    "conv": (DCGANGenerator, DCGANDiscriminator),
}


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
    generator_cls, discriminator_cls = ARCHITECTURES[arch]
    try:
        generator = generator_cls(
            z_dim=z_dim,
            out_shape=data_shape,
            num_classes=num_classes,
            tanh_output=tanh_output,
            **(generator_kwargs or {}),
        )
        discriminator = discriminator_cls(
            in_shape=data_shape, num_classes=num_classes, **(discriminator_kwargs or {})
        )
    except TypeError as err:
        raise ConfigError(f"Bad network option for model.arch={arch}: {err}") from err
    return generator, discriminator


__all__ = [
    "ARCHITECTURES",
    "build_networks",
    "DCGANGenerator",
    "DCGANDiscriminator",
    "MLPGenerator",
    "MLPDiscriminator",
]
