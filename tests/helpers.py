"""Helpers for tests that train: small networks and quick trainer settings as Hydra overrides."""

from __future__ import annotations

from pathlib import Path

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

# Tiny networks and a short run: every training test adds these to its overrides.
QUICK = (
    "model.networks.mlp.generator.hidden_dims=[32,32]",
    "model.networks.mlp.discriminator.hidden_dims=[32,32]",
    "model.networks.conv.generator.base_channels=8",
    "model.networks.conv.discriminator.base_channels=8",
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


def read_events(log_dir: Path) -> EventAccumulator:
    """Load every TensorBoard event file under ``log_dir``."""
    files = sorted(Path(log_dir).rglob("events.out.tfevents.*"))
    assert files, f"no TensorBoard event file under {log_dir}"
    events = EventAccumulator(str(files[0].parent), size_guidance={"images": 0, "scalars": 0})
    events.Reload()
    return events
