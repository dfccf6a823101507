"""``python -m gan_lightning.evaluate ckpt=PATH metrics=[fid,kid,class_acc] n=10000``: one JSON line.

``samples=PATH data=NAME`` scores samples made anywhere instead (a folder of PNG/JPEG images, an
``.npz`` or a ``.pt``: :mod:`gan_lightning.sample_files`) against the dataset ``data=`` names, as
for training (``data=fashion_mnist``, ``data=image_folder data.path=DIR``), with the same protocol as
a checkpoint: the samples ``sample ckpt=X n=N seed=S out=x.pt`` writes score what ``ckpt=X n=N
seed=S`` does. ``class_acc`` then needs the samples' labels (``labels=FILE``, or in the file).

The line holds the values and their protocol (extractor, generated and real image counts, reference
set, and the chosen metrics' settings: ``pr_k``, ``dc_k``, ``is_splits``, PPL's paths and distance).
``metrics`` may also name ``precision``, ``recall``, ``density``, ``coverage``, ``is`` (printed as
``is_classifier`` in the dataset classifier's space) and ``ppl`` (style-based models).

2-D toy checkpoints report mode coverage on 2,500 samples instead. ``label=k`` evaluates one class of a
conditional model: every sample is generated for class k and compared with the real images of class k
(the FID of that class, comparable with a model trained on ``data.classes=[k]``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from importlib import resources
from typing import Any

import hydra
from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf

from gan_lightning.callbacks.translation_metrics import EVALUATORS
from gan_lightning.checkpoints import load_datamodule, load_model, resolve_device
from gan_lightning.errors import ConfigError, exit_on_user_error
from gan_lightning.metrics.classifier_training import ensure_feature_net
from gan_lightning.metrics.protocol import (
    MetricOptions,
    build_image_evaluator,
    check_model_metrics,
    evaluate_images,
    evaluate_toy,
)
from gan_lightning.metrics.toy import TOY_SAMPLES
from gan_lightning.sample import choose_labels
from gan_lightning.scoring import score_samples

TRAINING_CONF = resources.files("gan_lightning.conf")
#: The metric options and their defaults, stated once in ``conf/metrics/default.yaml`` (the training
#: callback's), offered to ``tool_conf/evaluate.yaml`` as the config ``metric_defaults``.
METRIC_DEFAULTS = OmegaConf.load(TRAINING_CONF / "metrics" / "default.yaml")
ConfigStore.instance().store(name="metric_defaults", node=METRIC_DEFAULTS)


@contextmanager
def data_group() -> Iterator[None]:
    """Offer the training config's ``data`` group (each option merged onto ``data_defaults``, as
    training composes it) to a tool's config while the tool composes it: ``data=fashion_mnist`` picks
    the same dataset there. Only this group: a search path would also bring the ``metrics`` group, and
    ``metrics=[...]`` is the tools' metric list. Removed afterwards, so that the training app, whose
    files hold the same options, never meets them in the store (Hydra would take them for schemas)."""
    store = ConfigStore.instance()
    defaults = OmegaConf.load(TRAINING_CONF / "data_defaults.yaml")
    for option in (TRAINING_CONF / "data").iterdir():
        if option.name.endswith(".yaml"):
            node = OmegaConf.merge(defaults, OmegaConf.load(option))
            store.store(group="data", name=option.name[: -len(".yaml")], node=node)
    try:
        yield
    finally:
        store.repo.pop("data", None)


def evaluate(cfg: DictConfig) -> dict[str, Any]:
    """Load the checkpoint and its dataset (or read the samples and build ``data``), compute the
    metrics, return them with their protocol."""
    if cfg.n <= 0:
        raise ConfigError(f"n must be positive, got {cfg.n}.")
    if (cfg.get("ckpt") is None) == (cfg.get("samples") is None):
        raise ConfigError(
            "Give ckpt=PATH (a training checkpoint) or samples=PATH data=NAME (a folder of images, an .npz "
            "or a .pt of samples, scored against the dataset data= names), one of the two."
        )
    if cfg.samples is not None:
        return evaluate_samples(cfg)
    if cfg.get("data") is not None or cfg.get("labels") is not None:
        raise ConfigError(
            "data= and labels= go with samples=: a checkpoint records its dataset (data_root=DIR if it "
            "moved)."
        )
    device = resolve_device(cfg.device)
    model = load_model(cfg.ckpt, device)
    datamodule = load_datamodule(model, cfg.data_root)
    result: dict[str, Any] = {"ckpt": str(cfg.ckpt), "generator_step": int(model.generator_step)}
    generator = "ema" if cfg.ema and model.ema is not None else "trained"  # which generator was sampled
    kind = getattr(model, "data_kind", "samples")
    if kind in EVALUATORS:  # image-to-image families: their test images
        evaluator, protocol = EVALUATORS[kind][1](
            datamodule,
            cfg.inception_weights,
            min(cfg.batch_size, 50),
            "gpu" if device.type == "cuda" else "cpu",
        )
        result.update(evaluator.evaluate(model, ema=cfg.ema))
        result["protocol"] = {**protocol.as_dict(), "generator": generator}
        return result
    if not datamodule.is_image:
        result.update(evaluate_toy(model, datamodule, seed=cfg.seed, ema=cfg.ema))
        result["protocol"] = {
            "samples": TOY_SAMPLES,
            "mixture": datamodule.kind,
            "std": datamodule.std,
            "generator": generator,
        }
        return result
    if cfg.get("label") is not None:
        choose_labels(model, 1, cfg.label)  # checks that the model is conditional and knows the label
        model.classes = [cfg.label]
        datamodule.requested_classes = [cfg.label]
    options = metric_options(cfg)
    check_model_metrics(options, model, datamodule)  # before any work (ppl needs a latent W ...)
    datamodule.prepare_data()
    if cfg.train_classifier and cfg.extractor in ("auto", "classifier", "rotation"):
        ensure_feature_net({**model.hparams.data, "root": str(datamodule.root)}, cfg.device)
    evaluator, protocol = build_image_evaluator(datamodule, model.conditional, options, device)
    result.update(evaluate_images(model, evaluator, options, ema=cfg.ema))
    result["protocol"] = {**protocol.as_dict(), "generator": generator}
    return result


def evaluate_samples(cfg: DictConfig) -> dict[str, Any]:
    """Score ``cfg.samples`` against the dataset of ``cfg.data`` with the command's metric options."""
    if cfg.get("label") is not None:
        raise ConfigError(
            "label= picks a class of a conditional checkpoint; for samples use data.classes=[k]."
        )
    explicit = list(cfg.metrics) != list(METRIC_DEFAULTS.metrics)  # the default list leaves class_acc out
    return score_samples(
        cfg.samples,
        cfg.get("data"),
        metric_options(cfg),
        resolve_device(cfg.device),
        labels=cfg.get("labels"),
        train_classifier=cfg.train_classifier,
        explicit_metrics=explicit,
    )


def metric_options(cfg: DictConfig) -> MetricOptions:
    """The command's :class:`MetricOptions`: every option under its own name, ``n`` for ``n_samples``."""
    given = OmegaConf.to_container(cfg, resolve=True)
    names = [f.name for f in fields(MetricOptions) if f.name != "n_samples"]
    return MetricOptions(n_samples=cfg.n, **{name: given[name] for name in names})


@hydra.main(version_base="1.3", config_path="tool_conf", config_name="evaluate")
def _main(cfg: DictConfig) -> None:
    print(json.dumps(exit_on_user_error(evaluate, cfg)))


def main() -> None:
    """The command: its config composed with the training config's ``data`` group at hand."""
    with data_group():
        _main()


if __name__ == "__main__":
    main()
