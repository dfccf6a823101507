"""Digests of every family's weights after a short seeded run: the proof that a change of the training
machinery left the numerics alone (same seed, same budget, bit-identical weights on the CPU).

    python benchmarks/weights_digest.py [--only dcgan,cgan,...] [--steps 12] > digests.txt

Each case is a real ``python -m gan_lightning`` command line (logger, callbacks and metrics off)
trained ``--steps`` generator steps from seed 0 on the real data under $GAN_DATA_DIR; it prints one
line per case: the SHA-256 of every network's and EMA copy's state_dict, the family's buffers
included. Run it on two commits (``PYTHONPATH=<checkout> python benchmarks/weights_digest.py``) and
diff the outputs.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

DATA = os.environ.get("GAN_DATA_DIR", "./data")
SMALL_STYLEGAN2 = [
    "model.networks.stylegan2.generator.channel_base=512",
    "model.networks.stylegan2.generator.channel_max=32",
    "model.networks.stylegan2.discriminator.channel_base=512",
    "model.networks.stylegan2.discriminator.channel_max=32",
    "model.networks.stylegan2.generator.mapping_layers=2",
]
#: case -> overrides of ``python -m gan_lightning`` (besides seed, budget and everything off)
CASES: dict[str, list[str]] = {
    "gan": ["model=gan"],
    "dcgan": ["model=dcgan"],
    "cgan": ["model=cgan", "data=fashion_mnist"],
    "lsgan": ["model=lsgan"],
    "wgan_gp_n_critic": ["model=gan", "model.loss=wasserstein", "model.n_critic=2"],
    "dcgan_ada_ema_r1": [
        "model=dcgan", "augment=ada", "augment.p_init=0.2", "model.ema_kimg=1", "model.ema_rampup=0.05",
        "model.r1_gamma=1", "model.r1_every=4",
    ],
    "dcgan_diffaugment": ["model=dcgan", "augment=diffaugment"],
    "stylegan2": [
        "model=stylegan2", *SMALL_STYLEGAN2, "model.r1_every=4", "model.pl_every=3", "data.batch_size=16",
    ],
    "stylegan_mid_fade": [
        "model=stylegan", "model.networks.stylegan.generator.channel_max=32",
        "model.networks.stylegan.discriminator.channel_max=32",
        "model.networks.stylegan.generator.mapping_layers=2",
        "model.progressive.stable_steps=3", "model.progressive.fade_steps=3", "data.batch_size=16",
        "data=image_folder", f"data.path={DATA}/anime-faces", "data.image_size=16", "data.subset=256",
    ],
    "transgan": [
        "model=transgan", "data=cifar10", f"data.path={DATA}/CIFAR10-JPEG", "data.subset=512",
        "data.batch_size=16",
    ],
    "cyclegan": [
        "model=cyclegan", "data=unpaired", f"data.path={DATA}/horse2zebra-128", "data.image_size=32",
        "model.networks.resnet.generator.base_channels=8",
        "model.networks.resnet.discriminator.base_channels=8",
        "model.pool_size=3", "data.batch_size=2",
    ],
    "discogan": [
        "model=discogan", "data=unpaired", f"data.path={DATA}/horse2zebra-128", "data.image_size=64",
        "data.batch_size=4",
    ],
    "pix2pix": [
        "model=pix2pix", "data=paired", f"data.path={DATA}/horse2zebra-128/trainB", "data.derive=edges",
        "data.image_size=32", "model.networks.generator.base_channels=8",
        "model.networks.discriminator.base_channels=8", "data.batch_size=2",
    ],
}  # fmt: skip
# Recipes changed on purpose since commit a825baa, run as they were: these give the digests of
# ``dcgan_ada_ema_r1`` and ``stylegan2`` on that commit (ADA's six ops then; StyleGAN2 without mb_ratio).
CASES["dcgan_ada_six_ops"] = [
    *CASES["dcgan_ada_ema_r1"],
    "augment.ops=[xflip,rotate90,translation,brightness,contrast,saturation]",
]
CASES["stylegan2_no_mb_ratio"] = [*CASES["stylegan2"], "model.lazy_optimizer_scaling=false"]
COMMON = ["seed=0", "logger=none", "callbacks=none", "metrics=none", "trainer.enable_model_summary=false"]


def digest(checkpoint: Path) -> str:
    """SHA-256 of a checkpoint's weights and buffers (sorted by name), short form."""
    state = torch.load(checkpoint, map_location="cpu", weights_only=False)["state_dict"]
    sha = hashlib.sha256()
    for name in sorted(state):
        sha.update(name.encode())
        sha.update(state[name].detach().cpu().contiguous().numpy().tobytes())
    return sha.hexdigest()[:16]


def run_case(name: str, overrides: list[str], steps: int, workdir: Path) -> str:
    run_dir = workdir / name
    command = [
        sys.executable, "-m", "gan_lightning", *overrides, *COMMON, f"trainer.max_steps={steps}",
        f"hydra.run.dir={run_dir}", "+callbacks.last._target_=pytorch_lightning.callbacks.ModelCheckpoint",
        f"+callbacks.last.dirpath={run_dir}/checkpoints", "+callbacks.last.save_last=true",
        "+callbacks.last.save_top_k=0",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines()
        return f"FAILED ({lines[-1] if lines else result.returncode})"
    return digest(run_dir / "checkpoints" / "last.ckpt")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", default=",".join(CASES))
    parser.add_argument("--steps", type=int, default=12)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.only.split(","):
            print(f"{name:>20}  {run_case(name, CASES[name], args.steps, Path(tmp))}", flush=True)


if __name__ == "__main__":
    main()
