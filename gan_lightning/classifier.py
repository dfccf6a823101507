"""``python -m gan_lightning.classifier data=mnist``: train the dataset classifier used by the metrics.

It is saved to ``<data.root>/classifiers/<dataset>.pt`` (or under ``$GAN_CACHE_DIR``); training runs
and ``evaluate`` then find it there (and train it themselves when it is missing). Prints the test
accuracy.
"""

from __future__ import annotations

import hydra
import pytorch_lightning as pl
from omegaconf import DictConfig, OmegaConf

from gan_lightning.config import build
from gan_lightning.errors import ConfigError, exit_on_user_error
from gan_lightning.metrics.classifier_training import fit_classifier


def train_classifier(cfg: DictConfig) -> float:
    """Train the classifier of ``cfg.data`` with ``cfg.classifier``'s options; return its test accuracy."""
    pl.seed_everything(cfg.seed, workers=True)
    datamodule = build(cfg.data)
    if datamodule.num_classes is None or not datamodule.is_image:
        raise ConfigError(f"The classifier needs a labelled image dataset; '{datamodule.name}' is not one.")
    options = OmegaConf.to_container(cfg.classifier, resolve=True)
    path, accuracy = fit_classifier(datamodule, options.pop("path"), cfg.accelerator, **options)
    test_split = "test" if "test" in datamodule.splits else "train"
    print(f"{datamodule.name} classifier: test accuracy {accuracy:.4f} ({test_split} split), saved to {path}")
    return accuracy


@hydra.main(version_base="1.3", config_path="conf", config_name="classifier")
def main(cfg: DictConfig) -> float:
    return exit_on_user_error(train_classifier, cfg)


if __name__ == "__main__":
    main()
