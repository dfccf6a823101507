"""The report's table: one row per job, written as CSV (every value) and as Markdown (for reading)."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

from gan_lightning import log_names
from gan_lightning.report.runs import Job, common_overrides, present_metrics


def rows(jobs: list[Job], keys: list[str]) -> list[dict[str, object]]:
    """One dict per job, with the same keys in the same order: the CSV's columns."""
    metrics = present_metrics(jobs)
    table = []
    for job in jobs:
        params = job.params
        row: dict[str, object] = {
            "job": job.name,
            "status": job.status,
            "reason": job.reason,
            "problems": "; ".join(job.problems),
            "overrides": " ".join(job.overrides) if job.overrides is not None else "",
        }
        row.update({key: params.get(key, "") for key in keys})
        row.update(
            steps=job.steps,
            wall_time_s=round(job.wall_time_s, 1) if job.wall_time_s is not None else "",
            d_loss=_blank(job.last(log_names.D_LOSS)),
            g_loss=_blank(job.last(log_names.G_LOSS)),
        )
        for metric in metrics:
            best = job.best(metric)
            row[f"{metric}_final"] = _blank(job.last(f"val/{metric}"))
            row[f"{metric}_best"] = best[0] if best else ""
            row[f"{metric}_best_step"] = best[1] if best else ""
        table.append(row)
    return table


def _blank(value: float | None) -> object:
    return "" if value is None else value


def write_csv(table: list[dict[str, object]], path: Path) -> Path:
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(table[0]))
        writer.writeheader()
        writer.writerows(table)
    return path


def write_markdown(
    root: Path, jobs: list[Job], keys: list[str], plots: list[tuple[str, str]], path: Path
) -> Path:
    """``report.md``: a summary line, the table, then the plots.

    ``plots`` holds ``(title, PNG file name)`` pairs, or ``(title, why it is missing)``.
    """
    counts = {s: sum(job.status == s for job in jobs) for s in ("ok", "running", "failed")}
    lines = [
        f"# Report: {root}",
        "",
        f"Generated {datetime.now():%Y-%m-%d %H:%M} by `python -m gan_lightning.report`. "
        f"{len(jobs)} job{'s' * (len(jobs) != 1)}: "
        + ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        + ".",
        "",
    ]
    shared = common_overrides(jobs)
    if len(jobs) > 1 and shared:
        lines += ["Overrides of every job: " + " ".join(f"`{o}`" for o in shared), ""]
    if keys:
        lines += ["Swept: " + ", ".join(f"`{k}`" for k in keys), ""]
    lines += _markdown_table(jobs, keys)
    lines += [
        "",
        _best_note(present_metrics(jobs)) + "Steps are generator steps. `report.csv` holds every value.",
    ]
    for title, file in plots:
        lines += ["", f"## {title}", "", f"![{title}]({file})" if file.endswith(".png") else f"({file})"]
    path.write_text("\n".join(lines) + "\n")
    return path


def _best_note(metrics: list[str]) -> str:
    """Which way each present metric is better (from the registry), e.g. ``Best = lowest fid / kid,
    highest domain_acc (at step).`` (directions of one metric named once)."""
    names = list(dict.fromkeys(log_names.metric_of(m) for m in metrics))
    lowest = [n for n in names if log_names.METRICS[n]]
    highest = [n for n in names if not log_names.METRICS[n]]
    parts = [
        f"{word} {' / '.join(group)}" for word, group in (("lowest", lowest), ("highest", highest)) if group
    ]
    note = f"Best = {', '.join(parts)} (at step). " if parts else ""
    if any(log_names.metric_of(m) != m for m in metrics):
        note += "Per direction: `_a2b` translates A to B (judged against B), `_b2a` B to A. "
    return note


def _markdown_table(jobs: list[Job], keys: list[str]) -> list[str]:
    metrics = present_metrics(jobs)
    header = ["job", *keys] if keys or len(jobs) > 1 else ["overrides"]
    header += ["status", "steps", "wall time", "D loss", "G loss"]
    for metric in metrics:
        header += [f"{metric} final", f"{metric} best"]
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for job in jobs:
        params = job.params
        if keys or len(jobs) > 1:
            cells = [job.name, *(params.get(key, "?" if job.overrides is None else "") for key in keys)]
        else:
            cells = [" ".join(f"`{o}`" for o in job.overrides or []) or "(defaults)"]
        cells += [
            _status_cell(job),
            str(job.steps),
            duration(job.wall_time_s),
            number(job.last(log_names.D_LOSS)),
            number(job.last(log_names.G_LOSS)),
        ]
        for metric in metrics:
            best = job.best(metric)
            cells += [
                number(job.last(f"val/{metric}")),
                f"{number(best[0])} (@{best[1]})" if best else "",
            ]
        out.append("| " + " | ".join(escape(c) for c in cells) + " |")
    return out


def _status_cell(job: Job) -> str:
    text = f"**{job.status}**"
    if job.reason:
        text += f": {job.reason}"
    if job.problems:
        text += " (" + "; ".join(job.problems) + ")"
    return text


def number(value: float | None) -> str:
    """A value with 4 significant digits, empty for None."""
    return "" if value is None else f"{value:.4g}"


def duration(seconds: float | None) -> str:
    """``1h 02m``, ``3m 05s`` or ``4.2s``; empty for None."""
    if seconds is None:
        return ""
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s" if minutes else f"{seconds:.1f}s"


def escape(cell: str) -> str:
    """A Markdown table cell: pipes escaped, on one line."""
    return cell.replace("|", "\\|").replace("\n", " ")
