"""Training the dataset classifier behind offline FID / KID and class consistency.

``python -m gan_lightning.classifier`` calls :func:`fit_classifier`; training runs and
``evaluate`` call :func:`ensure_feature_net` first, which trains the classifier (or, for unlabelled
images, the rotation net) when it is missing, so that the first run measures itself, without touching
the caller's random streams.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
from omegaconf import OmegaConf
from torch.utils.data import DataLoader

from gan_lightning.config import build
from gan_lightning.data.base import GANDataModule
from gan_lightning.metrics.classifier_net import ClassifierTask, classifier_path, save_classifier
from gan_lightning.metrics.rotation_net import load_or_train_rotation_features, rotation_features_path
from gan_lightning.rng import rng_states, set_rng_states

log = logging.getLogger(__name__)

# What `python -m gan_lightning.classifier` uses (conf/classifier.yaml); automatic training uses these.
DEFAULTS: dict[str, Any] = {
    "epochs": 3,
    "lr": 3e-3,
    "width": 32,
    "feature_dim": 128,
    "limit_train_batches": 1.0,
}


def fit_classifier(
    datamodule: GANDataModule,
    path: str | Path | None = None,
    accelerator: str = "auto",
    progress: bool = True,
    **options: Any,
) -> tuple[Path, float]:
    """Train on the train split, test on the test split (train when there is none), save to ``path``
    (default :func:`classifier_path`); return the path and the test accuracy."""
    options = {**DEFAULTS, **options}
    datamodule.prepare_data()
    datamodule.setup("fit")
    test_split = "test" if "test" in datamodule.splits else "train"
    test_loader = DataLoader(
        datamodule.load_split(test_split), batch_size=512, num_workers=datamodule.num_workers
    )
    task = ClassifierTask(
        datamodule.data_shape, datamodule.num_classes, lr=options["lr"], epochs=options["epochs"],
        width=options["width"], feature_dim=options["feature_dim"],
    )  # fmt: skip
    trainer = pl.Trainer(
        max_epochs=options["epochs"], accelerator=accelerator, devices=1, logger=False,
        enable_checkpointing=False, limit_train_batches=options["limit_train_batches"],
        enable_progress_bar=progress, enable_model_summary=False,
    )  # fmt: skip
    trainer.fit(task, train_dataloaders=datamodule.train_dataloader())
    accuracy = float(trainer.test(task, dataloaders=test_loader, verbose=False)[0]["test/accuracy"])
    path = Path(path) if path else classifier_path(datamodule.root, datamodule.name)
    save_classifier(task.net.cpu(), path, datamodule.name, accuracy)
    return path, accuracy


def ensure_feature_net(data: dict[str, Any], accelerator: str = "auto", **options: Any) -> Path | None:
    """The feature network of an image dataset's metrics, trained now when missing: the classifier of
    a labelled dataset, the rotation net (:mod:`~gan_lightning.metrics.rotation_net`) of unlabelled
    images. Returns its path, or ``None`` for non-image data.

    ``data`` is the run's data config; the network gets its own datamodule of the whole training set
    (all classes, no subset), so the run's data order is untouched. The global random states are
    saved and restored, so a run that trains it first draws the same weights and noise as one that
    finds it.
    """
    whole = {**data, "classes": None, "subset": None, "on_device": False}
    datamodule = build(OmegaConf.create(whole))
    if not datamodule.is_image:
        return None
    if datamodule.num_classes is None:
        return _ensure_rotation_net(datamodule, accelerator)
    path = classifier_path(datamodule.root, datamodule.name)
    if path.is_file():
        return path
    log.warning(
        "No classifier for %s at %s: training it now (%d epochs), once; FID, KID and class consistency "
        "are computed in its feature space (metrics.train_classifier=false turns this off).",
        datamodule.name, path, options.get("epochs", DEFAULTS["epochs"]),
    )  # fmt: skip
    states = rng_states()
    try:
        path, accuracy = fit_classifier(datamodule, path, accelerator, **options)
    finally:
        set_rng_states(states)
    log.warning("%s classifier: test accuracy %.4f, saved to %s", datamodule.name, accuracy, path)
    return path


def _ensure_rotation_net(datamodule: GANDataModule, accelerator: str) -> Path:
    path = rotation_features_path(datamodule.root, datamodule.stats_name)
    if path.is_file():
        return path
    log.warning(
        "No feature network for the unlabelled images of %s: training a rotation-prediction net on them "
        "now, once (metrics.train_classifier=false turns this off); saved to %s.", datamodule.source, path,
    )  # fmt: skip
    datamodule.prepare_data()
    _, meta = load_or_train_rotation_features(
        datamodule.load_split("train"), datamodule.data_shape, path, datamodule.stats_name,
        accelerator=accelerator,
    )  # fmt: skip
    log.warning("Rotation net: held-out rotation accuracy %.4f", meta["test_accuracy"])
    return path
