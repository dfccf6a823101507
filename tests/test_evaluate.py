"""``python -m gan_lightning.evaluate``: one JSON line of metrics with their protocol, for image and toy
checkpoints; the dataset classifier is required; real features are cached and reused.

The command runs in a subprocess once (the real entry point, its stdout parsed); the other cases run
its Hydra ``main`` in-process, the same path from the command line on.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from gan_lightning.checkpoints import load_datamodule, load_model
from gan_lightning.evaluate import main
from gan_lightning.files import CACHE_ENV, file_digest
from gan_lightning.metrics.classifier_net import load_classifier
from gan_lightning.metrics.extractors import ClassifierFeatures
from gan_lightning.metrics.inception_score import inception_score
from gan_lightning.metrics.manifold import density_coverage, precision_recall
from gan_lightning.metrics.toy import mode_coverage
from gan_lightning.sampling import cycle_labels, generate_batches
from tests.eval_helpers import (
    classifier_cache,
    cli,
    run_main,
    single_thread,
    tiny_checkpoint,
    tiny_classifier,
    tiny_data_root,
)


@pytest.fixture(autouse=True)
def _one_thread():
    with single_thread():
        yield


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    return tiny_data_root(tmp_path_factory)


@pytest.fixture(scope="module")
def classifier(tmp_path_factory) -> Path:
    return tiny_classifier(tmp_path_factory)


@pytest.fixture
def cache(tmp_path, monkeypatch, classifier) -> Path:
    """A fresh GAN_CACHE_DIR holding the trained classifier and no cached statistics."""
    return classifier_cache(tmp_path, monkeypatch, classifier)


def evaluate(capsys, ckpt: Path, *args: str) -> tuple[int, str, str]:
    return run_main(main, capsys, f"ckpt={ckpt}", "device=cpu", *args)


def image_args(root: Path) -> tuple[str, ...]:
    return ("n=40", "kid_subset_size=20", f"data_root={root}")


def expected_class_metrics(ckpt: Path, classifier: Path, n: int) -> tuple[float, list[int]]:
    """Class consistency and histogram recomputed directly: the same samples (seed 0, labels cycling
    0..9), the classifier's argmax."""
    model = load_model(ckpt)
    net, _ = load_classifier(classifier)
    labels = cycle_labels(model.classes, n) if model.conditional else None
    images = torch.cat([x for x, _ in generate_batches(model, n, 500, labels, seed=0)])
    predictions = net(images).argmax(1)
    accuracy = (predictions == labels).double().mean().item() if labels is not None else float("nan")
    return accuracy, torch.bincount(predictions, minlength=10).tolist()


def test_conditional_checkpoint_from_the_command_line(tmp_path_factory, root, cache, classifier):
    ckpt = tiny_checkpoint("cgan", tmp_path_factory)
    result = cli("gan_lightning.evaluate", f"ckpt={ckpt}", *image_args(root), "device=cpu")
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    values = json.loads(lines[0])
    assert set(values) == {
        "ckpt",
        "generator_step",
        "fid",
        "kid",
        "kid_std",
        "class_acc",
        "class_histogram",
        "protocol",
    }
    assert (values["ckpt"], values["generator_step"]) == (str(ckpt), 3)
    assert values["fid"] > 0 and isinstance(values["kid"], float)
    histogram = values["class_histogram"]
    assert len(histogram) == 10 and all(isinstance(c, int) for c in histogram) and sum(histogram) == 40
    accuracy, expected_histogram = expected_class_metrics(ckpt, classifier, 40)
    assert histogram == expected_histogram
    assert values["class_acc"] == pytest.approx(accuracy, abs=1e-7)
    assert values["protocol"] == {
        "extractor": f"classifier-{file_digest(classifier)}",
        "n_fake": 40,
        "n_real": 32,  # all of the test split
        "reference": "mnist/test",
        "metrics": ["fid", "kid", "class_acc"],
        "source": "torchvision",  # which copy of the data
        "generator": "trained",  # the checkpoint has no EMA generator
    }
    assert [p.name for p in (cache / "fid_stats").iterdir()] == [
        f"mnist_test_all_classifier-{file_digest(classifier)}_n32.pt"
    ]


