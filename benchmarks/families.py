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
import statistics
import time

import pytorch_lightning as pl
import torch
from hydra import compose, initialize_config_module
from torch.utils.data import DataLoader, TensorDataset

from gan_lightning.config import as_plain, build
from gan_lightning.steps import register_resolvers


class WindowTimer(pl.Callback):
    """Wall time of consecutive windows of ``window`` batches after ``warmup`` batches."""

    def __init__(self, warmup: int, window: int) -> None:
        self.warmup, self.window, self.marks = warmup, window, []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if pl_module.device.type == "cuda":
            torch.cuda.synchronize()
        if batch_idx + 1 >= self.warmup and (batch_idx + 1 - self.warmup) % self.window == 0:
            self.marks.append(time.perf_counter())

    def seconds_per_batch(self) -> float:
        windows = [b - a for a, b in zip(self.marks[:-1], self.marks[1:], strict=True)]
        return statistics.median(windows) / self.window


def model_from_config(overrides: list[str], shape: tuple[int, int, int]):
    """The model of ``python -m gan_lightning <overrides>`` for data of ``shape`` (unlabelled)."""
    register_resolvers()
    with initialize_config_module(config_module="gan_lightning.conf", version_base="1.3"):
        cfg = compose(config_name="train", overrides=overrides)
    return build(
        cfg.model, data_shape=list(shape), num_classes=None, classes=None, tanh_output=True,
        optimizer=as_plain(cfg.optimizer), scheduler=None, augment=as_plain(cfg.get("augment")), data=None,
    )  # fmt: skip


def measure(
    overrides: list[str],
    shape: tuple[int, int, int],
    batch: int,
    two_domains: bool,
    args: argparse.Namespace,
    precision: str = "32-true",
) -> tuple[float, float]:
    """(seconds per generator step, peak GPU memory in GiB) of a short training run."""
    torch.manual_seed(0)
    model = model_from_config(overrides, shape)
    n = batch * (args.warmup + args.window * (args.repeats + 1))
    images = torch.rand(n, *shape, device=args.device) * 2 - 1
    second = (
        torch.rand(n, *shape, device=args.device) * 2 - 1
        if two_domains
        else torch.full((n,), -1, device=args.device)
    )
    loader = DataLoader(TensorDataset(images, second), batch_size=batch, drop_last=True)
    timer = WindowTimer(args.warmup, args.window)
    trainer = pl.Trainer(
        accelerator="gpu" if args.device == "cuda" else "cpu", devices=1, precision=precision,
        max_steps=model.optimizer_steps_for(len(loader)), max_epochs=1, logger=False,
        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False, callbacks=[timer],
    )  # fmt: skip
    if args.device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    trainer.fit(model, train_dataloaders=loader)
    peak = torch.cuda.max_memory_allocated() / 2**30 if args.device == "cuda" else float("nan")
    return timer.seconds_per_batch(), peak


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
    args = parser.parse_args()
    if args.device == "cuda":  # fp32 means fp32: TF32 stays off (PyTorch's default for matmuls)
        print(f"device: {torch.cuda.get_device_name()}, torch {torch.__version__}", flush=True)
    for name in args.only.split(","):
        started = time.perf_counter()
        BENCHMARKS[name](args)
        print(f"[{name}: {time.perf_counter() - started:.0f} s]", flush=True)


if __name__ == "__main__":
    main()
