"""GAN LightningModules. Each family is one module here plus one config in ``conf/model/``."""

from gan_lightning.models.gan import GAN
from gan_lightning.models.translation import UnpairedTranslation

__all__ = ["GAN", "UnpairedTranslation"]
