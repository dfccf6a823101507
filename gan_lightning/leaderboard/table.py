"""The leaderboard's tables: entries gathered into rows (a model's seeds, a path), rows into sections of
one protocol each (rows of different protocols are never ranked together), each section ranked by the
mean of ``rank_by``; written as ``leaderboard.csv`` (a row per row), ``leaderboard_runs.csv`` (a row
per run) and Markdown."""

from __future__ import annotations

import csv
import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from gan_lightning import log_names
from gan_lightning.errors import ConfigError
from gan_lightning.leaderboard.runs import Entry
from gan_lightning.log_names import DIRECTIONS, lower_is_better, metric_of, metric_order
from gan_lightning.report.tables import escape, number


def check_rank_by(name: str) -> None:
    """``rank_by`` must name a metric of :data:`~gan_lightning.log_names.METRICS` (one direction of a
    translation metric too: ``fid_a2b``)."""
    if metric_of(name) is None:
        known = ", ".join(log_names.METRICS)
        raise ConfigError(f"rank_by={name} is not a metric; choose from {known} (or one with _a2b / _b2a).")


@dataclass
class Stat:
    """A metric over a row's runs: mean, sample standard deviation (n - 1; None for one run), count."""

    mean: float
    std: float | None
    n: int

    @classmethod
    def of(cls, values: list[float]) -> Stat | None:
        if not values:
            return None
        return cls(
            statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else None, len(values)
        )

    def __str__(self) -> str:
        return number(self.mean) + (f" ± {number(self.std)}" if self.std is not None else "")


@dataclass
class Row:
    """A model's runs (or one path's samples), measured with one protocol."""

    name: str
    source: str
    protocol: str | None
    entries: list[Entry] = field(default_factory=list)
    rank: int | None = None

    @property
    def scored(self) -> list[Entry]:
        return [e for e in self.entries if e.values]

    @property
    def protocol_fields(self) -> dict | None:
        return next((e.protocol_fields for e in self.scored if e.protocol_fields), None)

    def stat(self, metric: str) -> Stat | None:
        """The metric over the scored entries; a metric with directions (``fid``: ``fid_a2b``,
        ``fid_b2a``) is the mean of its directions in each entry."""
        return Stat.of([v for e in self.scored if (v := entry_value(e, metric)) is not None])

    def mean_of(self, attribute: str) -> float | None:
        values = [getattr(e, attribute) for e in self.scored if getattr(e, attribute) is not None]
        return statistics.fmean(values) if values else None


def entry_value(entry: Entry, metric: str) -> float | None:
    """The entry's ``metric``, or the mean of its directions ``<metric>_a2b`` and ``<metric>_b2a``."""
    if metric in entry.values:
        return entry.values[metric]
    both = [entry.values.get(f"{metric}_{d}") for d in DIRECTIONS]
    return statistics.fmean(both) if None not in both else None


@dataclass
class Section:
    """Rows measured with one protocol, ranked among themselves."""

    protocol: str | None
    rows: list[Row]

    def metrics(self) -> list[str]:
        """The metric columns: every metric a row has (its seeds' spread aside), in a fixed order."""
        names = {m for row in self.rows for e in row.scored for m in e.values if metric_of(m) is not None}
        return sorted(names, key=metric_order)


def build_sections(entries: list[Entry], rank_by: str) -> list[Section]:
    """Rows (entries sharing their row name and protocol) in sections of one protocol, in the order
    the protocols first appear, each section ranked by ``rank_by`` (rows without it last, unranked)."""
    rows: dict[tuple[str, str | None], Row] = {}
    for entry in sorted(entries, key=lambda e: not e.values):  # the scored first: they make the rows
        key = (entry.row, entry.protocol) if entry.values else (entry.row, None)
        if not entry.values and any(k[0] == entry.row for k in rows):
            key = next(k for k in rows if k[0] == entry.row)  # a failed run is noted in its model's row
        rows.setdefault(key, Row(entry.row, entry.source, key[1])).entries.append(entry)
    sections: list[Section] = []
    unknown = Section(None, [])
    for row in rows.values():
        if row.protocol is None:
            unknown.rows.append(row)
            continue
        section = next((s for s in sections if comparable(s.rows[0], row)), None)
        if section is None:
            sections.append(Section(row.protocol, [row]))
        else:
            section.rows.append(row)
    sections += [unknown] if unknown.rows else []
    for section in sections:
        rank(section.rows, rank_by)
    return sections


#: what makes two image protocols the same (the chosen metrics and their own settings aside)
CORE = ("extractor", "n_fake", "n_real", "reference", "source")


