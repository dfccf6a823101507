"""Hydra configuration groups of gan-lightning (shipped with the package)."""
