"""pix2pix end to end: ``model=pix2pix data=paired data.derive=edges`` trains, grids show source |
output | target, ``translate`` derives the edges of the photos it is given, ``evaluate`` measures the
pairs, ``sample`` points to ``translate``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gan_lightning.checkpoints import load_model
from gan_lightning.data.image_files import ImageFiles
from gan_lightning.data.paired import derive_source
from gan_lightning.train import train
from tests.helpers import QUICK_RUN
from tests.test_translate import tool

TINY_PIX2PIX = (
    "model=pix2pix",
    "data=paired",
    "data.derive=edges",
    "data.image_size=32",
    "model.networks.generator.base_channels=4",
    "model.networks.discriminator.base_channels=4",
    "model.networks.discriminator.n_layers=2",
    *QUICK_RUN,
    "data.batch_size=2",
)


def faces(folder: Path, n: int = 20, size: int = 40) -> Path:
    """Photos with a bright disc on a tinted background: shapes with edges to derive."""
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    yy, xx = np.mgrid[:size, :size]
    for i in range(n):
        pixels = np.zeros((size, size, 3)) + rng.integers(0, 120, 3)
        disc = (yy - 20 - i % 5) ** 2 + (xx - 18) ** 2 < (6 + i % 4) ** 2
        pixels[disc] = [250, 200, 160]
        Image.fromarray(pixels.astype(np.uint8)).save(folder / f"face_{i:02d}.png")
    return folder


@pytest.fixture
def pix2pix_run(compose_cfg, tmp_path) -> Path:
    cfg = compose_cfg(
        *TINY_PIX2PIX, f"data.path={faces(tmp_path / 'faces')}", "metrics=none", "model.ema_kimg=0.01"
    )
    out = Path(cfg.paths.output_dir)
    train(cfg, out)
    return out


def test_trains_and_grids_show_source_output_target(pix2pix_run):
    model = load_model(pix2pix_run / "checkpoints" / "last.ckpt")
    assert int(model.generator_step) == 3 and model.hparams.source_shape == [1, 32, 32]
    grid = np.asarray(Image.open(sorted((pix2pix_run / "samples").glob("*.png"))[-1]))
    columns = 3  # a grid of 3 images per row, each 32 px with 2 px padding
    assert grid.shape[1] == columns * 32 + (columns + 1) * 2


def test_translate_derives_the_edges_of_the_photos(pix2pix_run, tmp_path):
    photos = faces(tmp_path / "photos", n=3)
    ckpt = pix2pix_run / "checkpoints" / "last.ckpt"
    done = tool("translate", f"ckpt={ckpt}", f"input={photos}", f"output={tmp_path / 'out'}", "device=cpu")
    assert done.returncode == 0, done.stderr[-2000:]
    model = load_model(ckpt)
    images = torch.stack([ImageFiles([p], None, 32)[0][0] for p in sorted(photos.glob("*.png"))])
    with torch.no_grad():
        expected = model.translate(derive_source(images, "edges"))
    written = np.asarray(Image.open(tmp_path / "out" / "face_00.png"), dtype=np.float32) / 255 * 2 - 1
    assert written.shape == (32, 32, 3)
    np.testing.assert_allclose(
        written, expected[0].permute(1, 2, 0).clamp(-1, 1).numpy(), atol=2 / 255 + 1e-6
    )


def test_one_direction_and_sample_points_to_translate(pix2pix_run, tmp_path):
    ckpt = pix2pix_run / "checkpoints" / "last.ckpt"
    photo = faces(tmp_path / "p", n=1)
    backwards = tool(
        "translate", f"ckpt={ckpt}", f"input={photo}", f"output={tmp_path / 'o'}", "direction=b2a"
    )
    assert backwards.returncode == 2 and "one way" in backwards.stderr and not (tmp_path / "o").exists()
    sampled = tool("sample", f"ckpt={ckpt}", f"out={tmp_path / 's.png'}")
    assert sampled.returncode == 2 and "gan_lightning.translate" in sampled.stderr


@pytest.mark.slow
def test_evaluate_measures_the_test_pairs(pix2pix_run, tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_CACHE_DIR", str(tmp_path / "cache"))  # the rotation net of the targets
    done = tool("evaluate", f"ckpt={pix2pix_run / 'checkpoints' / 'last.ckpt'}", "device=cpu")
    assert done.returncode == 0, done.stderr[-3000:]
    values = json.loads(done.stdout.strip().splitlines()[-1])
    assert values["protocol"]["test_pairs"] == 2 and values["protocol"]["generator"] == "ema"
    assert 0 < values["l1"] <= 2 and values["psnr"] > 0 and values["fid"] >= 0
