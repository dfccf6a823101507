"""Differentiable augmentation of the images D sees (real and generated, in D's and G's steps).

- ``diffaugment``: :class:`DiffAugment` (Zhao et al. 2020), fixed random transforms.
- ``ada``: :class:`AdaptiveAugment` (Karras et al. 2020), transforms with a probability p tuned from
  D's outputs on real images.

:func:`build_augment` makes one from the ``augment=`` config group.
"""

from __future__ import annotations

import inspect
from typing import Any

from torch import nn

from gan_lightning.augment.ada import AdaptiveAugment
from gan_lightning.augment.diffaugment import DiffAugment
from gan_lightning.errors import ConfigError

__all__ = ["AUGMENTS", "AdaptiveAugment", "DiffAugment", "build_augment"]

AUGMENTS = ("none", "diffaugment", "ada")
_CLASSES: dict[str, type[nn.Module]] = {"diffaugment": DiffAugment, "ada": AdaptiveAugment}


def build_augment(kind: str = "none", **options: Any) -> nn.Module | None:
    """The augmentation ``kind`` (one of :data:`AUGMENTS`) with its options; None for ``none``.

    Raises ConfigError for an unknown kind, an option the kind does not take, or a bad value.
    """
    if kind not in AUGMENTS:
        raise ConfigError(f"Unknown augmentation augment={kind}. Choose one of: {', '.join(AUGMENTS)}.")
    valid = [] if kind == "none" else list(inspect.signature(_CLASSES[kind]).parameters)
    unknown = sorted(set(options) - set(valid))
    if unknown:
        takes = (
            f"takes only {', '.join(f'augment.{name}' for name in valid)}" if valid else "takes no options"
        )
        raise ConfigError(
            f"augment={kind} does not take {', '.join(f'augment.{name}' for name in unknown)}; it {takes}."
        )
    return None if kind == "none" else _CLASSES[kind](**options)
