"""MetricOptions: stated once (the configs of training and evaluate hold every option with its default),
checked when built; the protocol records the chosen metrics' settings."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest
import yaml
from hydra import compose, initialize_config_module

from gan_lightning.errors import ConfigError
from gan_lightning.evaluate import metric_options
from gan_lightning.metrics.protocol import MetricOptions, Protocol, check_model_metrics

PACKAGE = Path(__file__).resolve().parents[2] / "gan_lightning"


def test_the_training_config_holds_every_option_with_its_default():
    values = yaml.safe_load((PACKAGE / "conf/metrics/default.yaml").read_text())
    for option in fields(MetricOptions):
        assert option.name in values, f"conf/metrics/default.yaml lacks {option.name}"
        given = tuple(values[option.name]) if isinstance(values[option.name], list) else values[option.name]
        assert given == option.default, f"{option.name}={given}, MetricOptions says {option.default}"


def test_evaluate_takes_its_options_from_the_training_config():
    """Stated once: tool_conf/evaluate.yaml names no metric option; it composes conf/metrics/default."""
    own = yaml.safe_load((PACKAGE / "tool_conf/evaluate.yaml").read_text())
    assert not {f.name for f in fields(MetricOptions)} & own.keys()
    with initialize_config_module("gan_lightning.tool_conf", version_base="1.3"):
        cfg = compose("evaluate", overrides=["ckpt=x", "pr_k=5"])
    options = metric_options(cfg)
    assert options == MetricOptions(pr_k=5)
    with initialize_config_module("gan_lightning.tool_conf", version_base="1.3"):
        assert metric_options(compose("evaluate", overrides=["ckpt=x", "n=50"])).n_samples == 50


def test_options_are_checked_when_built():
    with pytest.raises(ConfigError, match=r"Unknown metrics \['prec'\]"):
        MetricOptions(metrics=["fid", "prec"])
    for name in ("pr_k", "dc_k", "is_splits", "ppl_samples", "n_samples", "batch_size"):
        with pytest.raises(ConfigError, match=f"metrics.{name} must be a positive integer, got 0"):
            MetricOptions(**{name: 0})
    assert MetricOptions(metrics=["fid", "ppl"]).metrics == ("fid", "ppl")


def test_settings_are_those_of_the_chosen_metrics():
    assert MetricOptions().settings() == {}
    assert MetricOptions(metrics=("fid", "recall", "coverage"), dc_k=7).settings() == {"pr_k": 3, "dc_k": 7}
    assert MetricOptions(metrics=("is", "ppl"), ppl_space="z").settings() == {
        "is_splits": 10, "ppl_space": "z", "ppl_sampling": "end", "ppl_epsilon": 1e-4, "ppl_samples": 10_000,
    }  # fmt: skip


def test_protocol_shows_settings_only_when_there_are_some():
    plain = Protocol("classifier-x", 10, 8, "mnist/test", ["fid"], "torchvision")
    assert "settings" not in plain.as_dict() and str(plain) == (
        "classifier-x, 10 generated vs 8 real images of mnist/test [torchvision]"
    )
    chosen = Protocol("classifier-x", 10, 8, "mnist/test", ["precision"], "", {"pr_k": 3})
    assert chosen.as_dict()["settings"] == {"pr_k": 3}
    assert str(chosen).endswith("mnist/test; pr_k=3")


def test_ppl_is_checked_against_the_model():
    class WithW:
        has_latent_w = True

    class WithoutW:
        has_latent_w = False

    check_model_metrics(MetricOptions(metrics=("ppl",)), WithW())
    check_model_metrics(MetricOptions(metrics=("fid",)), WithoutW())
    with pytest.raises(ConfigError, match="WithoutW has none"):
        check_model_metrics(MetricOptions(metrics=("fid", "ppl")), WithoutW())


def test_metrics_are_checked_against_the_extractor_of_the_data():
    class Labelled:
        num_classes, is_image = 10, True

    class Unlabelled:
        num_classes, is_image = None, True

    class WithW:
        has_latent_w = True

    check_model_metrics(MetricOptions(metrics=("is",)), WithW(), Labelled())  # the dataset classifier's
    check_model_metrics(MetricOptions(metrics=("is",), extractor="inception"), WithW(), Unlabelled())
    with pytest.raises(ConfigError, match="rotation net of unlabelled images predicts rotations"):
        check_model_metrics(MetricOptions(metrics=("fid", "is")), WithW(), Unlabelled())  # auto: rotation
    with pytest.raises(ConfigError, match="Inception extractor's 8-bit images hide"):
        check_model_metrics(MetricOptions(metrics=("ppl",), extractor="inception"), WithW(), Labelled())
    lpips = MetricOptions(metrics=("ppl",), extractor="inception", lpips_weights="vgg16.pth")
    check_model_metrics(lpips, WithW(), Labelled())