def comparable(a: Row, b: Row) -> bool:
    """Whether two rows were measured alike: the same extractor, image counts, reference set and copy
    of the data, and equal settings where both have them (``pr_k`` of precision, ...); for protocols
    recorded only as text (translation, toy data, older runs), the same text."""
    fields_a, fields_b = a.protocol_fields, b.protocol_fields
    if fields_a is None or fields_b is None:
        return a.protocol == b.protocol
    settings_a, settings_b = fields_a.get("settings") or {}, fields_b.get("settings") or {}
    shared = settings_a.keys() & settings_b.keys()
    return all(fields_a.get(k) == fields_b.get(k) for k in CORE) and all(
        settings_a[k] == settings_b[k] for k in shared
    )


def rank(rows: list[Row], rank_by: str) -> None:
    """Sort ``rows`` by the mean of ``rank_by`` (best first) and number them; equal means share a
    rank (1, 2, 2, 4)."""
    sign = 1 if lower_is_better(rank_by) else -1
    keyed = [(row, row.stat(rank_by)) for row in rows]
    keyed.sort(key=lambda item: (item[1] is None, sign * item[1].mean if item[1] else 0.0))
    rows[:] = [row for row, _ in keyed]
    previous = None
    for position, (row, stat) in enumerate(keyed, start=1):
        if stat is None or not math.isfinite(stat.mean):
            row.rank = None
            continue
        row.rank = previous[1] if previous and previous[0] == stat.mean else position
        previous = (stat.mean, row.rank)


def csv_rows(sections: list[Section], rank_by: str) -> list[dict[str, object]]:
    """``leaderboard.csv``: a row per row, every metric's mean, std and count."""
    metrics = list(dict.fromkeys([rank_by, *(m for s in sections for m in s.metrics())]))
    table = []
    for number_, section in enumerate(sections, start=1):
        for row in section.rows:
            line: dict[str, object] = {
                "section": number_, "protocol": section.protocol or "", "rank": row.rank or "",
                "name": row.name, "source": row.source, "runs": len(row.scored),
                "runs_failed": len(row.entries) - len(row.scored),
            }  # fmt: skip
            for metric in metrics:
                stat = row.stat(metric)
                line[f"{metric}_mean"] = stat.mean if stat else ""
                line[f"{metric}_std"] = stat.std if stat and stat.std is not None else ""
                line[f"{metric}_n"] = stat.n if stat else 0
            steps, minutes = row.mean_of("steps"), row.mean_of("minutes")
            line["steps_mean"] = steps if steps is not None else ""
            line["minutes_mean"] = round(minutes, 3) if minutes is not None else ""
            line["problems"] = "; ".join(f"{e.path}: {e.problem}" for e in row.entries if e.problem)
            table.append(line)
    return table


def run_rows(entries: list[Entry]) -> list[dict[str, object]]:
    """``leaderboard_runs.csv``: a row per run or sample source, with its own values."""
    metrics = sorted({m for e in entries for m in e.values})
    return [
        {
            "name": e.row,
            "source": e.source,
            "path": str(e.path),
            "seed": "" if e.seed is None else e.seed,
            "steps": "" if e.steps is None else e.steps,
            "minutes": "" if e.minutes is None else round(e.minutes, 3),
            "problem": e.problem,
            "protocol": e.protocol or "",
            **{m: e.values.get(m, "") for m in metrics},
        }  # fmt: skip
        for e in entries
    ]


def write_csv(table: list[dict[str, object]], path: Path) -> Path:
    """A CSV with the union of the rows' keys as columns."""
    columns = list(dict.fromkeys(k for line in table for k in line))
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows(table)
    return path


def markdown_table(section: Section, rank_by: str) -> list[str]:
    """A section's table: rank, name, runs, each metric's mean ± std, steps and minutes, problems."""
    metrics = list(dict.fromkeys([m for m in [rank_by] if any(r.stat(m) for r in section.rows)]
                                 + section.metrics()))  # fmt: skip
    header = ["rank", "name", "runs", *metrics, "steps", "minutes", "notes"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in section.rows:
        stats = [row.stat(m) for m in metrics]
        steps, minutes = row.mean_of("steps"), row.mean_of("minutes")
        notes = "; ".join(f"{e.path.name if e.source != 'samples' else ''} {e.problem}".strip()
                          for e in row.entries if e.problem)  # fmt: skip
        cells = [
            str(row.rank) if row.rank else "-", row.name, f"{len(row.scored)}/{len(row.entries)}",
            *(str(s) if s else "" for s in stats),
            "" if steps is None else f"{steps:.0f}", "" if minutes is None else f"{minutes:.1f}", notes,
        ]  # fmt: skip
        lines.append("| " + " | ".join(escape(c) for c in cells) + " |")
    return lines
