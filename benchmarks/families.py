"""Training speed of the new families, built from their real configs and trained by Lightning on
synthetic batches (random images already on the device: the data pipeline is not measured).

    python benchmarks/families.py [--only cyclegan,stylegan2,transgan] [--steps 30] [--warmup 10]
                                  [--device cuda] [--smoke]

- ``cyclegan``: images per second of a CycleGAN training step (both generators and both
  discriminators) at 256 px, batch 1 and 4, fp32 and bf16-mixed.
- ``stylegan2``: milliseconds per thousand images (ms / kimg) of StyleGAN2 at 64 px, batch 32, with
  lazy R1 (every 16) and path length (every 4) amortized, in fp32, bf16-mixed, with ``torch.compile``
  and with both.
- ``transgan``: images per second at 32 px, batch 64, fp32 against bf16-mixed with ``torch.compile``
  (and each alone); peak GPU memory of a training step at 64 px, batch 32.

Each line is one measurement (median of ``--repeats`` timed windows after the warm-up). ``--smoke``
shrinks everything to check the script on a CPU in seconds.
"""

from __future__ import annotations

import argparse
import time

import torch
from timing import measure  # benchmarks/timing.py, next to this script

from gan_lightning.devices import configure_cuda


def cyclegan(args: argparse.Namespace) -> None:
    side = 32 if args.smoke else 256
    base = ["model=cyclegan", "data=unpaired"] + (
        ["model.networks.resnet.generator.base_channels=8"] if args.smoke else []
    )
    for batch in (1, 4):
        for precision in ("32-true", "bf16-mixed"):
            seconds, peak = measure(base, (3, side, side), batch, True, args, precision)
            print(f"cyclegan  {side}px batch {batch} {precision:>10}: {batch / seconds:8.1f} images/s "
                  f"({1000 * seconds:.1f} ms/step, peak {peak:.2f} GiB)", flush=True)  # fmt: skip


# (label, extra overrides, Lightning precision) of the speed switches compared
SPEED_SWITCHES = (
    ("fp32", [], "32-true"),
    ("bf16", [], "bf16-mixed"),
    ("fp32 + compile", ["model.compile=true"], "32-true"),
    ("bf16 + compile", ["model.compile=true"], "bf16-mixed"),
)


def stylegan2(args: argparse.Namespace) -> None:
    side, batch = (16, 8) if args.smoke else (64, 32)
    base = ["model=stylegan2"] + (
        ["model.networks.stylegan2.generator.channel_base=256"] if args.smoke else []
    )
    for label, extra, precision in SPEED_SWITCHES:
        seconds, peak = measure(base + extra, (3, side, side), batch, False, args, precision)
        print(f"stylegan2 {side}px batch {batch} {label:>15}: {1000 * seconds / batch * 1000:9.0f} ms/kimg "
              f"({batch / seconds:.0f} images/s, peak {peak:.2f} GiB)", flush=True)  # fmt: skip


def transgan(args: argparse.Namespace) -> None:
    side, batch = (16, 8) if args.smoke else (32, 64)
    base = ["model=transgan"] + (["model.networks.transformer.generator.width=64"] if args.smoke else [])
    for label, extra, precision in SPEED_SWITCHES:
        seconds, peak = measure(base + extra, (3, side, side), batch, False, args, precision)
        print(f"transgan  {side}px batch {batch} {label:>15}: {batch / seconds:8.1f} images/s "
              f"(peak {peak:.2f} GiB)", flush=True)  # fmt: skip
    big, big_batch = (32, 4) if args.smoke else (64, 32)
    seconds, peak = measure(base, (3, big, big), big_batch, False, args, "bf16-mixed")
    print(f"transgan  {big}px batch {big_batch}  bf16 (windowed attention): {big_batch / seconds:8.1f} "
          f"images/s, peak GPU memory {peak:.2f} GiB", flush=True)  # fmt: skip


BENCHMARKS = {"cyclegan": cyclegan, "stylegan2": stylegan2, "transgan": transgan}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", default=",".join(BENCHMARKS))
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--window", type=int, default=10, help="batches per timed window")
    parser.add_argument("--repeats", type=int, default=3, help="timed windows (the median is reported)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: check the script on a CPU")
    parser.add_argument(
        "--tf32", action=argparse.BooleanOptionalAction, default=True,
        help="TF32 on CUDA, the training command's default (cuda.tf32); --no-tf32: full fp32",
    )  # fmt: skip
    args = parser.parse_args()
    configure_cuda(tf32=args.tf32)
    if args.device == "cuda":
        print(
            f"device: {torch.cuda.get_device_name()}, torch {torch.__version__}, TF32 {args.tf32}", flush=True
        )
    for name in args.only.split(","):
        started = time.perf_counter()
        BENCHMARKS[name](args)
        print(f"[{name}: {time.perf_counter() - started:.0f} s]", flush=True)


if __name__ == "__main__":
    main()
