"""Finding the jobs of a run or sweep directory and reading what each one left on disk.

Nothing here raises on a bad job: what cannot be read becomes a note on that job (``Job.problems``) and,
when it decides the outcome, its status (``failed`` with a reason).
"""

from __future__ import annotations

import contextlib
import re
import struct
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c

from gan_lightning import log_names

# The metrics (``val/<name>``) and whether a lower value is better: the one registry, in log_names.
METRICS = log_names.METRICS
CURVES = (*log_names.MAIN_LOSSES, *log_names.D_OUTPUTS)
RUN_MARKERS = (".hydra", "tensorboard", "train.log", "checkpoints", "samples")
ERROR_LINE = re.compile(r"\]\[(?:ERROR|CRITICAL)\] - (.*)")
REPORT_FILE = re.compile(r"report(\.md|\.csv|_.*\.png)")
STEP_FILE = re.compile(r"step_?(\d+)\.(?:png|ckpt)$")
TEXT_SUFFIX = "/text_summary"  # the tag suffix of TensorBoard's text summaries (add_text)


@dataclass
class Job:
    """One training run: where it is, what was typed for it, what it logged and how it ended."""

    path: Path
    name: str  # path relative to the report's directory ("." for a single run)
    overrides: list[str] | None = None  # None: unknown (no readable .hydra/overrides.yaml)
    config: dict = field(default_factory=dict)
    curves: dict[str, list[tuple[int, float]]] = field(default_factory=dict)  # tag -> [(step, value)]
    wall_times: dict[str, list[float]] = field(default_factory=dict)  # tag -> the curve's points' times
    start_time: float | None = None  # the first event's wall time (s since the epoch)
    texts: dict[str, str] = field(default_factory=dict)  # text summaries, e.g. val/protocol -> its text
    steps: int = 0  # generator steps reached
    wall_time_s: float | None = None
    last_sample: Path | None = None
    status: str = "running"  # ok | running | failed
    reason: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def params(self) -> dict[str, str]:
        """The overrides as ``{key: value}`` (``~key`` deletions have the value ``<deleted>``)."""
        return dict(split_override(o) for o in self.overrides or [])

    def last(self, tag: str) -> float | None:
        points = self.curves.get(tag)
        return points[-1][1] if points else None

    def timed(self, tag: str) -> list[tuple[int, float, float]]:
        """``[(step, minutes since the run's first event, value), ...]`` of a curve."""
        points, times = self.curves.get(tag, []), self.wall_times.get(tag, [])
        start = self.start_time if self.start_time is not None else min(times, default=0.0)
        return [(step, (t - start) / 60, v) for (step, v), t in zip(points, times, strict=True)]

    def best(self, metric: str) -> tuple[float, int] | None:
        """(value, step) of the best ``val/<metric>``: the lowest where lower is better (fid, kid, ppl,
        cycle_l1, ...: :data:`~gan_lightning.log_names.METRICS`), else the highest."""
        points = self.curves.get(f"val/{metric}")
        if not points:
            return None
        pick = min if log_names.lower_is_better(metric) else max
        step, value = pick(points, key=lambda p: p[1])
        return value, step


def present_metrics(jobs: list[Job]) -> list[str]:
    """The metrics that at least one job logged (``fid``, ``kid``, ..., ``fid_a2b``, ``fid_b2a``, ...),
    in the registry's order, each metric's directions together."""
    names = {
        tag.removeprefix("val/")
        for job in jobs
        for tag, points in job.curves.items()
        if points and tag.startswith("val/") and log_names.metric_of(tag.removeprefix("val/"))
    }
    return sorted(names, key=log_names.metric_order)


def split_override(override: str) -> tuple[str, str]:
    """``"model.z_dim=8"`` -> ``("model.z_dim", "8")``; ``"+a=1"`` -> ``("a", "1")``."""
    key, sep, value = override.partition("=")
    if key.startswith("~"):
        return key[1:], "<deleted>"
    return key.lstrip("+"), value if sep else ""


def is_run_dir(path: Path) -> bool:
    return path.is_dir() and any((path / marker).exists() for marker in RUN_MARKERS)


