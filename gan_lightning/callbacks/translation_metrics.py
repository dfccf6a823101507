"""Translation metrics during training (``metrics=translation``, the default of the image-to-image
models): every N generator steps and at the end. Unpaired data (CycleGAN, DiscoGAN): per direction,
logged as ``val/<metric>_<direction>`` (:mod:`gan_lightning.metrics.translation`); paired data
(pix2pix): against each test pair's target, ``val/<metric>`` (:mod:`gan_lightning.metrics.paired`).
With two labelled domains (class sub-folders with the same names), unpaired runs also measure content
preservation (``val/content_acc_<direction>``, :mod:`gan_lightning.metrics.content_classifier`).

As :class:`~gan_lightning.callbacks.metrics.GANMetrics` does for the noise models, the best value of
each metric so far is logged as ``hp/<metric>_best`` as it improves and the last one as
``hp/<metric>_final`` at the end (TensorBoard's HParams view, ``optimized_metric`` of sweeps); which
value is best is stated once in :data:`gan_lightning.log_names.METRICS`.

The test sets are small, so every rank evaluates them whole and identically (no collectives); rank 0
logs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytorch_lightning as pl

from gan_lightning.callbacks.periodic import MetricEvaluation
from gan_lightning.errors import ConfigError
from gan_lightning.metrics import paired, translation
from gan_lightning.metrics.domain_classifier import domain_classifier_path

log = logging.getLogger(__name__)
#: data kind -> (the feature net's path of a datamodule, the evaluator builder)
EVALUATORS: dict[str, tuple[Callable[[Any], Path], Callable[..., tuple[Any, Any]]]] = {
    "two_domains": (
        lambda datamodule: domain_classifier_path(datamodule.root, datamodule.stats_name),
        translation.build_translation_evaluator,
    ),
    "paired": (paired.feature_net_path, paired.build_paired_evaluator),
}


class TranslationMetrics(MetricEvaluation):
    """Evaluate the translations every ``every_n_steps`` generator steps (0: at the end only).

    Args:
        every_n_steps: period in generator steps.
        inception_weights: local file of FID's Inception weights: adds Inception-space FID / KID.
        batch_size: images per forward pass.
        at_start: also evaluate the untrained generators (step 0).
        train_classifier: the feature net (the domain classifier of unpaired data, the rotation net of
            paired targets) and the content classifiers are trained when missing (else those metrics
            are off for the run, with a warning).
        content_preservation: ``content_acc_<direction>`` of unpaired data: ``None`` when both domains
            are labelled, ``True`` insists (a ConfigError on unlabelled domains or paired data),
            ``False`` leaves it out.
    """

    def __init__(
        self,
        every_n_steps: int = 1000,
        inception_weights: str | None = None,
        batch_size: int = 50,
        at_start: bool = False,
        train_classifier: bool = True,
        content_preservation: bool | None = None,
    ) -> None:
        self.every_n_steps = every_n_steps
        self.inception_weights = inception_weights
        self.batch_size = batch_size
        self.at_start = at_start
        self.train_classifier = train_classifier
        self.content_preservation = content_preservation
        self.evaluator: Any = None  # TranslationEvaluator or PairedEvaluator
        self.history: list[dict[str, Any]] = []
        self.last_step = -1

    def prepare(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        if self.evaluator is not None:
            return
        datamodule = trainer.datamodule
        kind = getattr(datamodule, "data_kind", "samples")
        if kind not in EVALUATORS:
            raise ConfigError(
                "metrics=translation measures image-to-image models on their test images: use data=unpaired "
                "or data=paired (noise-to-image models take metrics=default)."
            )
        options = {}
        if kind == "two_domains":
            options = {"content": self.content_preservation, "train_classifier": self.train_classifier}
        elif self.content_preservation:
            raise ConfigError(
                "metrics.content_preservation=true measures unpaired translation between labelled domains "
                "(data=unpaired); pix2pix's translations are compared with their own targets (val/l1, "
                "val/psnr). Set metrics.content_preservation=null."
            )
        feature_net_path, build_evaluator = EVALUATORS[kind]
        if not self.train_classifier and not feature_net_path(datamodule).is_file():
            log.warning("Translation metrics are off: no feature net and metrics.train_classifier=false.")
            return
        accelerator = "gpu" if trainer.strategy.root_device.type == "cuda" else "cpu"
        self.evaluator, protocol = build_evaluator(
            datamodule, self.inception_weights, self.batch_size, accelerator, **options
        )
        log.info("Translation metrics protocol: %s", protocol)
        self.record_protocol(trainer, str(protocol))

    def scalar_names(self) -> tuple[str, ...]:
        """``fid_a2b``, ``fid_b2a``, ... (unpaired) or ``fid``, ``kid``, ``l1``, ``psnr`` (pix2pix)."""
        return self.evaluator.scalar_names if self.evaluator is not None else ()

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
            log.info("step %d: %s", step, ", ".join(f"{k}={v:.4g}" for k, v in scalars.items()))
            scalars.update(self.improved())  # the HParams summary's best values, as they improve
            for logger in trainer.loggers:
                logger.log_metrics(scalars, step=step)
        return values


__all__ = ["TranslationMetrics"]
