"""The schedule that evaluation callbacks share: every N generator steps, at the end, optionally at the
start."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
from pytorch_lightning.loggers import TensorBoardLogger

from gan_lightning import log_names
from gan_lightning.rng import untouched_global_rng

PROTOCOL_FILE = "metrics_protocol.json"  # in the run directory: the protocol of its metrics, as JSON


class PeriodicEvaluation(pl.Callback):
    """Calls :meth:`run` every ``every_n_steps`` generator steps (0: never in between), once at the end
    of training unless the last step was just evaluated, and at step 0 when ``at_start``. Subclasses set
    ``every_n_steps`` and ``at_start``, and implement :meth:`run` (which records ``last_step``).

    :meth:`run` and :meth:`setup` (real features, feature nets) leave the global random generators as
    they found them: a run's weights do not depend on when it is evaluated, nor on what was cached."""

    every_n_steps: int = 0
    at_start: bool = False
    last_step: int = -1

    def run(self, trainer: pl.Trainer, pl_module: pl.LightningModule, step: int) -> Any:
        raise NotImplementedError

    def prepare(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        """What a subclass does once before training (Lightning's ``setup``)."""

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        with untouched_global_rng():
            self.prepare(trainer, pl_module, stage)

    def _run(self, trainer: pl.Trainer, pl_module: pl.LightningModule, step: int) -> None:
        with untouched_global_rng():
            self.run(trainer, pl_module, step)

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.at_start and pl_module.steps_done == 0:
            self._run(trainer, pl_module, 0)

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, *args: Any) -> None:
        step = pl_module.steps_done
        if self.every_n_steps > 0 and step % self.every_n_steps == 0:
            self._run(trainer, pl_module, step)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        step = pl_module.steps_done
        if step != self.last_step:
            self._run(trainer, pl_module, step)


class MetricEvaluation(PeriodicEvaluation):
    """A periodic evaluation of metrics (GANMetrics, TranslationMetrics): every evaluation is kept in
    ``history`` (``{"step": s, "<name>": value, ...}``) and summarised for TensorBoard's HParams view as
    ``hp/<name>_final`` and ``hp/<name>_best``, the best being the lowest or the highest value as the
    registry says (:data:`~gan_lightning.log_names.METRICS`; per-direction names such as ``fid_a2b`` go
    by their metric). Values that are no registered metric (``kid_std``, histograms) are left out.
    Subclasses append to ``history`` in :meth:`run` and say in :meth:`scalar_names` what they report."""

    history: list[dict[str, Any]]

    def scalar_names(self) -> tuple[str, ...]:
        """The metrics this run reports, most useful first (known after ``setup``; the HParams view
        lists ``hp/<name>_best`` and ``hp/<name>_final`` of each, TensorBoard shows the first five)."""
        return ()

    def summary(self) -> dict[str, float]:
        """The last evaluation (``val/<name>``, ``hp/<name>_final``) and the best one so far
        (``hp/<name>_best``) of every metric evaluated; empty before the first evaluation."""
        if not self.history:
            return {}
        values = {}
        for name in _metric_names(self.history):
            if name in self.history[-1]:
                values[f"val/{name}"] = values[f"hp/{name}_final"] = float(self.history[-1][name])
            best = best_value(name, self.history)
            if best is not None:
                values[f"hp/{name}_best"] = best
        return values

    def record_protocol(self, trainer: pl.Trainer, text: str, fields: dict[str, Any] | None = None) -> None:
        """State the protocol (on rank 0): TensorBoard text ``val/protocol`` and, when given as
        ``fields``, the run directory's :data:`PROTOCOL_FILE` (JSON): what the leaderboard compares
        runs by."""
        if not trainer.is_global_zero:
            return
        for logger in trainer.loggers:
            if isinstance(logger, TensorBoardLogger):
                logger.experiment.add_text("val/protocol", text, 0)
        if fields is not None:
            path = Path(trainer.default_root_dir) / PROTOCOL_FILE
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(fields, indent=1) + "\n")

    def improved(self) -> dict[str, float]:
        """``hp/<name>_best`` of the metrics whose best value the last evaluation changed: logged as they
        improve, so that the HParams view has them even when a run stops early."""
        if not self.history:
            return {}
        improved = {}
        for name in _metric_names(self.history[-1:]):
            best = best_value(name, self.history)
            if best != best_value(name, self.history[:-1]):
                improved[f"hp/{name}_best"] = best
        return improved


def best_value(name: str, history: list[dict[str, Any]]) -> float | None:
    """The best finite value of metric ``name`` in ``history`` (the lowest FID, the highest coverage or
    content_acc_a2b, ...), None when it has none."""
    values = [float(h[name]) for h in history if name in h and math.isfinite(float(h[name]))]
    if not values:
        return None
    return min(values) if log_names.lower_is_better(name) else max(values)


def _metric_names(history: list[dict[str, Any]]) -> list[str]:
    """The registered metrics that appear in ``history``, in the order they first appear."""
    names = dict.fromkeys(name for entry in history for name in entry)
    return [name for name in names if log_names.metric_of(name) is not None]
