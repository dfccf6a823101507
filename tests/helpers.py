"""Helpers for tests that train: small networks and quick trainer settings as Hydra overrides."""

from __future__ import annotations

from pathlib import Path

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

# A short run on the CPU, quiet: every training test adds these to its overrides (through QUICK or
# QUICK_TRANSLATION, which add tiny networks of each family).
QUICK_RUN = (
    "data.batch_size=16",
    "trainer.max_steps=3",
    "trainer.accelerator=cpu",
    "trainer.enable_progress_bar=false",
    "~callbacks.progress_bar",
    "trainer.enable_model_summary=false",
    "callbacks.sample_grid.every_n_steps=2",
    "callbacks.sample_grid.n_points=200",
    "++metrics.train_classifier=false",  # no classifier trained behind a test's back (++: metrics=none too)
)
# Noise-to-image models (model=gan|dcgan|lsgan|cgan|transgan): tiny networks and a short run.
QUICK = (
    "model.networks.mlp.generator.hidden_dims=[32,32]",
    "model.networks.mlp.discriminator.hidden_dims=[32,32]",
    "model.networks.conv.generator.base_channels=8",
    "model.networks.conv.discriminator.base_channels=8",
    *QUICK_RUN,
)
# Translation models (model=cyclegan|discogan) on 32 px domains (tests.conftest.make_two_domains).
QUICK_TRANSLATION = (
    "model.networks.resnet.generator.base_channels=4",
    "model.networks.resnet.generator.n_blocks=1",
    "model.networks.resnet.discriminator.base_channels=4",
    "model.networks.encoder_decoder.generator.base_channels=4",
    "model.networks.encoder_decoder.discriminator.base_channels=4",
    "data=unpaired",
    "data.image_size=32",
    *QUICK_RUN,
    "data.batch_size=2",
)
# TransGAN (model=transgan): narrow transformers (width 64 -> 16 -> 4 channels needs heads 1 at 3 stages).
TINY_TRANSGAN = (
    "model.networks.transformer.generator.width=64",
    "model.networks.transformer.generator.heads=1",
    "model.networks.transformer.discriminator.width=32",
    "model.networks.transformer.discriminator.depth=1",
    "model.networks.transformer.discriminator.heads=2",
)


def read_events(log_dir: Path) -> EventAccumulator:
    """Load every TensorBoard event file under ``log_dir``."""
    files = sorted(Path(log_dir).rglob("events.out.tfevents.*"))
    assert files, f"no TensorBoard event file under {log_dir}"
    events = EventAccumulator(str(files[0].parent), size_guidance={"images": 0, "scalars": 0})
    events.Reload()
    return events
