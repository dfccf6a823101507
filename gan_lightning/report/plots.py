"""The report's figures (matplotlib, Agg): curves of every job overlaid, metrics against each swept
hyperparameter, and the last sample grid of every job side by side."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402
from PIL import Image  # noqa: E402

from gan_lightning import log_names  # noqa: E402
from gan_lightning.report.runs import Job, present_metrics  # noqa: E402

PANELS_PER_ROW = 4
TITLES = {
    log_names.D_LOSS: "D loss",
    log_names.G_LOSS: "G loss",
    log_names.D_REAL: "D(x)",
    log_names.D_FAKE_BEFORE_D_STEP: "D(G(z)) before the D step",
    log_names.D_FAKE_AFTER_D_STEP: "D(G(z)) after the D step",
}


def wrap(text: str, width: int = 60) -> str:
    """``text`` broken into lines of ``width`` characters (for legends and titles)."""
    return "\n".join(textwrap.wrap(text, width)) or text


def colors(n: int) -> list:
    """``n`` distinct colours (tab10, tab20, then viridis)."""
    cmap = plt.get_cmap("tab10" if n <= 10 else "tab20" if n <= 20 else "viridis")
    return [cmap(i if n <= 20 else i / max(n - 1, 1)) for i in range(n)]


def save_figure(
    fig: plt.Figure, path: Path, labels: list[str] | None = None, handles: list | None = None
) -> Path:
    """Save with the legend (several jobs) below the axes, then close."""
    bottom = 0.0
    if handles and len(handles) > 1:
        ncol = 1 if max(len(lb) for lb in labels) > 40 else min(3, len(handles))
        rows = -(-len(handles) // ncol) + sum(lb.count("\n") for lb in labels) // ncol
        bottom = min(0.6, 0.3 * rows / fig.get_figheight())
        fig.legend(handles, labels, loc="lower center", ncol=ncol, fontsize="small", frameon=False)
    fig.tight_layout(rect=(0, bottom, 1, 1))
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _panels(n: int, width: float) -> tuple[plt.Figure, list]:
    """A figure of ``n`` panels, at most :data:`PANELS_PER_ROW` a row (translation runs have a panel per
    metric and direction); the unused ones of the last row hidden."""
    ncols = min(n, PANELS_PER_ROW)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, 3.8 * nrows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n])


def plot_curves(jobs: list[Job], labels: list[str], tags: list[str], title: str, path: Path) -> Path | None:
    """One panel per tag, every job's curve in it; None when no job logged any of the tags."""
    tags = [t for t in tags if any(job.curves.get(t) for job in jobs)]
    if not tags:
        return None
    fig, axes = _panels(len(tags), 5)
    handles, names = [], []
    for job, label, color in zip(jobs, labels, colors(len(jobs)), strict=True):
        line = None
        for ax, tag in zip(axes, tags, strict=True):
            if points := job.curves.get(tag):
                (line,) = ax.plot(
                    *zip(*points, strict=True), color=color, marker="." if len(points) < 30 else ""
                )
        if line is not None:
            handles.append(line)
            names.append(wrap(label))
    for ax, tag in zip(axes, tags, strict=True):
        ax.set(title=TITLES.get(tag, tag), xlabel="generator step")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    return save_figure(fig, path, names, handles)


def _axis(values: list[str]) -> tuple[list[float], list[str] | None]:
    """x positions of hyperparameter values: the numbers themselves, or indices of sorted categories."""
    try:
        return [float(v) for v in values], None
    except ValueError:
        categories = sorted(set(values))
        return [float(categories.index(v)) for v in values], categories


