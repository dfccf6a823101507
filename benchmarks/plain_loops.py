"""Framework overhead per family: gan-lightning's training step against a hand-written PyTorch loop
over the same network objects, losses, augmentation, optimizers and batch.

    python benchmarks/plain_loops.py [--only dcgan,cyclegan,stylegan2,transgan] [--steps 32]
                                     [--warmup 8] [--repeats 3] [--device cuda] [--smoke]

Each family's model is built from its config exactly as ``python -m gan_lightning model=<family>``
builds it (:func:`timing.model_from_config`; no learning-rate schedule), on one synthetic batch of
random images already on the device, reused at every step by both sides (the data pipeline is not
measured). The framework trains it with a Lightning Trainer (logger, checkpointing and progress bar
off); the plain loop takes its networks, loss and augmentation, and builds torch optimizers with the
same classes and options (checked against ``configure_optimizers()``). Each plain loop below is the
paper's recipe as the family's config sets it, doing the work of the framework's step:

- ``dcgan``: D on real and G(z), then G through D (non-saturating loss); Adam 2e-4, betas (0.5, 0.999).
- ``cyclegan``: G and F (adversarial least squares + cycle 10 + identity 0.5 x 10), then D_A and D_B on
  real images and image-pool translations.
- ``stylegan2``: D step, lazy R1 every 16 steps, G step, path length every 4 steps on half a batch,
  style mixing 0.9 and the generator EMA.
- ``transgan``: WGAN-GP critic with drift, DiffAugment of everything D sees, gradient-norm clipping
  at 5 per network, generator EMA.

The two alternate ``--repeats`` times (``--warmup`` steps, then ``--steps`` timed ones, the device
synchronized at the window's edges); each line gives the medians and the ratio framework / plain loop,
the last line their sums. ``--steps`` should be a multiple of 16, so that StyleGAN2's lazy regularizers
fall into the window as often as in training. Sizes: on a GPU the issue's (CycleGAN 256 px, StyleGAN2
64 px, TransGAN 32 px at the configs' widths), on a CPU small networks whose step takes tens of
milliseconds, so that fixed per-step costs show; ``--smoke`` checks the script in seconds.
"""

from __future__ import annotations

import argparse
import logging
import random
import statistics
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
from timing import WindowTimer, fit_timed, model_from_config, synchronize, synthetic_batch
from torch import Tensor, nn
from torch.utils.data import DataLoader

from gan_lightning.core import AdversarialModule
from gan_lightning.devices import configure_cuda
from gan_lightning.losses import gradient_penalty, path_length_penalty, r1_penalty

Batch = tuple[Tensor, Tensor]
Step = Callable[[int], None]  # one generator step, given its index (lazy phases, the EMA ramp-up)


# --- what the plain loops share -----------------------------------------------------------------------


