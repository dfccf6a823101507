"""``python -m gan_lightning.report DIR``: a summary of a run or a sweep, written into DIR.

``report.md`` (one row per job: swept values, status, steps, wall time, final losses, final and best
metrics, then the plots), ``report.csv`` (the same table, every value) and ``report_*.png`` (loss and
D-output curves, metrics against each swept hyperparameter, the last sample grid of every job).
"""

from __future__ import annotations

import logging
import re
from functools import partial
from pathlib import Path

from gan_lightning import log_names
from gan_lightning.report import plots
from gan_lightning.report.runs import Job, find_jobs, label, present_metrics, read_job, swept_keys
from gan_lightning.report.tables import rows, write_csv, write_markdown

log = logging.getLogger(__name__)

__all__ = ["NoRunsError", "build_report"]


class NoRunsError(ValueError):
    """The directory holds no training run."""


def build_report(root: Path, out: Path | None = None, stale_after_s: float = 600.0) -> tuple[Path, list[Job]]:
    """Read every job under ``root`` and write the report into ``out`` (default ``root``).

    Returns the path of ``report.md`` and the jobs. A job that cannot be read, or a plot that cannot be
    drawn, is named in the report; only a directory without any run raises (:class:`NoRunsError`).
    """
    root, out = Path(root), Path(out or root)
    paths = find_jobs(root)
    if not paths:
        raise NoRunsError(f"no training run in {root}")
    jobs = [read_job(path, root, stale_after_s) for path in paths]
    keys = swept_keys(jobs)
    labels = [label(job, keys) for job in jobs]
    out.mkdir(parents=True, exist_ok=True)

    curves = {
        "Losses": list(log_names.MAIN_LOSSES),
        "D(x) and D(G(z))": list(log_names.D_OUTPUTS),
        "Metrics during training": [f"val/{m}" for m in present_metrics(jobs)],
    }
    figures = [
        (title, f"report_{name}.png", partial(plots.plot_curves, jobs, labels, tags, title))
        for (title, tags), name in zip(curves.items(), ("losses", "d_outputs", "metrics"), strict=True)
    ]
    figures += [
        (
            f"Against {key}",
            f"report_vs_{plots.file_name(key)}.png",
            partial(plots.plot_against, jobs, key, keys),
        )
        for key in keys
    ]
    figures.append(("Last samples", "report_samples.png", partial(plots.plot_samples, jobs, labels)))

    _remove_old_figures(out)
    written = []
    for title, name, draw in figures:
        try:
            if draw(out / name):
                written.append((title, name))
        except Exception as err:  # one figure failing must not cost the rest of the report
            log.warning("Could not draw %s: %s: %s", name, type(err).__name__, err)
            written.append((title, f"could not draw {name}: {type(err).__name__}: {err}"))
    write_csv(rows(jobs, keys), out / "report.csv")
    return write_markdown(root, jobs, keys, written, out / "report.md"), jobs


def _remove_old_figures(out: Path) -> None:
    """Delete the figures an earlier ``report.md`` here linked to: this report may not draw them all."""
    old = out / "report.md"
    if old.is_file():
        for name in re.findall(r"\]\((report_[^)/]+\.png)\)", old.read_text(errors="replace")):
            (out / name).unlink(missing_ok=True)