def plot_against(jobs: list[Job], key: str, keys: list[str], path: Path) -> Path | None:
    """Each metric (final and best) and the final losses against hyperparameter ``key``.

    Jobs that share the values of the other swept keys are joined by a line, so a 2-D sweep shows one
    line per value of the other key. None when no job has both a value for ``key`` and data.
    """
    jobs = [job for job in jobs if key in job.params and any(job.curves.values())]
    if not jobs:
        return None
    quantities = [(f"{m} (final, best dashed)", m) for m in present_metrics(jobs)]
    quantities += [("final D loss", log_names.D_LOSS), ("final G loss", log_names.G_LOSS)]
    quantities = [(t, q) for t, q in quantities if any(_value(j, q) is not None for j in jobs)]
    if not quantities:
        return None
    x, categories = _axis([job.params[key] for job in jobs])
    others = [k for k in keys if k != key]
    groups: dict[str, list[int]] = {}
    for i, job in enumerate(jobs):
        groups.setdefault(", ".join(f"{k}={job.params.get(k, '-')}" for k in others), []).append(i)
    fig, axes = _panels(len(quantities), 4.5)
    handles = []
    for (group, members), color in zip(groups.items(), colors(len(groups)), strict=True):
        members.sort(key=lambda i: x[i])
        for ax, (_, quantity) in zip(axes, quantities, strict=True):
            for best, style in ((False, "-o"), (True, "--x")):
                if best and log_names.metric_of(quantity) is None:
                    continue
                points = [(x[i], v) for i in members if (v := _value(jobs[i], quantity, best)) is not None]
                if points:
                    (line,) = ax.plot(*zip(*points, strict=True), style, color=color)
                    if not best and ax is axes[0]:
                        handles.append((line, group or key))
    numeric = categories is None and all(v > 0 for v in x)
    for ax, (title, _) in zip(axes, quantities, strict=True):
        ax.set(title=title, xlabel=key)
        if categories is not None:
            ax.set_xticks(range(len(categories)), categories, rotation=30 if len(categories) > 4 else 0)
        elif numeric and max(x) / min(x) >= 100:
            ax.set_xscale("log")
        if categories is None and len(set(x)) <= 8:  # a few swept values: a tick at each
            ticks = sorted({v: job.params[key] for v, job in zip(x, jobs, strict=True)}.items())
            ax.set_xticks([v for v, _ in ticks], [t for _, t in ticks], minor=False)
            ax.minorticks_off()
        ax.grid(alpha=0.3)
    fig.suptitle(f"against {key}")
    return save_figure(fig, path, [wrap(g) for _, g in handles], [h for h, _ in handles])


def _value(job: Job, quantity: str, best: bool = False) -> float | None:
    if log_names.metric_of(quantity) is not None:
        if best:
            found = job.best(quantity)
            return found[0] if found else None
        return job.last(f"val/{quantity}")
    return job.last(quantity)


def plot_samples(jobs: list[Job], labels: list[str], path: Path) -> Path | None:
    """The last sample grid of every job, titled with its label; None when no job wrote one."""
    if not any(job.last_sample for job in jobs):
        return None
    ncols = min(len(jobs), 4)
    nrows = -(-len(jobs) // ncols)
    side = 3.6 if ncols > 1 else 6.0
    fig, axes = plt.subplots(nrows, ncols, figsize=(side * ncols, (side + 1) * nrows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, job, label in zip(axes.flat, jobs, labels, strict=False):
        title = wrap(textwrap.shorten(label, 120, placeholder=" ..."), 45)
        try:
            with Image.open(job.last_sample) as image:  # type: ignore[arg-type]
                ax.imshow(np.asarray(image.convert("RGB")))
            title += f"\n{job.last_sample.name}"  # type: ignore[union-attr]
        except Exception as err:  # no grid, or an unreadable one: say so in its place
            problem = (
                "no sample grid" if job.last_sample is None else f"unreadable grid: {type(err).__name__}"
            )
            ax.text(0.5, 0.5, problem, ha="center", va="center", transform=ax.transAxes)
        ax.set_title(title, fontsize="small")
    return save_figure(fig, path)


def file_name(key: str) -> str:
    """A file-name-safe form of an override key."""
    return re.sub(r"[^\w.-]+", "_", key).strip("_")
