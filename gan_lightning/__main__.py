"""``python -m gan_lightning`` is the training command."""

from gan_lightning.train import main

main()
