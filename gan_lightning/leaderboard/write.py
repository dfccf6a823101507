"""Writing a leaderboard into its directory: ``leaderboard.md`` (the tables, the curves, a sample grid
per row), ``leaderboard.csv``, ``leaderboard_runs.csv``, ``leaderboard_curves*.png`` and the tables as
TensorBoard text in ``tensorboard/``."""

from __future__ import annotations

import logging
import os
from datetime import datetime
from pathlib import Path

from torch.utils.tensorboard import SummaryWriter

from gan_lightning.leaderboard.plots import plot_section_curves
from gan_lightning.leaderboard.runs import Entry, by_seed
from gan_lightning.leaderboard.table import (
    Section,
    csv_rows,
    markdown_table,
    run_rows,
    write_csv,
)
from gan_lightning.log_names import lower_is_better

log = logging.getLogger(__name__)


def write_leaderboard(out: Path, sections: list[Section], entries: list[Entry], rank_by: str,
                      intro: list[str]) -> Path:  # fmt: skip
    """Write every file; return the path of ``leaderboard.md``. ``intro``: lines saying what was run."""
    out.mkdir(parents=True, exist_ok=True)
    write_csv(csv_rows(sections, rank_by), out / "leaderboard.csv")
    write_csv(run_rows(entries), out / "leaderboard_runs.csv")
    better = "lower" if lower_is_better(rank_by) else "higher"
    lines = [
        f"# Leaderboard: {out}",
        "",
        f"Generated {datetime.now():%Y-%m-%d %H:%M} by `python -m gan_lightning.leaderboard`.",
        *intro,
        "",
        f"Ranked by **{rank_by}** ({better} is better; with directions a2b and b2a, their mean). Each value "
        "is the mean over a row's runs ± their sample standard deviation (n - 1), at the runs' last "
        "evaluation. Steps: generator steps reached; minutes: wall-clock from a run's first logged event to "
        "its last (evaluations included). Runs measured with different protocols are never ranked "
        "together: each protocol has its own table. `leaderboard.csv` and `leaderboard_runs.csv` hold "
        "every value.",
    ]
    tables = []
    for number, section in enumerate(sections, start=1):
        title = f"## {number}. " + (f"Protocol: {section.protocol}" if section.protocol else
                                    "No protocol recorded")  # fmt: skip
        lines += ["", title, ""]
        if section.protocol is None:
            lines += ["These runs logged no `val/protocol` (failed, without metrics, or older versions): "
                      "they are ranked only among themselves.", ""]  # fmt: skip
        elif number > 1:
            lines += [f"Not ranked with table 1: measured with another protocol (`{section.protocol}` "
                      f"against `{sections[0].protocol}`); values are comparable only at equal protocol.",
                      ""]  # fmt: skip
        table = markdown_table(section, rank_by)
        lines += table
        tables += [title, "", *table, ""]
        name = "leaderboard_curves.png" if number == 1 else f"leaderboard_curves_{number}.png"
        try:
            if plot_section_curves(section, rank_by, out / name):
                lines += ["", f"![{rank_by} against generator steps and wall-clock minutes]({name})"]
        except Exception as err:  # a figure must not cost the tables
            log.warning("Could not draw %s: %s: %s", name, type(err).__name__, err)
            lines += ["", f"(could not draw {name}: {type(err).__name__}: {err})"]
    lines += sample_grids(out, sections)
    (out / "leaderboard.md").write_text("\n".join(lines) + "\n")
    write_tensorboard(out, "\n".join(tables))
    return out / "leaderboard.md"


def sample_grids(out: Path, sections: list[Section]) -> list[str]:
    """A link to the last sample grid of each row's first seed (the lowest) that wrote one."""
    lines = []
    for section in sections:
        for row in section.rows:
            runs = by_seed([e for e in row.entries if e.job and e.job.last_sample])
            if runs:
                grid = runs[0].job.last_sample
                link = Path(os.path.relpath(grid, out)).as_posix()
                seed = f"seed {runs[0].seed}, " if runs[0].seed is not None else ""
                lines += ["", f"### {row.name}", "", f"![{row.name}]({link})", "", f"({seed}`{link}`)"]
    return ["", "## Sample grids", *lines] if lines else []


def write_tensorboard(out: Path, text: str) -> None:
    """The tables as the text ``leaderboard`` in ``<out>/tensorboard`` (TensorBoard's Text tab)."""
    writer = SummaryWriter(str(out / "tensorboard"))
    try:
        writer.add_text("leaderboard", text, 0)
    finally:
        writer.close()
