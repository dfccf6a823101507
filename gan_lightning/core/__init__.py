"""The adversarial core that every GAN family builds on: the base module, phases and the EMA."""

from gan_lightning.core.ema import NetworkEMA
from gan_lightning.core.module import GROUPS, AdversarialModule
from gan_lightning.core.phases import Phase, optimizer_steps_for

__all__ = ["GROUPS", "AdversarialModule", "NetworkEMA", "Phase", "optimizer_steps_for"]
