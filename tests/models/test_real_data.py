"""The new families train from their README commands on the real datasets of ../shared/datasets (a few
steps each, small widths): StyleGAN on Fashion-MNIST, StyleGAN2 and TransGAN on the anime faces and
MNIST, CycleGAN on horse2zebra. Skipped where the data is missing."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from gan_lightning.train import train
from tests.conftest import SHARED_DATASETS
from tests.helpers import QUICK, QUICK_TRANSLATION, TINY_TRANSGAN

CASES = {
    "stylegan-fashion_mnist": (
        "fashion_mnist", "FashionMNIST", *QUICK, "model=stylegan", "data=fashion_mnist",
        "model.progressive.stable_steps=0", "model.progressive.fade_steps=1",
        "model.networks.stylegan.generator.channel_max=16",
        "model.networks.stylegan.discriminator.channel_max=16",
    ),
    "stylegan2-anime": (
        "anime", "anime-faces", *QUICK, "model=stylegan2", "data=image_folder",
        f"data.path={SHARED_DATASETS / 'anime-faces'}", "data.image_size=64", "data.batch_size=4",
        "model.networks.stylegan2.generator.channel_max=16",
        "model.networks.stylegan2.discriminator.channel_max=16",
    ),
    "transgan-mnist": ("mnist", "MNIST", *QUICK, "model=transgan", "data=mnist", *TINY_TRANSGAN),
    "cyclegan-horse2zebra": (
        "h2z", "horse2zebra-128", *QUICK_TRANSLATION, "model=cyclegan",
        f"data.path={SHARED_DATASETS / 'horse2zebra-128'}", "data.image_size=64",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_family_trains_on_real_data(compose_cfg, tmp_path: Path, case: str):
    _, folder, *overrides = CASES[case]
    if not (SHARED_DATASETS / folder).is_dir():
        pytest.skip(f"needs ../shared/datasets/{folder}")
    cfg = compose_cfg(*overrides, f"data.root={SHARED_DATASETS}", "trainer.max_steps=2", "metrics=none")
    out = Path(cfg.paths.output_dir)
    train(cfg, out)
    state = torch.load(out / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)["state_dict"]
    assert state["generator_step"].item() == 2
    assert (out / "samples" / "step_0000002.png").is_file()
