"""Sample-quality metrics during training: FID, KID, class consistency, precision / recall, density /
coverage, the Inception Score, PPL (images; those of ``metrics.metrics``) or mode coverage (2-D toy
data), every N generator steps and at the end, with a ``best.ckpt`` kept by FID.

The extractor ``auto`` uses the dataset classifier, or for unlabelled images the rotation net trained
on the folder (the training command trains either first when it is missing, unless
``metrics.train_classifier=false``); without one it warns once (with the command that trains it)
and skips the image metrics; ``classifier``, ``rotation`` or ``inception`` insist.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
from pytorch_lightning.loggers import TensorBoardLogger

from gan_lightning.callbacks.periodic import PeriodicEvaluation
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

# How each scalar's best value is chosen (the HParams summary's ``hp/<name>_best``): the lowest FID, KID
# and PPL, the highest of the others (density too: above 1 it says samples crowd where real ones are).
BEST = {
    "fid": min, "kid": min, "class_acc": max, "precision": max, "recall": max, "density": max,
    "coverage": max, "is": max, "is_classifier": max, "ppl": min, "modes_covered": max, "high_quality": max,
}  # fmt: skip
SCALARS = tuple(BEST)
PROTOCOL_FILE = "metrics_protocol.json"  # in the run directory: the protocol of its metrics, as JSON


class GANMetrics(PeriodicEvaluation):
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

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        datamodule = trainer.datamodule
        self.toy = not getattr(datamodule, "is_image", True)
        if self.toy and trainer.is_global_zero:
            mixture = f"{datamodule.name} ({datamodule.kind}, std {datamodule.std})"
            _record_protocol(trainer, f"mode coverage of {TOY_SAMPLES} samples on {mixture}")
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
        if trainer.is_global_zero:
            _record_protocol(trainer, str(self.protocol), self.protocol.as_dict())

    def summary(self) -> dict[str, float]:
        """The last evaluation (``val/<name>``, ``hp/<name>_final``) and the best one so far
        (``hp/<name>_best``) of every scalar evaluated; empty before the first evaluation."""
        if not self.history:
            return {}
        values = {}
        for name in SCALARS:
            if name in self.history[-1]:
                values[f"val/{name}"] = values[f"hp/{name}_final"] = float(self.history[-1][name])
            best = _best(name, self.history)
            if best is not None:
                values[f"hp/{name}_best"] = best
        return values

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
        for name in SCALARS:  # the HParams summary's best values, as they improve
            if name in values and _best(name, self.history) != _best(name, self.history[:-1]):
                scalars[f"hp/{name}_best"] = _best(name, self.history)
        for logger in trainer.loggers:
            logger.log_metrics(scalars, step=step)
            if isinstance(logger, TensorBoardLogger) and "class_histogram" in values:
                _add_class_histogram(logger, values["class_histogram"], step)
        log.info("step %d: %s", step, ", ".join(f"{k}={v:.4g}" for k, v in scalars.items()))


def _record_protocol(trainer: pl.Trainer, text: str, fields: dict[str, Any] | None = None) -> None:
    """The protocol as TensorBoard text ``val/protocol`` and, as JSON, the run directory's
    :data:`PROTOCOL_FILE`: what the leaderboard compares runs by."""
    for logger in trainer.loggers:
        if isinstance(logger, TensorBoardLogger):
            logger.experiment.add_text("val/protocol", text, 0)
    if fields is not None:
        path = Path(trainer.default_root_dir) / PROTOCOL_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(fields, indent=1) + "\n")


def _best(name: str, history: list[dict[str, Any]]) -> float | None:
    """The best finite value of ``name`` in ``history`` (lowest FID, highest coverage, ...)."""
    values = [float(h[name]) for h in history if name in h and math.isfinite(float(h[name]))]
    return BEST[name](values) if values else None


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
