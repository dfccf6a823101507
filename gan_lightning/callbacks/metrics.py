"""Sample-quality metrics during training: FID, KID, class consistency, precision / recall, density /
coverage, the Inception Score, PPL (images; those of ``metrics.metrics``) or mode coverage (2-D toy
data), every N generator steps and at the end, with a ``best.ckpt`` kept by FID.

The extractor ``auto`` uses the dataset classifier, or for unlabelled images the rotation net trained
on the folder (the training command trains either first when it is missing, unless
``metrics.train_classifier=false``); without one it warns once (with the command that trains it)
and skips the image metrics; ``classifier``, ``rotation`` or ``inception`` insist.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
from pytorch_lightning.loggers import TensorBoardLogger

from gan_lightning.callbacks.periodic import MetricEvaluation
from gan_lightning.errors import ConfigError
from gan_lightning.metrics.protocol import (
    MetricOptions,
    Protocol,
    build_image_evaluator,
    check_model_metrics,
    evaluate_images,
    evaluate_toy,
)
from gan_lightning.metrics.toy import TOY_SAMPLES

log = logging.getLogger(__name__)

# The scalars this callback logs (``val/<name>``); which way each is better (the HParams summary's
# ``hp/<name>_best``, the report's best column) is stated once in log_names.METRICS: the lowest FID, KID
# and PPL, the highest of the others (density too: above 1 it says samples crowd where real ones are).
SCALARS = (
    "fid", "kid", "class_acc", "precision", "recall", "density", "coverage", "is", "is_classifier", "ppl",
    "modes_covered", "high_quality",
)  # fmt: skip


class GANMetrics(MetricEvaluation):
    """Evaluate the generator every ``every_n_steps`` generator steps (0: only at the end).

    Args:
        save_best: keep ``checkpoints/best.ckpt`` at the lowest FID so far.
        at_start: also evaluate the untrained generator (step 0), as a baseline.
        train_classifier: read by the training command, which trains a missing dataset classifier
            (or rotation net) before the run starts (``classifier_training.ensure_feature_net``).
        **options: how quality is measured, :class:`~gan_lightning.metrics.protocol.MetricOptions`
            (extractor, metrics, n_samples, reference_split, inception_weights, kid_subset_size,
            batch_size, seed, pr_k, dc_k, is_splits, ppl_*, lpips_weights), shared with the evaluate
            command.
    """

    def __init__(
        self,
        every_n_steps: int = 1000,
        save_best: bool = True,
        at_start: bool = False,
        train_classifier: bool = True,
        **options: Any,
    ) -> None:
        del train_classifier  # the training command reads it from the config, before the run
        self.every_n_steps = every_n_steps
        self.options = MetricOptions(**options)
        self.save_best = save_best
        self.at_start = at_start
        self.evaluator = None
        self.protocol: Protocol | None = None
        self.toy = False
        self.best_fid = math.inf
        self.history: list[dict[str, Any]] = []
        self.last_step = -1

    # --- set-up -------------------------------------------------------------------------------

    def check_model(self, model: pl.LightningModule, datamodule: Any = None) -> None:
        """Fail before any work when a chosen metric cannot apply to ``model`` (``ppl`` without W) or to
        the extractor of ``datamodule`` (``is`` with the rotation net, see ``check_model_metrics``)."""
        check_model_metrics(self.options, model, datamodule)

    def prepare(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        datamodule = trainer.datamodule
        self.toy = not getattr(datamodule, "is_image", True)
        if self.toy:
            mixture = f"{datamodule.name} ({datamodule.kind}, std {datamodule.std})"
            self.record_protocol(trainer, f"mode coverage of {TOY_SAMPLES} samples on {mixture}")
        if self.toy or self.evaluator is not None:
            return
        self.check_model(pl_module, datamodule)  # also with extractor=auto (which only warns below)
        try:
            self.evaluator, self.protocol = build_image_evaluator(
                datamodule,
                pl_module.conditional,
                self.options,
                device=pl_module.device,
                rank=trainer.global_rank,
                world_size=trainer.world_size,
                barrier=trainer.strategy.barrier,
            )
        except ConfigError as err:
            if self.options.extractor != "auto":
                raise
            log.warning("Sample-quality metrics are off for this run: %s", err)
            return
        log.info("Metrics protocol: %s", self.protocol)
        self.record_protocol(trainer, str(self.protocol), self.protocol.as_dict())

    def scalar_names(self) -> tuple[str, ...]:
        """The scalars evaluated, FID, class consistency and KID first (the HParams view shows five)."""
        if self.toy:
            return ("modes_covered", "high_quality")
        if self.evaluator is None:
            return ()
        chosen = self.evaluator.scalar_names  # is -> is_classifier with the dataset classifier
        return tuple(n for n in dict.fromkeys(("fid", "class_acc", "kid", *SCALARS)) if n in chosen)

    def state_dict(self) -> dict[str, Any]:
        return {"best_fid": self.best_fid, "history": self.history}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.best_fid, self.history = state_dict["best_fid"], state_dict["history"]

    # --- evaluation -------------------------------------------------------------------------------

    def run(self, trainer: pl.Trainer, pl_module: pl.LightningModule, step: int) -> dict[str, Any]:
        """Evaluate now (on every rank), log on rank 0, keep the best checkpoint."""
        self.last_step = step
        if self.toy:
            values = evaluate_toy(pl_module, trainer.datamodule, seed=self.options.seed)
        elif self.evaluator is not None:
            values = evaluate_images(
                pl_module, self.evaluator, self.options, trainer.global_rank, trainer.world_size
            )
        else:
            return {}
        self.history.append({"step": step, **values})
        if trainer.is_global_zero:
            self._log(trainer, values, step)
        fid = values.get("fid")
        if self.save_best and fid is not None and fid < self.best_fid:
            self.best_fid = fid
            trainer.save_checkpoint(Path(trainer.default_root_dir) / "checkpoints" / "best.ckpt")
        return values

    def _log(self, trainer: pl.Trainer, values: dict[str, Any], step: int) -> None:
        scalars = {f"val/{name}": float(values[name]) for name in SCALARS if name in values}
        scalars.update(self.improved())  # the HParams summary's best values, as they improve
        for logger in trainer.loggers:
            logger.log_metrics(scalars, step=step)
            if isinstance(logger, TensorBoardLogger) and "class_histogram" in values:
                _add_class_histogram(logger, values["class_histogram"], step)
        log.info("step %d: %s", step, ", ".join(f"{k}={v:.4g}" for k, v in scalars.items()))


def _add_class_histogram(logger: TensorBoardLogger, counts: list[int], step: int) -> None:
    """Predicted classes of the generated images as a TensorBoard histogram (one bucket per class)."""
    total = sum(counts)
    centres = range(len(counts))
    logger.experiment.add_histogram_raw(
        "val/predicted_class", min=0, max=len(counts) - 1, num=total,
        sum=float(sum(c * k for k, c in zip(centres, counts, strict=True))),
        sum_squares=float(sum(c * k * k for k, c in zip(centres, counts, strict=True))),
        bucket_limits=[k + 0.5 for k in centres], bucket_counts=counts, global_step=step,
    )  # fmt: skip
