"""Training the dataset classifier behind offline FID / KID and class consistency.

``python -m gan_lightning.classifier`` calls :func:`fit_classifier`; training runs and
``evaluate`` call :func:`ensure_feature_net` first, which trains the classifier (or, for unlabelled
images, the rotation net) when it is missing, so that the first run measures itself, without touching
the caller's random streams.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from omegaconf import OmegaConf
from torch import Tensor
from torch.utils.data import DataLoader, Dataset
from torchvision import datasets

from gan_lightning.config import build
from gan_lightning.data.base import GANDataModule
from gan_lightning.data.order import EpochShuffle
from gan_lightning.data.tensor_dataset import TensorBatches, keep_batch
from gan_lightning.metrics.classifier_net import ClassifierTask, classifier_path, save_classifier
from gan_lightning.metrics.rotation_net import load_or_train_rotation_features, rotation_features_path
from gan_lightning.rng import untouched_global_rng

log = logging.getLogger(__name__)

# What `python -m gan_lightning.classifier` uses (conf/classifier.yaml); automatic training uses these.
# The batch is the classifier's own (the run's data.batch_size is the GAN's). A stride-2 first
# convolution (a quarter of the operations) and the training set held as one tensor make the first run's
# MNIST classifier take about 75 s on two CPU cores (3 epochs of batch 64 at full resolution through the
# per-sample loader: about 4 minutes) at the same accuracy (MNIST 99.4-99.5%, Fashion-MNIST 91.7%,
# CIFAR-10 JPEG copy 75.8%).
DEFAULTS: dict[str, Any] = {
    "epochs": 5,
    "lr": 2e-3,
    "batch_size": 128,
    "width": 32,
    "feature_dim": 128,
    "stem_stride": 2,
    "limit_train_batches": 1.0,
}
# Splits up to this size (float32 pixels) are held in memory as one tensor: no per-sample transform runs
# during training; larger ones (big image folders) are read through their dataset as usual.
IN_MEMORY_BYTES = 2 * 2**30


def fit_classifier(
    datamodule: GANDataModule,
    path: str | Path | None = None,
    accelerator: str = "auto",
    progress: bool = True,
    **options: Any,
) -> tuple[Path, float]:
    """Train on the train split, test on the test split (train when there is none), save to ``path``
    (default :func:`classifier_path`); return the path and the test accuracy.

    ``options`` override :data:`DEFAULTS`. The batch is ``options["batch_size"]`` (at most the training
    set), not the datamodule's; the order is reshuffled every epoch from the datamodule's seed.
    """
    options = {**DEFAULTS, **options}
    datamodule.prepare_data()
    datamodule.setup("fit")
    train_set = _batched(datamodule, datamodule.train_set)
    batch_size = min(int(options["batch_size"]), len(train_set))
    train_loader = DataLoader(
        train_set, batch_size=batch_size, sampler=EpochShuffle(len(train_set), datamodule.shuffle_seed),
        drop_last=True, **_loader_options(datamodule, train_set),
    )  # fmt: skip
    test_split = "test" if "test" in datamodule.splits else "train"
    test_set = _batched(datamodule, datamodule.load_split(test_split))
    test_loader = DataLoader(test_set, batch_size=512, **_loader_options(datamodule, test_set))
    task = ClassifierTask(
        datamodule.data_shape, datamodule.num_classes, lr=options["lr"], epochs=options["epochs"],
        width=options["width"], feature_dim=options["feature_dim"], stem_stride=options["stem_stride"],
    )  # fmt: skip
    trainer = pl.Trainer(
        max_epochs=options["epochs"], accelerator=accelerator, devices=1, logger=False,
        enable_checkpointing=False, limit_train_batches=options["limit_train_batches"],
        enable_progress_bar=progress, enable_model_summary=False,
    )  # fmt: skip
    trainer.fit(task, train_dataloaders=train_loader)
    accuracy = float(trainer.test(task, dataloaders=test_loader, verbose=False)[0]["test/accuracy"])
    path = Path(path) if path else classifier_path(datamodule.root, datamodule.name)
    save_classifier(task.net.cpu().to(memory_format=torch.contiguous_format), path, datamodule.name, accuracy)
    return path, accuracy


def _batched(datamodule: GANDataModule, dataset: Dataset) -> Dataset:
    """``dataset`` as one tensor in memory (:class:`TensorBatches`: a batch is one indexing) when it
    fits in :data:`IN_MEMORY_BYTES`, else itself."""
    if len(dataset) * math.prod(datamodule.data_shape) * 4 > IN_MEMORY_BYTES:
        return dataset
    return TensorBatches(*split_tensors(dataset, datamodule.num_workers))


def _loader_options(datamodule: GANDataModule, dataset: Dataset) -> dict[str, Any]:
    if isinstance(dataset, TensorBatches):
        return {"collate_fn": keep_batch}
    workers = datamodule.num_workers
    return {"num_workers": workers, "pin_memory": datamodule.pin_memory, "persistent_workers": workers > 0}


def split_tensors(dataset: Dataset, num_workers: int = 0) -> tuple[Tensor, Tensor]:
    """Every sample of ``dataset`` (after its transform) stacked: x float (N, ...), y long (N,).

    torchvision's MNIST, Fashion-MNIST and CIFAR-10 keep their pixels as one uint8 array: those are
    converted at once (what their per-sample transform gives, bit for bit: checked on the first
    sample) instead of one PIL image at a time (MNIST: under a second instead of about 20).
    """
    whole = _torchvision_tensors(dataset)
    if whole is not None:
        return whole
    xs, ys = [], []
    for x, y in DataLoader(dataset, batch_size=500, num_workers=num_workers):
        xs.append(x)
        ys.append(torch.as_tensor(y, dtype=torch.long))
    return torch.cat(xs), torch.cat(ys)


def _torchvision_tensors(dataset: Dataset) -> tuple[Tensor, Tensor] | None:
    if isinstance(dataset, datasets.MNIST):  # and FashionMNIST: uint8 (N, H, W) tensor
        pixels = dataset.data.unsqueeze(1)
    elif isinstance(dataset, datasets.CIFAR10):  # uint8 (N, H, W, C) array
        pixels = torch.from_numpy(dataset.data).permute(0, 3, 1, 2)
    else:
        return None
    if len(dataset) == 0:
        return None
    # to_unit_range: ToTensor (/ 255), then Normalize(0.5, 0.5), in the same float32 operations
    x = pixels.contiguous().float().div(255).sub_(0.5).div_(0.5)
    if not torch.equal(x[0], dataset[0][0]):  # a different transform: go through it
        return None
    return x, torch.as_tensor(dataset.targets, dtype=torch.long)


def ensure_feature_net(data: dict[str, Any], accelerator: str = "auto", **options: Any) -> Path | None:
    """The feature network of an image dataset's metrics, trained now when missing: the classifier of
    a labelled dataset, the rotation net (:mod:`~gan_lightning.metrics.rotation_net`) of unlabelled
    images. Returns its path, or ``None`` for non-image data.

    ``data`` is the run's data config; the network gets its own datamodule of the whole training set
    (all classes, no subset), so the run's data order is untouched. The global random states are
    saved and restored, so a run that trains it first draws the same weights and noise as one that
    finds it.
    """
    with untouched_global_rng():
        return _ensure_feature_net(data, accelerator, **options)


def _ensure_feature_net(data: dict[str, Any], accelerator: str, **options: Any) -> Path | None:
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
    path, accuracy = fit_classifier(datamodule, path, accelerator, **options)
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
