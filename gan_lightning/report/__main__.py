"""``python -m gan_lightning.report DIR [--out OUT]``: summarise a run or a sweep (see the package)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gan_lightning.report import NoRunsError, build_report

EXPECTED = (
    "Expected a training run directory (one holding .hydra/, tensorboard/, train.log, ...) or a Hydra "
    "multirun sweep directory (holding multirun.yaml and the job folders 0/, 1/, ...)."
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m gan_lightning.report",
        description="Write report.md, report.csv and report_*.png plots summarising a run or a sweep.",
    )
    parser.add_argument("dir", type=Path, help="a run directory or a multirun sweep directory")
    parser.add_argument("--out", type=Path, help="where to write the report (default: DIR)")
    parser.add_argument(
        "--stale-minutes",
        type=float,
        default=10.0,
        help="an unfinished job whose files changed less than this long ago counts as running (default 10)",
    )
    args = parser.parse_args(argv)
    if not args.dir.is_dir():
        parser.error(f"{args.dir} is not a directory. {EXPECTED}")  # exits with code 2

    try:
        report, jobs = build_report(args.dir, args.out, stale_after_s=60 * args.stale_minutes)
    except NoRunsError as err:
        parser.error(f"{err}. {EXPECTED}")
    except OSError as err:
        print(f"Error: cannot write the report: {err}. Use --out to write it elsewhere.", file=sys.stderr)
        return 2
    counts = {s: sum(job.status == s for job in jobs) for s in ("ok", "running", "failed")}
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    print(f"{report} ({len(jobs)} job{'s' * (len(jobs) != 1)}: {summary})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
