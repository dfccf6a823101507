"""``python -m gan_lightning.classifier data=mnist``: train the dataset classifier used by the metrics.

It is saved to ``<data.root>/classifiers/<dataset>.pt``; training runs and ``evaluate`` then find it
there. Prints the test accuracy.
"""

from __future__ import annotations

import sys

import hydra
import pytorch_lightning as pl
from omegaconf import DictConfig
from torch.utils.data import DataLoader

from gan_lightning.config import build
from gan_lightning.errors import ConfigError, DatasetNotFoundError
from gan_lightning.metrics.classifier_net import ClassifierTask, classifier_path, save_classifier


def train_classifier(cfg: DictConfig) -> float:
    """Train on the train split, test on the test split, save; return the test accuracy."""
    pl.seed_everything(cfg.seed, workers=True)
    datamodule = build(cfg.data)
    if datamodule.num_classes is None or not datamodule.is_image:
        raise ConfigError(f"The classifier needs a labelled image dataset; '{datamodule.name}' is not one.")
    datamodule.prepare_data()
    datamodule.setup("fit")
    test_split = "test" if "test" in datamodule.splits else "train"
    test_loader = DataLoader(
        datamodule.load_split(test_split), batch_size=512, num_workers=datamodule.num_workers
    )
    task = ClassifierTask(
        datamodule.data_shape, datamodule.num_classes, lr=cfg.classifier.lr, epochs=cfg.classifier.epochs,
        width=cfg.classifier.width, feature_dim=cfg.classifier.feature_dim,
    )  # fmt: skip
    trainer = pl.Trainer(
        max_epochs=cfg.classifier.epochs, accelerator=cfg.accelerator, devices=1, logger=False,
        enable_checkpointing=False, limit_train_batches=cfg.classifier.limit_train_batches,
    )  # fmt: skip
    trainer.fit(task, train_dataloaders=datamodule.train_dataloader())
    accuracy = float(trainer.test(task, dataloaders=test_loader, verbose=False)[0]["test/accuracy"])
    path = cfg.classifier.path or classifier_path(datamodule.root, datamodule.name)
    save_classifier(task.net.cpu(), path, datamodule.name, accuracy)
    print(f"{datamodule.name} classifier: test accuracy {accuracy:.4f} ({test_split} split), saved to {path}")
    return accuracy


@hydra.main(version_base="1.3", config_path="conf", config_name="classifier")
def main(cfg: DictConfig) -> float:
    try:
        return train_classifier(cfg)
    except (ConfigError, DatasetNotFoundError) as err:
        print(f"Error: {err}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
