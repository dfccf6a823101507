"""Training callbacks that Lightning does not ship."""

from gan_lightning.callbacks.checkpoint import GANCheckpoint
from gan_lightning.callbacks.console_log import ConsoleLog
from gan_lightning.callbacks.metrics import GANMetrics
from gan_lightning.callbacks.sample_grid import SampleGrid
from gan_lightning.callbacks.translation_metrics import TranslationMetrics

__all__ = ["ConsoleLog", "GANCheckpoint", "GANMetrics", "SampleGrid", "TranslationMetrics"]
