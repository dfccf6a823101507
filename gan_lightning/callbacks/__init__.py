"""Training callbacks that Lightning does not ship."""

from gan_lightning.callbacks.checkpoint import GANCheckpoint
from gan_lightning.callbacks.metrics import GANMetrics
from gan_lightning.callbacks.sample_grid import SampleGrid

__all__ = ["GANCheckpoint", "GANMetrics", "SampleGrid"]
