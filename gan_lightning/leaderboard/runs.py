"""What a leaderboard ranks: runs (its own, or finished ones from ``runs=``) read as the report reads
them, and sample files scored with the protocol. Each becomes an :class:`Entry`: its row's name, its
final metric values and the protocol they were measured with (the ``val/protocol`` text every run
logs), steps and minutes reached."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gan_lightning.callbacks.periodic import PROTOCOL_FILE
from gan_lightning.errors import ConfigError
from gan_lightning.metrics.protocol import MetricOptions, Protocol
from gan_lightning.report.runs import Job, find_jobs, read_job, swept_keys
from gan_lightning.scoring import score_samples

PROTOCOL_TAG = "val/protocol"


@dataclass
class Entry:
    """One run, or one sample source, of a row."""

    row: str  # the row it counts in: the model, or a path
    source: str  # "trained" (by this leaderboard), "run" (runs=), "samples" (samples=)
    path: Path
    seed: int | None = None
    values: dict[str, float] = field(default_factory=dict)  # final metrics: fid, kid, fid_a2b, ...
    protocol: str | None = None  # the text of the protocol the values were measured with
    protocol_fields: dict[str, Any] | None = None  # the same, field by field (image metrics only)
    steps: int | None = None  # generator steps reached
    minutes: float | None = None  # wall-clock minutes from the run's first event to its last
    job: Job | None = None  # the run as the report reads it: curves, last sample grid
    problem: str = ""  # why it has no values (failed, no metrics, still running)


def run_entry(job: Job, row: str, source: str) -> Entry:
    """The leaderboard's view of a run that the report read."""
    values = {
        tag[len("val/") :]: points[-1][1] for tag, points in job.curves.items() if tag.startswith("val/")
    }
    values = {k: v for k, v in values.items() if math.isfinite(v)}
    problem = ""
    if job.status != "ok":
        problem = f"{job.status}: {job.reason}" if job.reason else job.status
    elif not values:
        problem = "no metrics logged"
    seed = job.params.get("seed", job.config.get("seed") if isinstance(job.config, dict) else None)
    return Entry(
        row=row,
        source=source,
        path=job.path,
        seed=int(seed) if str(seed).lstrip("-").isdigit() else None,
        values=values if not problem else {},
        protocol=job.texts.get(PROTOCOL_TAG),
        protocol_fields=read_protocol_fields(job.path),
        steps=job.steps,
        minutes=job.wall_time_s / 60 if job.wall_time_s is not None else None,
        job=job,
        problem=problem,
    )


def read_protocol_fields(path: Path) -> dict[str, Any] | None:
    """The protocol a run's metrics callback recorded in its directory (``None``: not recorded)."""
    try:
        fields = json.loads((path / PROTOCOL_FILE).read_text())
    except (OSError, ValueError):
        return None
    return fields if isinstance(fields, dict) else None


def by_seed(entries: list[Entry]) -> list[Entry]:
    """``entries`` by seed, the lowest first (those without one last)."""
    return sorted(entries, key=lambda e: (e.seed is None, e.seed or 0))


def trained_entries(out: Path) -> list[Entry]:
    """The runs this leaderboard trained into its sweep directory ``out``, one row per model."""
    jobs = [read_job(path, out, stale_after_s=0) for path in find_jobs(out)]
    return [run_entry(job, model_name(job), "trained") for job in jobs]


def check_run_paths(paths: list[str]) -> list[Path]:
    """The ``runs=`` directories, each holding at least one run."""
    found = []
    for text in paths:
        path = Path(str(text)).expanduser()
        if not path.is_dir():
            raise ConfigError(f"runs: {path} is not a directory (a training run's or a sweep's).")
        if not find_jobs(path):
            raise ConfigError(f"runs: {path} holds no training run (no .hydra/, tensorboard/, ...).")
        found.append(path)
    return found


def given_run_entries(path: Path) -> list[Entry]:
    """The runs of ``runs=`` entry ``path``: a run, or a sweep whose jobs sharing everything but the seed
    make one row, named ``<model>[, swept values] (<path>)``."""
    jobs = [read_job(p, path) for p in find_jobs(path)]
    keys = [k for k in swept_keys(jobs) if k not in ("seed", "model")]
    entries = []
    for job in jobs:
        swept = ", ".join(f"{k}={job.params[k]}" for k in keys if k in job.params)
        name = model_name(job) + (f", {swept}" if swept else "")
        entries.append(run_entry(job, f"{name} ({path})", "run"))
    return entries


def model_name(job: Job) -> str:
    """The model config a run trained: its override, else Hydra's recorded choice, else the family."""
    if "model" in job.params:
        return job.params["model"]
    try:
        hydra_cfg = yaml.safe_load((job.path / ".hydra" / "hydra.yaml").read_text()) or {}
        choice = hydra_cfg["hydra"]["runtime"]["choices"]["model"]
        if choice:
            return str(choice)
    except (OSError, KeyError, TypeError, yaml.YAMLError):
        pass
    model = job.config.get("model") if isinstance(job.config, dict) else None
    target = model.get("_target_", "") if isinstance(model, dict) else ""
    return target.rsplit(".", 1)[-1] or "?"


def sample_entry(path: str, data: Any, options: MetricOptions, device: Any) -> Entry:
    """Samples scored with the protocol (class_acc left out without labels); the row is the path."""
    result = score_samples(path, data, options, device, explicit_metrics=False)
    protocol = {k: v for k, v in result.pop("protocol").items() if k != "generator"}
    values = {k: float(v) for k, v in result.items() if isinstance(v, float)}
    return Entry(row=str(path), source="samples", path=Path(str(path)), values=values,
                 protocol=str(Protocol(**protocol)), protocol_fields=protocol)  # fmt: skip