def update(optimizer: torch.optim.Optimizer, loss: Tensor, clip: float | None = None) -> None:
    """One optimizer step on ``loss``; with ``clip``, the gradient norm of its parameters is clipped."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if clip is not None:
        torch.nn.utils.clip_grad_norm_([p for g in optimizer.param_groups for p in g["params"]], clip)
    optimizer.step()


@contextmanager
def frozen(*networks: nn.Module) -> Iterator[None]:
    """No parameter gradients for ``networks`` inside the block (D during G's step)."""
    for network in networks:
        network.requires_grad_(False)
    try:
        yield
    finally:
        for network in networks:
            network.requires_grad_(True)


def ema_beta(h: Any, batch: int, seen: int) -> float:
    """The EMA decay of a step of ``batch`` images after ``seen``: half-life ``ema_kimg`` thousand
    images, at most ``ema_rampup`` times the images seen (StyleGAN2-ADA)."""
    half_life = h.ema_kimg * 1000.0
    if h.ema_rampup is not None:
        half_life = min(half_life, h.ema_rampup * seen)
    return 0.5 ** (batch / max(half_life, 1e-8))


@torch.no_grad()
def ema_update(average: nn.Module, trained: nn.Module, beta: float) -> None:
    """``w_avg <- beta w_avg + (1 - beta) w`` for every weight (multi-tensor lerp); buffers copied."""
    torch._foreach_lerp_(list(average.parameters()), list(trained.parameters()), 1.0 - beta)
    buffers = list(average.buffers())
    if buffers:
        torch._foreach_copy_(buffers, list(trained.buffers()))


def check_optimizers(
    model: AdversarialModule, opt_d: torch.optim.Optimizer, opt_g: torch.optim.Optimizer
) -> None:
    """Fail unless the plain loop's optimizers are those the framework builds (``configure_optimizers``):
    the same class, parameters and options."""
    built = model.configure_optimizers()
    built = built[0] if isinstance(built, tuple) else built
    for name, mine, theirs in zip(("discriminator", "generator"), (opt_d, opt_g), built, strict=True):
        if _described(mine) != _described(theirs):
            raise RuntimeError(f"The plain loop's {name} optimizer is not the framework's:\n{mine}\n{theirs}")


def _described(optimizer: torch.optim.Optimizer) -> tuple:
    """The optimizer's class, and per group its parameters (by identity) and options."""
    groups = []
    for group in optimizer.param_groups:
        options = {k: tuple(v) if isinstance(v, list) else v for k, v in group.items() if k != "params"}
        groups.append(([id(p) for p in group["params"]], options))
    return type(optimizer), groups


# --- the plain loops: each returns the step function over the model's own networks ----------------------


def dcgan_loop(model: AdversarialModule, batch: Batch) -> Step:
    """DCGAN (Radford et al. 2016): non-saturating loss (Goodfellow et al. 2014), Adam 2e-4 (0.5, 0.999)."""
    G, D, loss = model.generator, model.discriminator, model.loss
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    check_optimizers(model, opt_d, opt_g)
    real, _ = batch
    n, z_dim = real.size(0), model.hparams.z_dim

    def step(i: int) -> None:
        with torch.no_grad():
            fake = G(torch.randn(n, z_dim, device=real.device))
        update(opt_d, loss.discriminator(D(real), D(fake), 1.0))  # -log D(x) - log(1 - D(G(z)))
        with frozen(D):
            update(opt_g, loss.generator(D(G(torch.randn(n, z_dim, device=real.device)))))  # -log D(G(z))

    return step


def cyclegan_loop(model: AdversarialModule, batch: Batch) -> Step:
    """CycleGAN (Zhu et al. 2017): least squares, cycle loss 10, identity loss 0.5 x 10, image pools of
    50, Adam 2e-4 (0.5, 0.999); the generators' step first, then the discriminators'."""
    G, F = model.generator_ab, model.generator_ba  # G: A -> B, F: B -> A
    D_a, D_b = model.discriminator_a, model.discriminator_b
    loss, l1, h = model.loss, model.reconstruction_loss, model.hparams
    pool_a, pool_b = model.pool_a, model.pool_b  # ImagePool(50) each
    opt_g = torch.optim.Adam([*G.parameters(), *F.parameters()], lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam([*D_a.parameters(), *D_b.parameters()], lr=2e-4, betas=(0.5, 0.999))
    check_optimizers(model, opt_d, opt_g)
    w_adversarial, w_cycle = h.adversarial_weight, h.cycle_weight  # 1 and 10
    w_identity = h.identity_weight * h.cycle_weight  # 0.5 x 10
    real_a, real_b = batch

    def step(i: int) -> None:
        with frozen(D_a, D_b):
            fake_b, fake_a = G(real_a), F(real_b)
            adversarial = loss.generator(D_b(fake_b)) + loss.generator(D_a(fake_a))  # (D(G(a)) - 1)^2 / 2 ...
            cycle = l1(F(fake_b), real_a) + l1(G(fake_a), real_b)  # |F(G(a)) - a| + |G(F(b)) - b|
            identity = l1(G(real_b), real_b) + l1(F(real_a), real_a)  # |G(b) - b| + |F(a) - a|
            update(opt_g, w_adversarial * adversarial + w_cycle * cycle + w_identity * identity)
        old_a, old_b = pool_a.query(fake_a), pool_b.query(fake_b)  # detached; half swapped for past ones
        d_a = loss.discriminator(D_a(real_a), D_a(old_a), 1.0)  # (D_A(a) - 1)^2 / 2 + D_A(old F(b))^2 / 2
        d_b = loss.discriminator(D_b(real_b), D_b(old_b), 1.0)
        update(opt_d, d_a + d_b)

    return step


def stylegan2_loop(model: AdversarialModule, batch: Batch) -> Step:
    """StyleGAN2 (Karras et al. 2020) as model=stylegan2 sets it: non-saturating loss; lazy R1, weight
    gamma / 2 x r1_every, every r1_every steps; path length on half a batch, weight pl_weight x pl_every,
    every pl_every steps; style mixing with probability 0.9; generator EMA; Adam 2.5e-3 (0, 0.99), each
    group's lr x c and betas ** c with c = interval / (interval + 1) of its lazy regularizer (mb_ratio)."""
    G, D, loss, h = model.generator, model.discriminator, model.loss, model.hparams
    G_ema = model.ema.networks["generator"]
    c_d, c_g = h.r1_every / (h.r1_every + 1), h.pl_every / (h.pl_every + 1)
    opt_d = torch.optim.Adam(D.parameters(), lr=2.5e-3 * c_d, betas=(0.0, 0.99**c_d), eps=1e-8)
    opt_g = torch.optim.Adam(G.parameters(), lr=2.5e-3 * c_g, betas=(0.0, 0.99**c_g), eps=1e-8)
    check_optimizers(model, opt_d, opt_g)
    real, _ = batch
    n, coin = real.size(0), random.Random(0)
    pl_mean = torch.zeros((), device=real.device)  # running mean of the path lengths

    def fake_images() -> Tensor:
        z = torch.randn(n, h.z_dim, device=real.device)
        if coin.random() < h.style_mixing:  # the styles from a random layer on come from a second z
            return G(z, mixing_z=torch.randn_like(z), mixing_cutoff=coin.randrange(1, G.num_ws))
        return G(z)

    def step(i: int) -> None:
        nonlocal pl_mean
        with torch.no_grad():
            fake = fake_images()
        update(opt_d, loss.discriminator(D(real), D(fake), 1.0))
        if i % h.r1_every == 0:  # lazy R1: gamma / 2 E||grad_x D(x)||^2
            update(opt_d, 0.5 * h.r1_gamma * h.r1_every * r1_penalty(D, real))
        with frozen(D):
            update(opt_g, loss.generator(D(fake_images())))
        if i % h.pl_every == 0:  # E(||J_w^T y|| - a)^2, y image-shaped noise, a the running mean
            w = G.mapping(torch.randn(n // 2, h.z_dim, device=real.device))
            penalty, pl_mean, _ = path_length_penalty(G.synthesis(w), w, pl_mean, h.pl_decay)
            update(opt_g, h.pl_weight * h.pl_every * penalty)
        ema_update(G_ema, G, ema_beta(h, n, seen=i * n))

    return step


def transgan_loop(model: AdversarialModule, batch: Batch) -> Step:
    """TransGAN (Jiang et al. 2021), its released recipe: WGAN-GP (weight 10) with drift 0.001 on D(x)^2,
    DiffAugment (color, translation, cutout) of real and fake images in both steps, gradient-norm
    clipping at 5 for each network, generator EMA, Adam 1e-4 (0, 0.99)."""
    G, D, loss, augment, h = model.generator, model.discriminator, model.loss, model.augment, model.hparams
    G_ema = model.ema.networks["generator"]
    clip_d, clip_g = model.grad_clip["discriminator"], model.grad_clip["generator"]
    if model.grad_clip["algorithm"] != "norm":
        raise ValueError("The plain loop clips gradient norms, as model=transgan configures.")
    opt_d = torch.optim.Adam(D.parameters(), lr=1e-4, betas=(0.0, 0.99))
    opt_g = torch.optim.Adam(G.parameters(), lr=1e-4, betas=(0.0, 0.99))
    check_optimizers(model, opt_d, opt_g)
    real, _ = batch
    n, z_dim = real.size(0), h.z_dim

    def step(i: int) -> None:
        for _ in range(h.n_critic):
            with torch.no_grad():
                fake = G(torch.randn(n, z_dim, device=real.device))
            real_seen, fake_seen = augment(real), augment(fake)
            d_loss = loss.discriminator(D(real_seen), D(fake_seen), 1.0)  # E D(G(z)) - E D(x) + drift
            d_loss = d_loss + loss.gradient_penalty_weight * gradient_penalty(D, real_seen, fake_seen)
            update(opt_d, d_loss, clip=clip_d)
        with frozen(D):
            fake = G(torch.randn(n, z_dim, device=real.device))
            update(opt_g, loss.generator(D(augment(fake))), clip=clip_g)  # -E D(G(z))
        ema_update(G_ema, G, ema_beta(h, n, seen=i * n))

    return step


# --- families and sizes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Family:
    """A family's config, its data (image channels; one domain or two) and its plain loop."""

    overrides: tuple[str, ...]  # the config, as on the command line
    channels: int
    two_domains: bool
    plain_loop: Callable[[AdversarialModule, Batch], Step]


@dataclass(frozen=True)
class Setting:
    """One measured size: images of ``side`` px in batches of ``batch``."""

    side: int
    batch: int
    sizes: tuple[str, ...] = ()  # overrides that shrink the networks (CPU and smoke sizes)


FAMILIES = {
    "dcgan": Family(("model=dcgan",), 1, False, dcgan_loop),
    "cyclegan": Family(("model=cyclegan", "data=unpaired"), 3, True, cyclegan_loop),
    "stylegan2": Family(("model=stylegan2",), 3, False, stylegan2_loop),
    "transgan": Family(("model=transgan",), 3, False, transgan_loop),
}


# overrides of the networks' widths (G's, D's)
def _resnet(g: int, d: int) -> tuple[str, ...]:
    key = "model.networks.resnet"
    return (f"{key}.generator.base_channels={g}", f"{key}.discriminator.base_channels={d}")


def _stylegan2(base: int, most: int) -> tuple[str, ...]:
    key = "model.networks.stylegan2"
    options = (f"channel_base={base}", f"channel_max={most}")
    return tuple(f"{key}.{net}.{option}" for net in ("generator", "discriminator") for option in options)


def _transformer(g: int, d: int) -> tuple[str, ...]:
    key = "model.networks.transformer"
    return (f"{key}.generator.width={g}", f"{key}.discriminator.width={d}")


def _conv(base: int) -> tuple[str, ...]:
    key = "model.networks.conv"
    return (f"{key}.generator.base_channels={base}", f"{key}.discriminator.base_channels={base}")


SIZES: dict[str, dict[str, list[Setting]]] = {
    "cuda": {  # the issue's sizes, the configs' widths
        "dcgan": [Setting(28, 64)],
        "cyclegan": [Setting(256, 1), Setting(256, 4)],
        "stylegan2": [Setting(64, 32)],
        "transgan": [Setting(32, 64)],
    },
    "cpu": {  # small networks: tens of milliseconds per step on two cores
        "dcgan": [Setting(28, 64)],
        "cyclegan": [Setting(32, 1, _resnet(8, 8)), Setting(32, 4, _resnet(8, 8))],
        "stylegan2": [Setting(16, 8, _stylegan2(512, 32))],
        "transgan": [Setting(16, 16, _transformer(64, 32))],
    },
    "smoke": {  # checks the script in seconds
        "dcgan": [Setting(28, 4, _conv(8))],
        "cyclegan": [Setting(32, 1, _resnet(4, 4)), Setting(32, 2, _resnet(4, 4))],
        "stylegan2": [Setting(16, 4, _stylegan2(128, 16))],
        "transgan": [Setting(16, 4, _transformer(64, 32))],
    },
}


# --- timing ------------------------------------------------------------------------------------------


def build(family: Family, setting: Setting) -> AdversarialModule:
    """The family's model at this size, with the same initial weights every time."""
    torch.manual_seed(0)
    return model_from_config(
        [*family.overrides, *setting.sizes], (family.channels, setting.side, setting.side)
    )


def framework_seconds(family: Family, setting: Setting, batch: Batch, args: argparse.Namespace) -> float:
    """Seconds per generator step of gan-lightning's Trainer over ``batch``, repeated."""
    model = build(family, setting)
    loader = DataLoader([batch] * (args.warmup + args.steps), batch_size=None)  # the same batch each step
    timer = WindowTimer(args.warmup, args.steps)
    fit_timed(model, loader, timer, args.device)
    return timer.seconds_per_batch()


def plain_seconds(family: Family, setting: Setting, batch: Batch, args: argparse.Namespace) -> float:
    """Seconds per generator step of the family's plain loop over the networks of the same model."""
    step = family.plain_loop(build(family, setting).to(args.device).train(), batch)
    for i in range(args.warmup):
        step(i)
    synchronize(args.device)
    start = time.perf_counter()
    for i in range(args.warmup, args.warmup + args.steps):
        step(i)
    synchronize(args.device)
    return (time.perf_counter() - start) / args.steps


def compare(name: str, setting: Setting, args: argparse.Namespace) -> tuple[float, float]:
    """Medians of (framework, plain loop) seconds per step over ``args.repeats`` alternating runs."""
    family = FAMILIES[name]
    shape = (family.channels, setting.side, setting.side)
    batch = synthetic_batch(shape, setting.batch, family.two_domains, args.device)
    framework, plain = [], []
    for _ in range(args.repeats):
        framework.append(framework_seconds(family, setting, batch, args))
        plain.append(plain_seconds(family, setting, batch, args))
    return statistics.median(framework), statistics.median(plain)


def line(label: str, framework: float, plain: float, batch: int | None) -> str:
    """One line of the report: ms per step (and images per second) of both, and their ratio."""

    def rate(seconds: float) -> str:
        return f" ({batch / seconds:.1f} images/s)" if batch else ""

    return (
        f"{label:<24} framework {1e3 * framework:.1f} ms/step{rate(framework)}   "
        f"plain {1e3 * plain:.1f} ms/step{rate(plain)}   ratio {framework / plain:.3f}"
    )


def parse_args() -> argparse.Namespace:
    """The options, with ``--smoke``'s defaults where none is given."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", default=",".join(FAMILIES), help="comma-separated families")
    parser.add_argument("--steps", type=int, default=None, help="timed steps per run (default 32; smoke 2)")
    parser.add_argument("--warmup", type=int, default=None, help="untimed steps first (default 8; smoke 1)")
    parser.add_argument("--repeats", type=int, default=None, help="alternating runs (default 3; smoke 1)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes and 2 steps: checks the script")
    args = parser.parse_args()
    for key, default, smoke in (("steps", 32, 2), ("warmup", 8, 1), ("repeats", 3, 1)):
        if getattr(args, key) is None:
            setattr(args, key, smoke if args.smoke else default)
    unknown = sorted(set(args.only.split(",")) - set(FAMILIES))
    if unknown:
        parser.error(f"unknown families {unknown}; choose from {', '.join(FAMILIES)}")
    if args.steps < 1 or args.warmup < 1 or args.repeats < 1:
        parser.error("--steps, --warmup and --repeats must be at least 1")
    return args


def main() -> None:
    args = parse_args()
    logging.getLogger("pytorch_lightning").setLevel(logging.ERROR)  # no "GPU available" banners
    warnings.filterwarnings(
        "ignore", ".*(does not have many workers|smaller than the logging interval|LeafSpec).*"
    )
    configure_cuda()  # the training command's CUDA defaults (TF32, cuDNN autotuner), for both sides
    sizes = SIZES["smoke" if args.smoke else "cuda" if args.device == "cuda" else "cpu"]
    where = (
        torch.cuda.get_device_name() if args.device == "cuda" else f"cpu, {torch.get_num_threads()} threads"
    )
    print(f"# {where}, torch {torch.__version__}: {args.steps} timed steps after {args.warmup} warm-up, "
          f"median of {args.repeats} alternating runs, fp32 (TF32 on CUDA)", flush=True)  # fmt: skip
    started, totals = time.perf_counter(), [0.0, 0.0]
    for name in args.only.split(","):
        for setting in sizes[name]:
            framework, plain = compare(name, setting, args)
            totals[0], totals[1] = totals[0] + framework, totals[1] + plain
            print(
                line(f"{name} {setting.side}px batch {setting.batch}", framework, plain, setting.batch),
                flush=True,
            )
    elapsed = time.perf_counter() - started
    print(line(f"total ({elapsed:.0f} s)", *totals, None), flush=True)


if __name__ == "__main__":
    main()
