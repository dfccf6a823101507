"""Sample grids: layout, one row per class for conditional models, fixed noise kept in checkpoints."""

from __future__ import annotations

from pathlib import Path

import torch
from PIL import Image

from gan_lightning.train import train
from tests.helpers import QUICK

PAD = 2  # torchvision's make_grid padding


def grid_size(rows: int, cols: int, side: int = 28) -> tuple[int, int]:
    return cols * side + (cols + 1) * PAD, rows * side + (rows + 1) * PAD


def test_unconditional_grid_is_8_by_8(compose_cfg, mnist_root):
    cfg = compose_cfg(*QUICK, "model=dcgan", f"data.root={mnist_root}")
    train(cfg, Path(cfg.paths.output_dir))
    image = Image.open(Path(cfg.paths.output_dir) / "samples" / "step_0000003.png")
    assert image.size == grid_size(8, 8)


def test_conditional_grid_has_one_row_per_class_in_class_order(compose_cfg, mnist_root):
    cfg = compose_cfg(
        *QUICK, "model=cgan", "data.classes=[5,2]", "data.batch_size=4", f"data.root={mnist_root}"
    )
    out = Path(cfg.paths.output_dir)
    train(cfg, out)
    state = torch.load(out / "checkpoints" / "last.ckpt", weights_only=False)["callbacks"]["SampleGrid"]
    assert state["labels"].tolist() == [5] * 8 + [2] * 8  # rows follow data.classes
    assert Image.open(out / "samples" / "step_0000003.png").size == grid_size(2, 8)


def test_fixed_noise_does_not_depend_on_the_run_seed(compose_cfg, mnist_root, tmp_path):
    states = []
    for seed in (1, 2):
        out = tmp_path / f"s{seed}"
        train(compose_cfg(*QUICK, f"seed={seed}", f"data.root={mnist_root}", out=out), out)
        states.append(
            torch.load(out / "checkpoints" / "last.ckpt", weights_only=False)["callbacks"]["SampleGrid"]
        )
    torch.testing.assert_close(states[0]["z"], states[1]["z"])
    assert states[0]["z"].shape == (64, 100)


def test_toy_data_gets_a_scatter_plot(compose_cfg):
    cfg = compose_cfg(*QUICK, "model=gan", "data=gaussian_mixture", "data.n_samples=256")
    train(cfg, Path(cfg.paths.output_dir))
    plot = Image.open(Path(cfg.paths.output_dir) / "samples" / "step_0000003.png")
    assert plot.size == (500, 500)  # a 5x5 inch matplotlib figure at 100 dpi
    assert len(set(plot.convert("RGB").getdata())) > 10  # points were drawn, not a blank canvas
