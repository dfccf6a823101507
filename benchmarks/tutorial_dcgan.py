"""The course report's 28x28 DCGAN as a plain PyTorch loop: the reference of experiments/07.

    python benchmarks/tutorial_dcgan.py --steps 3000 --seed 0 --out DIR [--batch-size 64]

G: dense z(100) -> 4x4x128, ConvTranspose 128->64 (k3 s2 p1) -> 7x7, 64->32 (k4 s2 p1) -> 14x14,
32->1 (k4 s2 p1) -> 28x28, BatchNorm + ReLU after the dense layer and between the transposed
convolutions, tanh output. D: Conv 1->32 (k4 s2 p1) + LeakyReLU 0.2, 32->64 and 64->128 (k4 s2 p1,
BatchNorm + LeakyReLU 0.2), 28 -> 14 -> 7 -> 3, dense 3x3x128 -> 1. PyTorch's default init, Adam
2e-4 / betas (0.5, 0.999), non-saturating BCE, batch 64; each step updates D on a real and a fake
batch, then G on the same fake batch (the usual tutorial loop).

MNIST comes from torchvision under $GAN_DATA_DIR (or ./data), scaled to [-1, 1], read by a
DataLoader with no workers (as the framework's default). At the end DIR holds ``samples.pt``
({"images": 10000 x 1 x 28 x 28 in [-1, 1]}), ``grid.png`` (8x8) and ``timing.json`` (ms/step over
the steps after a warm-up of 20). Score the samples with ``benchmarks/score_samples.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms, utils

Z_DIM = 100
WARMUP = 20


def generator() -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(Z_DIM, 4 * 4 * 128),
        nn.Unflatten(1, (128, 4, 4)),
        nn.BatchNorm2d(128),
        nn.ReLU(),
        nn.ConvTranspose2d(128, 64, 3, 2, 1),  # 4 -> 7
        nn.BatchNorm2d(64),
        nn.ReLU(),
        nn.ConvTranspose2d(64, 32, 4, 2, 1),  # 7 -> 14
        nn.BatchNorm2d(32),
        nn.ReLU(),
        nn.ConvTranspose2d(32, 1, 4, 2, 1),  # 14 -> 28
        nn.Tanh(),
    )


def discriminator() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 32, 4, 2, 1),  # 28 -> 14
        nn.LeakyReLU(0.2),
        nn.Conv2d(32, 64, 4, 2, 1),  # 14 -> 7
        nn.BatchNorm2d(64),
        nn.LeakyReLU(0.2),
        nn.Conv2d(64, 128, 4, 2, 1),  # 7 -> 3
        nn.BatchNorm2d(128),
        nn.LeakyReLU(0.2),
        nn.Flatten(),
        nn.Linear(3 * 3 * 128, 1),
    )


def loader(batch_size: int, seed: int) -> DataLoader:
    root = os.environ.get("GAN_DATA_DIR", "./data")
    to_unit = transforms.Compose([transforms.ToTensor(), transforms.Normalize([0.5], [0.5])])
    train = datasets.MNIST(root, train=True, transform=to_unit, download=not Path(root, "MNIST").exists())
    order = torch.Generator().manual_seed(seed)
    return DataLoader(train, batch_size=batch_size, shuffle=True, drop_last=True, generator=order)


def batches(data: DataLoader):
    while True:
        yield from data


def train(steps: int, seed: int, batch_size: int, out: Path, sample_every: int, n_samples: int) -> float:
    """Train for ``steps`` generator steps, save samples, return the mean ms per step after the warm-up.

    With ``sample_every`` > 0, ``samples_stepNNNNNNN.pt`` is also saved every that many steps (the
    time spent sampling is not counted).
    """
    torch.manual_seed(seed)
    gen, disc = generator(), discriminator()
    opt_g = torch.optim.Adam(gen.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(disc.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    data = batches(loader(batch_size, seed))
    start = time.perf_counter()
    for step in range(steps):
        if step == WARMUP:
            start = time.perf_counter()
        real, _ = next(data)
        n = real.size(0)
        ones, zeros = torch.ones(n), torch.zeros(n)
        fake = gen(torch.randn(n, Z_DIM))
        d_loss = bce(disc(real).squeeze(1), ones) + bce(disc(fake.detach()).squeeze(1), zeros)
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        g_loss = bce(disc(fake).squeeze(1), ones)  # non-saturating: -log D(G(z))
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        if (step + 1) % 500 == 0:
            print(f"step {step + 1}: d_loss {d_loss.item():.3f} g_loss {g_loss.item():.3f}", flush=True)
        if sample_every > 0 and (step + 1) % sample_every == 0 and step + 1 < steps:
            paused = time.perf_counter()
            images = sample(gen, n_samples, seed)
            torch.save({"images": images}, out / f"samples_step{step + 1:07d}.pt")
            gen.train()
            start += time.perf_counter() - paused
    timed = steps - WARMUP if steps > WARMUP else steps
    ms_per_step = (time.perf_counter() - start) * 1000 / timed
    images = sample(gen, n_samples, seed)
    torch.save({"images": images}, out / "samples.pt")
    utils.save_image(images[:64], out / "grid.png", nrow=8, normalize=True, value_range=(-1, 1))
    return ms_per_step


@torch.no_grad()
def sample(gen: nn.Module, n: int, seed: int) -> torch.Tensor:
    gen.eval()
    noise = torch.Generator().manual_seed(seed)
    return torch.cat([gen(torch.randn(500, Z_DIM, generator=noise)) for _ in range(0, n, 500)])[:n]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--n-samples", type=int, default=10_000)
    parser.add_argument("--sample-every", type=int, default=0, help="also save samples every N steps")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    wall = time.perf_counter()
    ms_per_step = train(args.steps, args.seed, args.batch_size, args.out, args.sample_every, args.n_samples)
    timing = {
        "steps": args.steps,
        "seed": args.seed,
        "batch_size": args.batch_size,
        "ms_per_step": ms_per_step,
        "threads": torch.get_num_threads(),
        "wall_s": time.perf_counter() - wall,
    }
    (args.out / "timing.json").write_text(json.dumps(timing, indent=1) + "\n")
    print(json.dumps(timing))


if __name__ == "__main__":
    main()
