"""The metrics callback during training: logged values with their protocol, best checkpoint, toy data."""

from __future__ import annotations

import math
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


def test_new_metrics_are_logged_with_their_best_values(compose_cfg, mnist_root, classifier):
    names = "precision,recall,density,coverage,is"
    cfg = compose_cfg(
        *QUICK, *METRICS, "model=cgan", "trainer.max_steps=4", f"data.root={mnist_root}",
        f"metrics.metrics=[fid,{names}]", "metrics.is_splits=4",
    )  # fmt: skip
    out = Path(cfg.paths.output_dir)
    metrics = train(cfg, out)
    events = read_events(out / "tensorboard")
    logged = ("val/precision", "val/recall", "val/density", "val/coverage", "val/is_classifier")
    for tag in logged:
        assert [e.step for e in events.Scalars(tag)] == [2, 4], tag
    for tag in ("val/precision", "val/recall", "val/coverage"):
        assert all(0.0 <= e.value <= 1.0 for e in events.Scalars(tag)), tag
    assert all(1.0 <= e.value <= 10.0 for e in events.Scalars("val/is_classifier"))
    assert "val/is" not in events.Tags()["scalars"]  # the classifier's score has its own name
    assert metrics["hp/precision_best"] == max(e.value for e in events.Scalars("val/precision"))
    assert metrics["hp/is_classifier_final"] == pytest.approx(events.Scalars("val/is_classifier")[-1].value)
    protocol = events.Tensors("val/protocol/text_summary")[0].tensor_proto.string_val[0].decode()
    assert protocol.endswith("; pr_k=3, dc_k=5, is_splits=4")


def test_ppl_on_a_model_without_w_fails_before_any_work(compose_cfg, mnist_root):
    cfg = compose_cfg(
        *QUICK, *METRICS, "model=dcgan", f"data.root={mnist_root}", "metrics.metrics=[fid,ppl]",
        "metrics.train_classifier=true",
    )  # fmt: skip
    with pytest.raises(ConfigError, match=r"ppl \(perceptual path length\) walks the latent W.*GAN has none"):
        train(cfg, Path(cfg.paths.output_dir))
    assert not classifier_path(mnist_root, "mnist").exists()  # not trained first
    assert not (Path(cfg.paths.output_dir) / "checkpoints").exists()


@pytest.mark.slow
def test_stylegan2_logs_its_perceptual_path_length(compose_cfg, mnist_root, classifier):
    from tests.models.test_stylegan import tiny

    cfg = compose_cfg(
        *QUICK, *METRICS, "model=stylegan2", *tiny("stylegan2"), "data.batch_size=8",
        f"data.root={mnist_root}", "metrics.metrics=[ppl]", "metrics.ppl_samples=16",
        "metrics.ppl_sampling=full",
    )  # fmt: skip
    out = Path(cfg.paths.output_dir)
    metrics = train(cfg, out)
    ppl = read_events(out / "tensorboard").Scalars("val/ppl")
    assert [e.step for e in ppl] == [2, 3]
    assert all(math.isfinite(e.value) and e.value > 0 for e in ppl)
    assert metrics["hp/ppl_best"] == min(e.value for e in ppl)  # the lower the better


def test_every_scalar_has_one_better_direction_that_report_and_callbacks_share():
    from gan_lightning import log_names
    from gan_lightning.callbacks.metrics import SCALARS
    from gan_lightning.metrics import paired, translation
    from gan_lightning.metrics.evaluator import METRICS as IMAGE_METRICS
    from gan_lightning.report.runs import METRICS as REPORTED

    assert REPORTED is log_names.METRICS  # one table
    logged = {"is", "is_classifier"} | set(IMAGE_METRICS) - {"is"}
    assert logged <= set(SCALARS)
    assert set(SCALARS) | set(translation.SCALARS) | set(paired.SCALARS) == set(REPORTED)
    lower = {n for n, is_lower in REPORTED.items() if is_lower}
    assert lower == {"fid", "kid", "ppl", "fid_inception", "kid_inception", "l1", "cycle_l1", "identity_l1"}
    assert log_names.lower_is_better("kid_inception_b2a") and not log_names.lower_is_better("content_acc_a2b")
    assert log_names.metric_of("kid_std") is None and log_names.metric_of("fid_a2b") == "fid"


def test_the_hparams_summary_lists_the_evaluated_metrics_fid_first():
    from torch import nn

    from gan_lightning.callbacks.hparams import metric_names
    from gan_lightning.callbacks.metrics import GANMetrics
    from gan_lightning.metrics.evaluator import SampleEvaluator

    class Logits(nn.Module):
        is_name = "is_classifier"

        def forward(self, images):
            return images

        def features_and_logits(self, images):
            return images, images

    callback = GANMetrics(metrics=["ppl", "precision", "kid", "fid", "is"])
    callback.evaluator = SampleEvaluator(Logits(), torch.randn(20, 4), 20, metrics=callback.options.metrics)
    names = metric_names(callback)
    assert names[:4] == ["hp/fid_best", "hp/fid_final", "hp/kid_best", "hp/kid_final"]
    assert names[4:10] == [
        f"hp/{n}_{k}" for n in ("precision", "is_classifier", "ppl") for k in ("best", "final")
    ]
    assert names[10:] == ["hp/d_loss_final", "hp/g_loss_final"]