def natural_key(path: Path) -> list:
    """Sort job folders 0, 1, 2, ..., 10 rather than 0, 1, 10, 2."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.as_posix())]


def find_jobs(root: Path, depth: int = 3) -> list[Path]:
    """The run directories in ``root``: itself, its job folders (a sweep), or runs further down.

    In a sweep (``multirun.yaml``), every numbered folder is a job even before it holds anything.
    """
    sweep = (root / "multirun.yaml").exists()  # first: a sweep may hold a leaderboard's tensorboard/
    if is_run_dir(root) and not sweep:
        return [root]
    children = sorted((p for p in root.iterdir() if p.is_dir()), key=natural_key)
    if sweep:
        return [p for p in children if is_run_dir(p) or p.name.isdigit()]
    if depth <= 1:
        return [p for p in children if is_run_dir(p)]
    # Runs and sweeps side by side (e.g. one conditional model beside a sweep of per-class models).
    return [job for child in children for job in find_jobs(child, depth - 1)]


def read_job(path: Path, root: Path, stale_after_s: float = 600.0) -> Job:
    """Everything the report needs about the run in ``path``; never raises."""
    name = path.relative_to(root).as_posix() if path != root else "."
    job = Job(path=path, name=name)
    try:
        _read_hydra(job)
        _read_events(job)
        _read_files(job)
        _decide_status(job, stale_after_s)
    except Exception as err:  # a job we cannot make sense of must not stop the report
        job.status, job.reason = "failed", f"unreadable: {type(err).__name__}: {err}"
    return job


def _read_hydra(job: Job) -> None:
    hydra_dir = job.path / ".hydra"
    if not hydra_dir.is_dir():
        job.problems.append("no .hydra/ folder: overrides and config unknown")
        return
    for filename, attr, kind in (("overrides.yaml", "overrides", list), ("config.yaml", "config", dict)):
        file = hydra_dir / filename
        try:
            value = yaml.safe_load(file.read_text()) or kind()
        except (OSError, yaml.YAMLError) as err:
            job.problems.append(f"cannot read .hydra/{filename}: {type(err).__name__}")
            continue
        if isinstance(value, kind):
            setattr(job, attr, [str(v) for v in value] if kind is list else value)
        else:
            job.problems.append(f".hydra/{filename} is not a YAML {kind.__name__}")


def _read_events(job: Job) -> None:
    files = sorted((job.path / "tensorboard").rglob("events.out.tfevents.*"))
    if not files:
        job.problems.append("no TensorBoard event file")
        return
    for file in files:
        problem = check_event_file(file)
        if problem:
            job.problems.append(f"{file.relative_to(job.path)}: {problem}, nothing after it is read")
    first_times, last_times = [], []
    for folder in sorted({f.parent for f in files}):  # one accumulator per folder (resumed runs append)
        events = EventAccumulator(str(folder), size_guidance={"scalars": 0, "images": 1, "tensors": 1})
        events.Reload()
        timed: dict[str, list[tuple[int, float, float]]] = {}
        for tag in events.Tags()["scalars"]:
            scalars = events.Scalars(tag)
            name = log_names.RENAMED.get(tag, tag)
            timed.setdefault(name, []).extend((s.step, s.wall_time, s.value) for s in scalars)
            last_times.append(scalars[-1].wall_time)
        for name, points in timed.items():
            job.curves.setdefault(name, []).extend((step, value) for step, _, value in points)
            job.wall_times.setdefault(name, []).extend(time for _, time, _ in points)
        for tag in events.Tags().get("tensors", []):
            if tag.endswith(TEXT_SUFFIX):
                text = events.Tensors(tag)[-1].tensor_proto.string_val
                job.texts[tag.removesuffix(TEXT_SUFFIX)] = text[0].decode(errors="replace") if text else ""
        with contextlib.suppress(ValueError):  # raised when no event at all could be read
            first_times.append(events.FirstEventTimestamp())
    for name, points in job.curves.items():
        order = sorted(range(len(points)), key=lambda i: points[i][0])
        job.curves[name] = [points[i] for i in order]
        job.wall_times[name] = [job.wall_times[name][i] for i in order]
    if first_times:
        job.start_time = min(first_times)
    if first_times and last_times:
        job.wall_time_s = max(last_times) - min(first_times)


def check_event_file(path: Path) -> str | None:
    """What is wrong with a TFRecord event file, or None: bad framing, checksums, a truncated tail.

    TensorBoard's reader stops silently at the first bad record, so a damaged file would otherwise
    look like a run that logged less.
    """
    size = path.stat().st_size
    with path.open("rb") as f:
        offset = 0
        while header := f.read(12):
            if len(header) < 12:
                return f"truncated record at byte {offset}"
            if masked_crc32c(header[:8]) != struct.unpack("<I", header[8:])[0]:
                return f"corrupt (bad record header at byte {offset})"
            length = struct.unpack("<Q", header[:8])[0]
            if offset + 12 + length + 4 > size:
                return f"truncated record at byte {offset}"
            data, (crc,) = f.read(length), struct.unpack("<I", f.read(4))
            if masked_crc32c(data) != crc:
                return f"corrupt (bad record checksum at byte {offset})"
            offset += 12 + length + 4
    return None


def _read_files(job: Job) -> None:
    """Steps reached, the last sample grid, and the wall time when no event says it."""
    # Lightning logs training scalars at the number of batches done before this one: step s means s + 1
    # generator steps. Metrics, sample grids and step checkpoints are named after the steps done.
    steps = [points[-1][0] + 1 for tag, points in job.curves.items() if tag in CURVES and points]
    steps += [points[-1][0] for tag, points in job.curves.items() if tag.startswith("val/") and points]
    samples = sorted(
        (int(m.group(1)), p) for p in (job.path / "samples").glob("*.png") if (m := STEP_FILE.search(p.name))
    )
    if samples:
        job.last_sample = samples[-1][1]
        steps.append(samples[-1][0])
    steps += [
        int(m.group(1))
        for p in (job.path / "checkpoints").glob("step*.ckpt")
        if (m := STEP_FILE.search(p.name))
    ]
    job.steps = max(steps, default=0)
    if job.wall_time_s is None or any("tfevents" in p for p in job.problems):  # events say nothing sure
        times = [p.stat().st_mtime for p in _entries(job.path) if p.is_file()]
        hydra_config = job.path / ".hydra" / "config.yaml"
        if times and hydra_config.exists():
            job.wall_time_s = max(times) - hydra_config.stat().st_mtime


def _entries(path: Path) -> list[Path]:
    """Everything under a run folder but a report written into it (which is not the run's activity)."""
    return [p for p in path.rglob("*") if not (p.parent == path and REPORT_FILE.fullmatch(p.name))]


def job_error(path: Path) -> str | None:
    """Why the run in ``path`` crashed, or None: the first line of the ``FAILED`` file a failed sweep job
    leaves (``gan_lightning.sweeps``), else the last exception or ERROR line of ``train.log``."""
    failed = path / "FAILED"
    if failed.is_file():
        first = failed.read_text(errors="replace").strip().splitlines()
        return first[0] if first else "FAILED"
    log_file = path / "train.log"
    if not log_file.is_file():
        return None
    lines = log_file.read_text(errors="replace").splitlines()
    error = None
    for i, line in enumerate(lines):
        if line.startswith("Traceback (most recent call last)"):
            tail = [t for t in lines[i + 1 :] if t.strip()]
            # The exception line is the first unindented line after the traceback's frames.
            error = next((t for t in tail if not t.startswith((" ", "\t"))), "Traceback")
        elif match := ERROR_LINE.search(line):
            error = match.group(1).removeprefix("This job failed: ")
    return error


def _target_steps(job: Job) -> int | None:
    trainer = job.config.get("trainer") if isinstance(job.config, dict) else None
    max_steps = trainer.get("max_steps") if isinstance(trainer, dict) else None
    return max_steps if isinstance(max_steps, int) and max_steps > 0 else None


def _decide_status(job: Job, stale_after_s: float) -> None:
    error = job_error(job.path)
    if error:
        job.status, job.reason = "failed", error
        return
    has_data = any(points for points in job.curves.values())
    corrupt = [p for p in job.problems if "corrupt" in p or "truncated" in p]
    # Not the job folder's own time, which a report written into it changes, unless it is empty: new.
    newest = max((p.stat().st_mtime for p in _entries(job.path)), default=job.path.stat().st_mtime)
    active = time.time() - newest < stale_after_s
    target = _target_steps(job)
    if target and job.steps >= target:
        job.status = "ok"
    elif active:
        job.status, job.reason = "running", "" if has_data else "no data yet"
    elif not has_data:
        job.status = "failed"
        job.reason = corrupt[0] if corrupt else "no training data logged (no TensorBoard scalars)"
    elif target:
        job.status = "failed"
        job.reason = f"stopped at step {job.steps} of {target} with no error in train.log (killed?)"
    else:
        job.status = "ok"  # trained for epochs: no step target to compare with
    # A truncated last record is what a run still writing looks like; only report it for a stopped one.
    if active:
        job.problems = [p for p in job.problems if "truncated" not in p]


def swept_keys(jobs: list[Job]) -> list[str]:
    """Override keys whose value is not the same in every job (in the order they were typed).

    Jobs whose overrides are unknown are left out.
    """
    known = [job for job in jobs if job.overrides is not None]
    keys: dict[str, None] = {}
    for job in known:
        keys.update(dict.fromkeys(job.params))
    return [k for k in keys if len({job.params.get(k) for job in known}) > 1]


def common_overrides(jobs: list[Job]) -> list[str]:
    """Overrides every job shares (typed once for the whole sweep)."""
    known = [job.overrides for job in jobs if job.overrides is not None]
    if not known:
        return []
    shared = set(known[0]).intersection(*known[1:])
    return [o for o in known[0] if o in shared]


def label(job: Job, keys: list[str]) -> str:
    """How a job is named in legends: its folder, then its swept values (or all its overrides)."""
    params = job.params
    if keys:
        text = ", ".join(f"{k}={params[k]}" for k in keys if k in params)
    else:
        text = " ".join(job.overrides or [])
    if job.name == ".":
        return text or "(defaults)"
    return f"{job.name}: {text}" if text else job.name