def test_unconditional_checkpoint_has_no_class_consistency(tmp_path_factory, root, cache, classifier, capsys):
    ckpt = tiny_checkpoint("dcgan", tmp_path_factory)
    code, out, err = evaluate(capsys, ckpt, *image_args(root))
    assert code == 0, err
    values = json.loads(out)
    assert "class_acc" not in values
    assert values["class_histogram"] == expected_class_metrics(ckpt, classifier, 40)[1]
    assert values["protocol"]["metrics"] == ["fid", "kid"]
    assert values["protocol"]["extractor"].startswith("classifier-")
    assert values["fid"] > 0


def test_chosen_metrics_only(tmp_path_factory, root, cache, capsys):
    """The documented `metrics=[...]` of the command (README, evaluate.yaml)."""
    code, out, err = evaluate(
        capsys, tiny_checkpoint("cgan", tmp_path_factory), *image_args(root), "metrics=[fid]"
    )
    assert code == 0, err
    values = json.loads(out)
    assert "kid" not in values and "class_acc" not in values and values["fid"] > 0
    assert values["protocol"]["metrics"] == ["fid"]


def test_toy_checkpoint_reports_mode_coverage(tmp_path_factory, capsys):
    ckpt = tiny_checkpoint("toy", tmp_path_factory)
    code, out, err = evaluate(capsys, ckpt)
    assert code == 0, err
    values = json.loads(out)
    assert values["protocol"] == {"samples": 2500, "mixture": "ring", "std": 0.01, "generator": "trained"}
    assert values["modes_total"] == 8
    model = load_model(ckpt)
    points = torch.cat([x for x, _ in generate_batches(model, 2500, 2500, seed=0)])
    expected = mode_coverage(points, load_datamodule(model).centres, 0.01)
    assert {k: values[k] for k in expected} == expected
    assert sum(values["samples_per_mode"]) == round(values["high_quality"] * 2500)


