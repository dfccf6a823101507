"""The leaderboard's figure: a metric's curve of every run against generator steps and against
wall-clock minutes (a colour per row, a line style per seed), from the runs' ``val/*`` scalars."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from gan_lightning.leaderboard.runs import by_seed  # noqa: E402
from gan_lightning.leaderboard.table import Section  # noqa: E402
from gan_lightning.log_names import DIRECTIONS  # noqa: E402
from gan_lightning.report.plots import colors, save_figure, wrap  # noqa: E402

STYLES = ("-", "--", ":", "-.")


def curve_tags(section: Section, metric: str) -> list[str]:
    """``val/<metric>``, or its directions' tags, that a run of the section logged."""
    runs = [e.job for row in section.rows for e in row.entries if e.job is not None]
    for tags in ([f"val/{metric}"], [f"val/{metric}_{d}" for d in DIRECTIONS]):
        if any(job.curves.get(tag) for job in runs for tag in tags):
            return tags
    return []


def plot_section_curves(section: Section, metric: str, path: Path) -> Path | None:
    """The curves of ``metric`` in one section: a row of panels per tag, steps left, minutes right;
    None when no run logged it."""
    tags = curve_tags(section, metric)
    if not tags:
        return None
    rows = [row for row in section.rows if any(e.job is not None for e in row.entries)]
    fig, axes = plt.subplots(len(tags), 2, figsize=(11, 3.8 * len(tags)), squeeze=False)
    handles, labels = [], []
    for row, color in zip(rows, colors(len(rows)), strict=True):
        runs = by_seed([e for e in row.entries if e.job is not None])
        for i, entry in enumerate(runs):
            for k, (panels, tag) in enumerate(zip(axes, tags, strict=True)):
                points = entry.job.timed(tag)
                if not points:
                    continue
                steps, minutes, values = zip(*points, strict=True)
                style = STYLES[i % len(STYLES)]
                marker = "." if len(points) < 30 else ""
                (line,) = panels[0].plot(steps, values, style, color=color, marker=marker)
                panels[1].plot(minutes, values, style, color=color, marker=marker)
                if i == 0 and k == 0:
                    handles.append(line)
                    labels.append(wrap(row.name))
    for panels, tag in zip(axes, tags, strict=True):
        panels[0].set(title=f"{tag} against generator steps", xlabel="generator step", ylabel=tag)
        panels[1].set(title=f"{tag} against wall-clock", xlabel="minutes since the run's start", ylabel=tag)
        panels[0].xaxis.set_major_locator(MaxNLocator(integer=True))
        for ax in panels:
            ax.grid(alpha=0.3)
    fig.suptitle(f"{metric}: one colour per row, one line style per seed")
    return save_figure(fig, path, labels, handles)
