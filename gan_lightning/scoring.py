"""Scoring samples from files with the protocol of a checkpoint's evaluation
(``python -m gan_lightning.evaluate samples=PATH data=NAME``, and the leaderboard's ``samples=``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from gan_lightning.config import as_plain, build
from gan_lightning.errors import ConfigError
from gan_lightning.metrics.classifier_training import ensure_feature_net
from gan_lightning.metrics.protocol import MetricOptions, build_image_evaluator, check_model_metrics
from gan_lightning.sample_files import Samples, read_samples


def samples_datamodule(data: Any) -> Any:
    """The datamodule of a composed ``data`` config node, checked to hold one set of images."""
    if data is None or not data.get("_target_"):
        raise ConfigError(
            "samples= are scored against a dataset: give data=NAME as for training (data=mnist, "
            "data=fashion_mnist, data=cifar10, data=image_folder data.path=DIR ...)."
        )
    datamodule = build(data)
    if not datamodule.is_image:
        raise ConfigError(f"data={datamodule.name} is 2-D toy data; samples= scores images.")
    if getattr(datamodule, "data_kind", "samples") != "samples":
        raise ConfigError(
            f"data={datamodule.name} holds image pairs or two domains (translation); samples= scores "
            "samples of one image dataset (data=mnist, data=image_folder ...)."
        )
    return datamodule


def check_sample_metrics(options: MetricOptions, labelled: bool, explicit: bool) -> MetricOptions:
    """The options to score samples with: ``ppl`` refused (it needs the generator); ``class_acc``
    refused without labels when asked for explicitly, else left out (as for unconditional models)."""
    if "ppl" in options.metrics:
        raise ConfigError(
            "ppl measures the generator's latent paths, which files of samples do not have: evaluate the "
            "checkpoint (ckpt=...), or drop ppl from metrics."
        )
    if "class_acc" in options.metrics and not labelled:
        if explicit:
            raise ConfigError(
                "class_acc needs the class each sample was generated for: give labels=FILE (.txt, one id "
                "a line; .npy; .pt), a .pt/.npz with 'labels', a folder with labels.txt, or drop "
                "class_acc from metrics."
            )
        kept = tuple(m for m in options.metrics if m != "class_acc")
        options = MetricOptions(**{**options.__dict__, "metrics": kept})
    return options


def score_samples(
    path: str | Path,
    data: Any,
    options: MetricOptions,
    device: torch.device | str = "cpu",
    labels: str | Path | None = None,
    train_classifier: bool = True,
    explicit_metrics: bool = True,
) -> dict[str, Any]:
    """Score the first ``options.n_samples`` images of ``path`` against the dataset of the ``data``
    config node, exactly as a checkpoint's samples are scored: ``{"samples", "images", <metrics>,
    "protocol"}``. Every input check runs before the feature net or the real images are touched."""
    datamodule = samples_datamodule(data)
    samples = read_samples(path, tuple(datamodule.data_shape), options.n_samples, labels)
    options = check_sample_metrics(options, samples.labels is not None, explicit_metrics)
    _check_labels(samples, datamodule)
    check_model_metrics(options, None, datamodule)
    datamodule.prepare_data()
    if train_classifier and options.extractor in ("auto", "classifier", "rotation"):
        plain = {**as_plain(data), "root": str(datamodule.root)}
        ensure_feature_net(plain, "gpu" if torch.device(device).type == "cuda" else "cpu")
    evaluator, protocol = build_image_evaluator(datamodule, samples.labels is not None, options, device)
    result: dict[str, Any] = {"samples": samples.source, "images": samples.available}
    result.update(score_images(evaluator, samples, options.batch_size, device))
    result["protocol"] = {**protocol.as_dict(), "generator": "samples"}
    return result


@torch.no_grad()
def score_images(
    evaluator: Any, samples: Samples, batch_size: int, device: torch.device | str
) -> dict[str, Any]:
    """Feed the samples to ``evaluator`` in batches of ``batch_size`` (as generated images are fed) and
    compute its metrics."""
    evaluator.reset()
    for images, labels in samples.batches(batch_size):
        evaluator.update(images.to(device), labels.to(device) if labels is not None else None)
    return evaluator.compute()


def _check_labels(samples: Samples, datamodule: Any) -> None:
    if samples.labels is None:
        return
    classes = datamodule.classes
    if classes is None:
        raise ConfigError(f"samples={samples.source} has labels, but data={datamodule.name} has no classes.")
    unknown = sorted(set(samples.labels.tolist()) - set(classes))
    if unknown:
        raise ConfigError(
            f"samples={samples.source}: labels {unknown[:5]} are not classes of data={datamodule.name} "
            f"({classes[0]}..{classes[-1]})."
        )
