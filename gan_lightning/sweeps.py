"""Sweeps (``-m``): the value a sweeper optimises, and failed jobs that do not stop the others.

A job of a multirun that raises is reported, not propagated: its traceback goes to the job's
``train.log``, a ``FAILED`` file in its run directory holds the error, the job returns ``None`` (an
Optuna trial that returns ``None`` is marked failed) and the sweep goes on. When the sweep is over,
:class:`ReportFailedJobs` (a Hydra callback, see ``conf/hydra/default.yaml``) lists the failed jobs
and exits with code 1.
"""

from __future__ import annotations

import logging
import math
import time
import traceback
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from gan_lightning.errors import ConfigError

log = logging.getLogger(__name__)

FAILED = "FAILED"


def optimized_value(metrics: dict[str, float], name: str | None) -> float | None:
    """The metric named by the config's ``optimized_metric`` (``None`` when that is null).

    A missing or NaN metric is an error: the sweep's job fails (Optuna marks the trial failed)."""
    if not name:
        return None
    if name not in metrics:
        available = ", ".join(sorted(metrics)) or "none"
        raise ConfigError(
            f"optimized_metric={name} was not computed by this run. Available: {available}. "
            "(FID needs a classifier: python -m gan_lightning.classifier data=...)"
        )
    if math.isnan(metrics[name]):
        raise FloatingPointError(f"optimized_metric={name} is NaN.")
    return metrics[name]


def report_failed_job(err: BaseException, output_dir: Path) -> None:
    """Log the error of a sweep's job (with its traceback unless it is a user error) and leave a
    ``FAILED`` file in the job's run directory."""
    if _is_user_error(err):
        log.error("This job failed: %s: %s", type(err).__name__, err)
    else:
        log.error("This job failed: %s: %s", type(err).__name__, err, exc_info=err)
    details = "".join(traceback.format_exception(type(err), err, err.__traceback__))
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        (output_dir / FAILED).write_text(f"{type(err).__name__}: {err}\n\n{details}")
    except OSError as write_err:  # e.g. the disk is full: the log line above still reports the job
        log.error("Could not write %s: %s", output_dir / FAILED, write_err)


def _is_user_error(err: BaseException) -> bool:
    """Errors with a message for the user (gan_lightning.errors, a NaN loss): no traceback needed."""
    return isinstance(err, FloatingPointError) or type(err).__module__ == "gan_lightning.errors"


class ReportFailedJobs(Callback):
    """At the end of a multirun, list the jobs that left a ``FAILED`` file and exit with code 1."""

    def __init__(self) -> None:
        self.start = time.time()

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        self.start = time.time()

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        failed = sorted(
            (p for p in sweep_dir.rglob(FAILED) if p.stat().st_mtime >= self.start - 1),
            key=lambda p: str(p),
        )
        if not failed:
            return
        lines = [f"{len(failed)} job(s) of the sweep failed:"]
        for marker in failed:
            reason = marker.read_text().splitlines()[0] if marker.stat().st_size else "?"
            lines.append(f"  {marker.parent}: {reason}")
        log.error("\n".join(lines))
        raise SystemExit(1)
