"""What a user's default run costs per step over the bare training loop: the same command with its
TensorBoard logger, sample grids, checkpoints and progress bar, and with logger and callbacks off.

    python benchmarks/run_overhead.py [--steps 1000] [--repeats 3] [-- OVERRIDES...]

Both are real ``python -m gan_lightning`` runs (default ``model=dcgan`` on MNIST from $GAN_DATA_DIR,
``metrics=none`` in both: FID has its own period and cost), alternated ``--repeats`` times; a callback
added to both (:class:`StepClock`) measures the wall time from the end of step 20 to the last step,
the periodic work (grids every 500 steps, checkpoints every 1000 and at the end) included. Prints the
median ms per generator step of each and their ratio (target: at most 1.10).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytorch_lightning as pl

WARMUP = 20


class StepClock(pl.Callback):
    """Prints ``STEP_CLOCK <seconds per generator step>`` after the run, timed from step ``WARMUP``
    (the last checkpoint and grid, written at the end of training, included)."""

    def __init__(self) -> None:
        self.start, self.steps = 0.0, 0

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.steps = pl_module.steps_done
        if self.steps == WARMUP:
            self.start = time.perf_counter()

    def on_train_end(self, trainer, pl_module) -> None:
        # Lightning calls the callbacks' on_train_end in order: this one is last (added last).
        print(f"STEP_CLOCK {(time.perf_counter() - self.start) / (self.steps - WARMUP)}", flush=True)


def run(overrides: list[str], steps: int, bare: bool, out: Path) -> float:
    switches = ["logger=none", "callbacks=none"] if bare else []
    command = [
        sys.executable, "-m", "gan_lightning", *overrides, "metrics=none", *switches,
        f"trainer.max_steps={steps}", "trainer.max_epochs=-1", "seed=0", f"hydra.run.dir={out}",
        "+callbacks.step_clock._target_=run_overhead.StepClock",
    ]  # fmt: skip
    here = str(Path(__file__).resolve().parent)  # where the run finds StepClock
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [here, os.environ.get("PYTHONPATH")]))}
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    lines = [line for line in result.stdout.splitlines() if line.startswith("STEP_CLOCK")]
    if result.returncode != 0 or not lines:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr[-2000:]}")
    return float(lines[-1].split()[1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("overrides", nargs="*", default=["model=dcgan"])
    args = parser.parse_args()
    timings: dict[str, list[float]] = {"default run": [], "logger and callbacks off": []}
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in range(args.repeats):
            for name, bare in (("default run", False), ("logger and callbacks off", True)):
                out = Path(tmp) / f"{repeat}-{int(bare)}"
                timings[name].append(run(args.overrides, args.steps, bare, out))
    medians = {name: statistics.median(values) for name, values in timings.items()}
    print(
        f"{' '.join(args.overrides)}: {args.steps} generator steps, median of {args.repeats} alternating runs"
    )
    for name, seconds in medians.items():
        print(f"{name:>26}: {seconds * 1e3:8.2f} ms/step")
    ratio = medians["default run"] / medians["logger and callbacks off"]
    print(f"{'ratio':>26}: {ratio:8.3f}x (target <= 1.10)")


if __name__ == "__main__":
    main()