def test_without_the_classifier_says_how_to_train_it(tmp_path_factory, root, tmp_path):
    ckpt = tiny_checkpoint("cgan", tmp_path_factory)
    empty = tmp_path / "empty"
    result = cli(
        "gan_lightning.evaluate", f"ckpt={ckpt}", *image_args(root), "train_classifier=false",
        env={CACHE_ENV: str(empty)},
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stdout == ""
    assert "python -m gan_lightning.classifier data=mnist" in result.stderr
    assert str(empty / "classifiers" / "mnist.pt") in result.stderr
    assert "Traceback" not in result.stderr


def test_same_command_twice_reuses_the_cached_real_features(tmp_path_factory, root, cache, capsys):
    ckpt = tiny_checkpoint("cgan", tmp_path_factory)
    runs = []
    for _ in range(2):
        torch.manual_seed(0)  # KID draws its subsets from the global generator (a fresh process: fixed)
        code, out, err = evaluate(capsys, ckpt, *image_args(root))
        assert code == 0, err
        runs.append(json.loads(out))
        files = list((cache / "fid_stats").iterdir())
        assert len(files) == 1 and files[0].suffix == ".pt"
        if len(runs) == 1:
            written = files[0].stat().st_mtime_ns
    assert files[0].stat().st_mtime_ns == written  # read, not written again
    assert runs[0] == runs[1]


def test_cached_real_features_are_what_the_fid_uses(tmp_path_factory, root, cache, capsys):
    ckpt = tiny_checkpoint("cgan", tmp_path_factory)
    first = json.loads(evaluate(capsys, ckpt, *image_args(root))[1])
    (stats,) = (cache / "fid_stats").iterdir()
    saved = torch.load(stats, weights_only=True)
    torch.save({**saved, "features": saved["features"] + 1.0}, stats)
    second = json.loads(evaluate(capsys, ckpt, *image_args(root))[1])
    assert second["fid"] > first["fid"]


def test_non_positive_n(tmp_path_factory, capsys):
    code, out, err = evaluate(capsys, tiny_checkpoint("dcgan", tmp_path_factory), "n=0")
    assert code == 2 and "n must be positive, got 0" in err and out == ""


def test_one_class_of_a_conditional_model(tmp_path_factory, root, cache, classifier, capsys):
    """label=3: every sample generated for class 3 and compared with the real test images of class 3."""
    ckpt = tiny_checkpoint("cgan", tmp_path_factory)
    code, out, err = evaluate(capsys, ckpt, *image_args(root), "label=3", "metrics=[fid,class_acc]")
    assert code == 0, err
    values = json.loads(out)
    model, net = load_model(ckpt), load_classifier(classifier)[0]
    labels = torch.full((40,), 3)
    images = torch.cat([x for x, _ in generate_batches(model, 40, 500, labels, seed=0)])
    assert values["class_acc"] == pytest.approx((net(images).argmax(1) == 3).double().mean().item(), abs=1e-7)
    assert values["protocol"]["reference"] == "mnist/test classes [3]"
    assert values["protocol"]["n_real"] == 3  # the tiny test split holds 3 images of class 3
    assert [p.name for p in (cache / "fid_stats").iterdir()][0].startswith("mnist_test_c3_")


def test_label_needs_a_conditional_model(tmp_path_factory, root, cache, capsys):
    code, _, err = evaluate(capsys, tiny_checkpoint("dcgan", tmp_path_factory), *image_args(root), "label=3")
    assert code == 2 and "label= needs a conditional model" in err


def test_precision_recall_density_coverage_and_is_classifier(
    tmp_path_factory, root, cache, classifier, capsys
):
    """The new metrics, printed under their names, against a recomputation from the same features."""
    ckpt = tiny_checkpoint("dcgan", tmp_path_factory)
    code, out, err = evaluate(
        capsys, ckpt, *image_args(root), "metrics=[precision,recall,density,coverage,is]", "is_splits=4"
    )
    assert code == 0, err
    values = json.loads(out)
    names = ["precision", "recall", "density", "coverage", "is_classifier"]
    assert set(values) == {
        "ckpt",
        "generator_step",
        *names,
        "is_classifier_std",
        "class_histogram",
        "protocol",
    }
    assert values["protocol"]["metrics"] == names
    assert values["protocol"]["settings"] == {"pr_k": 3, "dc_k": 5, "is_splits": 4}
    (stats,) = (cache / "fid_stats").iterdir()
    real = torch.load(stats, weights_only=True)["features"].double()
    extractor = ClassifierFeatures(load_classifier(classifier)[0], tag="t")
    images = torch.cat([x for x, _ in generate_batches(load_model(ckpt), 40, 500, seed=0)])
    fake, logits = (t.double() for t in extractor.features_and_logits(images))
    expected = {**precision_recall(real, fake, 3), **density_coverage(real, fake, 5)}
    assert {k: values[k] for k in expected} == pytest.approx(expected, abs=1e-12)
    mean, std = inception_score(logits, 4)
    assert (values["is_classifier"], values["is_classifier_std"]) == (pytest.approx(mean), pytest.approx(std))
    assert 1.0 <= mean <= 10.0


def test_ppl_of_a_model_without_w_fails_before_any_work(
    tmp_path_factory, root, tmp_path, capsys, monkeypatch
):
    empty = tmp_path / "empty"
    monkeypatch.setenv(CACHE_ENV, str(empty))  # no classifier: one would be trained if the check came late
    code, out, err = evaluate(
        capsys, tiny_checkpoint("dcgan", tmp_path_factory), *image_args(root), "metrics=[fid,ppl]"
    )
    assert code == 2 and out == ""
    assert "ppl (perceptual path length) walks the latent W" in err and "GAN has none" in err
    assert not empty.exists()


def test_unknown_metric_and_bad_k_are_config_errors(tmp_path_factory, root, capsys):
    ckpt = tiny_checkpoint("dcgan", tmp_path_factory)
    code, _, err = evaluate(capsys, ckpt, *image_args(root), "metrics=[fid,precison]")
    assert code == 2 and "Unknown metrics ['precison']" in err
    code, _, err = evaluate(capsys, ckpt, *image_args(root), "pr_k=0")
    assert code == 2 and "metrics.pr_k must be a positive integer, got 0" in err
