"""Metric curves of several runs from their TensorBoard events, by generator step and by wall-clock time.

    python experiments/curves.py RUN_DIR [RUN_DIR ...] [--tags val/fid val/class_acc] [--minutes 5]

Prints one markdown table per tag (rows: evaluations; for each run its step, the minutes since its first
logged event, and the value) and, with ``--minutes``, each run's last value at or before that time:
the comparison at equal wall-clock. Minutes count from the run's first TensorBoard event, so they
include evaluation time (every run's own evaluations).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from gan_lightning.report.runs import read_job


def load_curves(run_dir: Path, tags: list[str]) -> dict[str, list[tuple[int, float, float]]]:
    """``{tag: [(step, minutes since the first event, value), ...]}`` of one run directory (read as the
    report reads it: every event file, resumed runs included)."""
    job = read_job(run_dir, run_dir)
    if not job.curves:
        raise SystemExit(f"{run_dir}: no TensorBoard events.")
    return {tag: job.timed(tag) for tag in tags if job.curves.get(tag)}


def main() -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--tags", nargs="+", default=["val/fid"])
    parser.add_argument("--minutes", type=float, default=None, help="compare at this wall-clock time")
    args = parser.parse_args()
    curves = {run: load_curves(run, args.tags) for run in args.runs}
    for tag in args.tags:
        print(f"\n### {tag}\n")
        print("| run | step | minutes | value |\n|---|---|---|---|")
        for run, by_tag in curves.items():
            for step, minutes, value in by_tag.get(tag, []):
                print(f"| {run.name} | {step} | {minutes:.1f} | {value:.4g} |")
        if args.minutes is not None:
            print(f"\nAt {args.minutes:g} minutes:\n")
            for run, by_tag in curves.items():
                before = [p for p in by_tag.get(tag, []) if p[1] <= args.minutes]
                if before:
                    step, minutes, value = before[-1]
                    print(f"- {run.name}: {value:.4g} (step {step}, {minutes:.1f} min)")


if __name__ == "__main__":
    main()
