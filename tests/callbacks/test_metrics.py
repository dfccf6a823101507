"""The metrics callback during training: logged values with their protocol, best checkpoint, toy data."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from gan_lightning.errors import ConfigError
from gan_lightning.metrics.classifier_net import DatasetClassifier, classifier_path, save_classifier
from gan_lightning.train import train
from tests.helpers import QUICK, read_events

METRICS = (
    "metrics.every_n_steps=2",
    "metrics.n_samples=48",
    "metrics.kid_subset_size=16",
    "metrics.batch_size=16",
)


@pytest.fixture
def classifier(mnist_root: Path) -> Path:
    """An (untrained) classifier saved where runs on ``mnist_root`` look for it."""
    torch.manual_seed(0)
    path = classifier_path(mnist_root, "mnist")
    return save_classifier(DatasetClassifier((1, 28, 28), 10), path, "mnist", test_accuracy=0.1)


def test_metrics_are_logged_with_their_protocol_and_best_checkpoint_kept(compose_cfg, mnist_root, classifier):
    cfg = compose_cfg(*QUICK, *METRICS, "model=cgan", "trainer.max_steps=4", f"data.root={mnist_root}")
    out = Path(cfg.paths.output_dir)
    train(cfg, out)
    events = read_events(out / "tensorboard")
    for tag in ("val/fid", "val/kid", "val/class_acc"):
        assert [e.step for e in events.Scalars(tag)] == [2, 4], tag
    assert all(e.value > 0 for e in events.Scalars("val/fid"))
    assert "val/protocol/text_summary" in events.Tags()["tensors"]
    assert "val/predicted_class" in events.Tags()["histograms"]
    checkpoint = torch.load(out / "checkpoints" / "last.ckpt", weights_only=False)
    history = checkpoint["callbacks"]["GANMetrics"]["history"]
    assert [h["step"] for h in history] == [2, 4]
    assert sum(history[-1]["class_histogram"]) == 48
    best = torch.load(out / "checkpoints" / "best.ckpt", weights_only=False)
    best_step = min(history, key=lambda h: h["fid"])["step"]
    assert best["state_dict"]["generator_step"].item() == best_step
    # The real features were computed once and cached under the data root.
    assert len(list((mnist_root / "fid_stats").glob("*.pt"))) == 1


def test_unconditional_models_skip_class_consistency(compose_cfg, mnist_root, classifier):
    cfg = compose_cfg(*QUICK, *METRICS, "model=dcgan", f"data.root={mnist_root}")
    train(cfg, Path(cfg.paths.output_dir))
    scalars = set(read_events(Path(cfg.paths.output_dir) / "tensorboard").Tags()["scalars"])
    assert {"val/fid", "val/kid"} <= scalars and "val/class_acc" not in scalars


def test_auto_extractor_without_classifier_trains_and_warns(compose_cfg, mnist_root, caplog):
    cfg = compose_cfg(*QUICK, *METRICS, f"data.root={mnist_root}")
    train(cfg, Path(cfg.paths.output_dir))
    assert "python -m gan_lightning.classifier data=mnist" in caplog.text
    assert "val/fid" not in read_events(Path(cfg.paths.output_dir) / "tensorboard").Tags()["scalars"]


def test_required_classifier_missing_fails_before_training(compose_cfg, mnist_root):
    cfg = compose_cfg(*QUICK, *METRICS, "metrics.extractor=classifier", f"data.root={mnist_root}")
    with pytest.raises(ConfigError, match="No classifier for mnist"):
        train(cfg, Path(cfg.paths.output_dir))
    assert not (Path(cfg.paths.output_dir) / "checkpoints").exists()


def test_toy_runs_log_mode_coverage(compose_cfg):
    cfg = compose_cfg(*QUICK, *METRICS, "model=gan", "data=gaussian_mixture", "data.n_samples=512")
    train(cfg, Path(cfg.paths.output_dir))
    events = read_events(Path(cfg.paths.output_dir) / "tensorboard")
    covered = [e.value for e in events.Scalars("val/modes_covered")]
    assert len(covered) == 2 and all(0 <= c <= 8 for c in covered)
    assert all(0.0 <= e.value <= 1.0 for e in events.Scalars("val/high_quality"))
