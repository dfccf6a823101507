"""Framework overhead: the same DCGAN on MNIST (28x28) trained (a) by gan-lightning's Trainer and
(b) by a plain PyTorch loop with the same networks, loss, optimizers, batch size and data loader.

    python benchmarks/throughput.py [--steps 200] [--warmup 20] [--repeats 3] [--batch-size 64]
                                    [--device cpu] [--switches] [--toolkit]

Prints milliseconds per generator step and images per second for both (medians of alternating
runs), and their ratio. With ``--switches`` (the default on a GPU) it also times each speed switch
of the GPU fast path on its own and all together: ``data.on_device``, fused Adam, channels-last,
``torch.compile``, and all of them with bf16 mixed precision. With ``--toolkit`` it times the
training toolkit's costs (EMA, ADA, both, DiffAugment, lazy R1). Uses the MNIST files under
$GAN_DATA_DIR (or ./data, downloading them there when missing).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import pytorch_lightning as pl
import torch

from gan_lightning.data import MNISTDataModule
from gan_lightning.devices import configure_cuda
from gan_lightning.losses import get_loss
from gan_lightning.models import GAN

ADAM = {"_target_": "torch.optim.Adam", "_partial_": True, "lr_g": 2e-4, "lr_d": 2e-4, "betas": [0.5, 0.999]}
ALL = {"on_device": True, "fused": True, "channels_last": True, "compile": True}
SWITCHES = {
    "+ data.on_device": {"on_device": True},
    "+ fused Adam": {"fused": True},
    "+ channels_last": {"channels_last": True},
    "+ torch.compile": {"compile": True},
    "all four": ALL,
    "all four, bf16-mixed": {**ALL, "precision": "bf16-mixed"},
}
TOOLKIT = {
    "+ EMA": {"ema_kimg": 10},
    "+ ADA": {"augment": {"kind": "ada"}},
    "+ EMA + ADA": {"ema_kimg": 10, "augment": {"kind": "ada"}},
    "+ DiffAugment": {"augment": {"kind": "diffaugment"}},
    "+ lazy R1 (every 16)": {"r1_gamma": 1.0, "r1_every": 16},
}


class StepTimer(pl.Callback):
    """Wall time from the end of the warm-up batches to the end of the last one."""

    def __init__(self, warmup: int) -> None:
        self.warmup, self.start, self.end = warmup, 0.0, 0.0

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if pl_module.device.type == "cuda":
            torch.cuda.synchronize()
        if batch_idx + 1 == self.warmup:
            self.start = time.perf_counter()
        self.end = time.perf_counter()


def datamodule(batch_size: int, on_device: bool = False) -> MNISTDataModule:
    root = os.environ.get("GAN_DATA_DIR", "./data")
    dm = MNISTDataModule(root=root, batch_size=batch_size, on_device=on_device)
    dm.prepare_data()
    dm.setup("fit")
    return dm


def framework(
    steps: int,
    warmup: int,
    batch_size: int,
    device: str,
    on_device: bool = False,
    fused: bool = False,
    channels_last: bool = False,
    compile: bool = False,
    precision: str = "32-true",
    **model_options,
) -> float:
    """Seconds per generator step with gan-lightning (TensorBoard-free, no grids or checkpoints);
    ``model_options`` go to the model (e.g. ``ema_kimg=10``, ``augment={"kind": "ada"}``)."""
    dm = datamodule(batch_size, on_device)
    torch.manual_seed(0)
    optimizer = {**ADAM, "fused": True} if fused else ADAM
    model = GAN(
        dm.data_shape, arch="conv", optimizer=optimizer, compile=compile, channels_last=channels_last,
        **model_options,
    )  # fmt: skip
    timer = StepTimer(warmup)
    trainer = pl.Trainer(
        accelerator=device, devices=1, max_steps=model.optimizer_steps_for(steps + warmup),
        precision=precision, logger=False, enable_checkpointing=False, enable_progress_bar=False,
        enable_model_summary=False, use_distributed_sampler=False, callbacks=[timer],
    )  # fmt: skip
    trainer.fit(model, datamodule=dm)
    return (timer.end - timer.start) / steps


def plain_loop(steps: int, warmup: int, batch_size: int, device: str) -> float:
    """Seconds per generator step with a hand-written loop over the same pieces."""
    dm = datamodule(batch_size)
    torch.manual_seed(0)
    model = GAN(dm.data_shape, arch="conv", optimizer=ADAM).to(device)
    G, D = model.generator, model.discriminator
    loss = get_loss("non_saturating")
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    start = 0.0
    batches = iter(dm.train_dataloader())
    for step in range(steps + warmup):
        real, _ = next(batches)
        real = real.to(device)
        z = torch.randn(real.size(0), 100, device=device)
        with torch.no_grad():
            fake = G(z)
        d_loss = loss.discriminator(D(real), D(fake), 1.0)
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        D.requires_grad_(False)
        g_loss = loss.generator(D(G(torch.randn(real.size(0), 100, device=device))))
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        D.requires_grad_(True)
        if device == "cuda":
            torch.cuda.synchronize()
        if step + 1 == warmup:
            start = time.perf_counter()
    return (time.perf_counter() - start) / steps


def one_epoch(batch_size: int, device: str) -> float:
    """Wall seconds of one whole epoch (60,000 images) of ``model=dcgan`` on MNIST with
    ``data.on_device=true``, warm-up included (the GPU target: at most 3 s on one H200)."""
    from timing import model_from_config  # benchmarks/timing.py, next to this script

    dm = datamodule(batch_size, on_device=True)
    torch.manual_seed(0)
    model = model_from_config(["model=dcgan"], dm.data_shape)
    trainer = pl.Trainer(
        accelerator=device, devices=1, max_epochs=1, logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, use_distributed_sampler=False,
    )  # fmt: skip
    start = time.perf_counter()
    trainer.fit(model, datamodule=dm)
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3, help="alternating runs of each; medians reported")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument(
        "--switches", action=argparse.BooleanOptionalAction, default=None,
        help="also time each GPU fast-path switch (default: on a GPU only)",
    )  # fmt: skip
    parser.add_argument(
        "--toolkit", action="store_true", help="also time EMA, ADA, DiffAugment and lazy R1, each switched on"
    )
    parser.add_argument(
        "--epoch", action="store_true", help="only time one epoch of model=dcgan with data.on_device=true"
    )
    args = parser.parse_args()
    configure_cuda()  # the training command's CUDA defaults (TF32, cuDNN autotuner)
    if args.epoch:
        seconds = one_epoch(args.batch_size, args.device)
        print(f"DCGAN on MNIST, one epoch (60,000 images) with data.on_device=true, batch {args.batch_size}, "
              f"{args.device}: {seconds:.2f} s ({60_000 / seconds:,.0f} images/s)")  # fmt: skip
        return
    switches = args.switches if args.switches is not None else args.device != "cpu"
    print(
        f"DCGAN 28x28, batch {args.batch_size}, {args.steps} timed steps after {args.warmup} warm-up, "
        f"median of {args.repeats} alternating runs, "
        f"{args.device}, {torch.get_num_threads()} threads"
    )
    # Alternate the two and keep each one's median: on a small shared CPU one run varies by ~10%.
    timings: dict[str, list[float]] = {"plain PyTorch loop": [], "gan-lightning": []}
    run = (args.steps, args.warmup, args.batch_size, args.device)
    for _ in range(args.repeats):
        timings["plain PyTorch loop"].append(plain_loop(*run))
        timings["gan-lightning"].append(framework(*run))
    results = {name: statistics.median(values) for name, values in timings.items()}
    for name, seconds in results.items():
        print(f"{name:>22}: {seconds * 1e3:8.2f} ms/step  {args.batch_size / seconds:9.1f} images/s")
    ratio = results["gan-lightning"] / results["plain PyTorch loop"]
    print(f"{'ratio':>22}: {ratio:8.3f}x (framework / plain loop; target <= 1.10)")
    if args.toolkit:
        print("Training toolkit (cost against gan-lightning with nothing switched on):")
        for name, options in TOOLKIT.items():
            seconds = framework(args.steps, args.warmup, args.batch_size, args.device, **options)
            cost, rate = seconds / results["gan-lightning"], args.batch_size / seconds
            print(f"{name:>22}: {seconds * 1e3:8.2f} ms/step  {rate:9.1f} images/s  {cost:6.2f}x")
    if not switches:
        return
    print("GPU fast path (speed-up against gan-lightning with no switch):")
    for name, options in SWITCHES.items():
        seconds = framework(args.steps, args.warmup, args.batch_size, args.device, **options)
        speedup = results["gan-lightning"] / seconds
        print(
            f"{name:>22}: {seconds * 1e3:8.2f} ms/step  {args.batch_size / seconds:9.1f} images/s"
            f"  {speedup:6.2f}x"
        )


if __name__ == "__main__":
    main()
