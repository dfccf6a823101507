"""Translation metrics during training (``metrics=translation``, the default of the translation
models): every N generator steps and at the end, per direction, logged as ``val/<metric>_<direction>``
(see :mod:`gan_lightning.metrics.translation`).

The test sets of both domains are small, so every rank evaluates them whole and identically (no
collectives); rank 0 logs.
"""

from __future__ import annotations

import logging
from typing import Any

import pytorch_lightning as pl
from pytorch_lightning.loggers import TensorBoardLogger

from gan_lightning.callbacks.periodic import PeriodicEvaluation
from gan_lightning.errors import ConfigError
from gan_lightning.metrics.domain_classifier import domain_classifier_path
from gan_lightning.metrics.translation import SCALARS, TranslationEvaluator, build_translation_evaluator

log = logging.getLogger(__name__)


class TranslationMetrics(PeriodicEvaluation):
    """Evaluate both translation directions every ``every_n_steps`` generator steps (0: at the end only).

    Args:
        every_n_steps: period in generator steps.
        inception_weights: local file of FID's Inception weights: adds Inception-space FID / KID.
        batch_size: images per forward pass.
        at_start: also evaluate the untrained generators (step 0).
        train_classifier: the domain classifier is trained on the two domains when missing (else the
            metrics are off for the run, with a warning).
    """

    def __init__(
        self,
        every_n_steps: int = 1000,
        inception_weights: str | None = None,
        batch_size: int = 50,
        at_start: bool = False,
        train_classifier: bool = True,
    ) -> None:
        self.every_n_steps = every_n_steps
        self.inception_weights = inception_weights
        self.batch_size = batch_size
        self.at_start = at_start
        self.train_classifier = train_classifier
        self.evaluator: TranslationEvaluator | None = None
        self.history: list[dict[str, Any]] = []
        self.last_step = -1

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        if self.evaluator is not None:
            return
        datamodule = trainer.datamodule
        if not hasattr(datamodule, "domain_images"):
            raise ConfigError("metrics=translation needs two-domain data (data=unpaired).")
        trained = domain_classifier_path(datamodule.root, datamodule.stats_name).is_file()
        if not self.train_classifier and not trained:
            log.warning(
                "Translation metrics are off: no domain classifier and metrics.train_classifier=false."
            )
            return
        accelerator = "gpu" if trainer.strategy.root_device.type == "cuda" else "cpu"
        self.evaluator, protocol = build_translation_evaluator(
            datamodule, self.inception_weights, self.batch_size, accelerator
        )
        log.info("Translation metrics protocol: %s", protocol)
        for logger in trainer.loggers:
            if isinstance(logger, TensorBoardLogger) and trainer.is_global_zero:
                logger.experiment.add_text("val/protocol", str(protocol), 0)

    def state_dict(self) -> dict[str, Any]:
        return {"history": self.history}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.history = state_dict["history"]

    def run(self, trainer: pl.Trainer, pl_module: pl.LightningModule, step: int) -> dict[str, float]:
        self.last_step = step
        if self.evaluator is None:
            return {}
        values = self.evaluator.evaluate(pl_module)
        self.history.append({"step": step, **values})
        if trainer.is_global_zero:
            scalars = {f"val/{name}": value for name, value in values.items()}
            for logger in trainer.loggers:
                logger.log_metrics(scalars, step=step)
            log.info("step %d: %s", step, ", ".join(f"{k}={v:.4g}" for k, v in scalars.items()))
        return values


__all__ = ["SCALARS", "TranslationMetrics"]
