"""gan-lightning: a PyTorch Lightning + Hydra experiment framework for Generative Adversarial Networks."""

__version__ = "0.1.0"
