"""Seconds per generator step of every training command in the README's first block, as a user runs it
(logger, grids, checkpoints, progress bar on; ``metrics=none``: FID has its own period).

    python benchmarks/readme_commands.py [--steps 60]

Real data from $GAN_DATA_DIR (CIFAR-10 from its JPEG copy there). Timed from step 20 to the end
(:class:`run_overhead.StepClock`). The first run on a dataset also trains its feature net for the
metrics: that one-off cost is not in these numbers.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from run_overhead import run  # benchmarks/run_overhead.py, next to this script

DATA = os.environ.get("GAN_DATA_DIR", "./data")
COMMANDS = {
    "model=cgan data=fashion_mnist": ["model=cgan", "data=fashion_mnist"],
    "model=dcgan optimizer=sgd model.z_dim=50": ["model=dcgan", "optimizer=sgd", "model.z_dim=50"],
    "model=stylegan2 data=fashion_mnist": ["model=stylegan2", "data=fashion_mnist"],
    "model=transgan data=cifar10": ["model=transgan", "data=cifar10", f"data.path={DATA}/CIFAR10-JPEG"],
    "model=cyclegan data=unpaired ... data.image_size=64": [
        "model=cyclegan", "data=unpaired", f"data.path={DATA}/horse2zebra-128", "data.image_size=64",
    ],
}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--only", default=None, help="comma-separated indices into the list (0-based)")
    args = parser.parse_args()
    chosen = list(COMMANDS.items())
    if args.only is not None:
        chosen = [chosen[int(i)] for i in args.only.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        for i, (command, overrides) in enumerate(chosen):
            seconds = run(overrides, args.steps, bare=False, out=Path(tmp) / str(i))
            print(f"python -m gan_lightning {command:<52} {seconds:7.3f} s/step", flush=True)


if __name__ == "__main__":
    main()
