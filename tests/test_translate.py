"""``python -m gan_lightning.translate`` end to end, and what ``sample`` / ``evaluate`` do with a
translation checkpoint."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gan_lightning.train import train
from tests.helpers import QUICK_TRANSLATION
from tests.test_cli import cli


@pytest.fixture
def cyclegan_checkpoint(compose_cfg, two_domains) -> Path:
    cfg = compose_cfg(
        *QUICK_TRANSLATION, "model=cyclegan", f"data.path={two_domains}", f"data.root={two_domains.parent}",
        "model.ema_kimg=0.01", "metrics=none",
    )  # fmt: skip
    out = Path(cfg.paths.output_dir)
    train(cfg, out)
    return out / "checkpoints" / "last.ckpt"


def tool(name: str, *args: str):
    return cli(*args, command=[sys.executable, "-m", f"gan_lightning.{name}"])


def test_translate_a_folder_keeps_names_and_refuses_to_overwrite(cyclegan_checkpoint, tmp_path):
    source = tmp_path / "horses"
    (source / "sub").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in ("h1.jpg", "h2.png", "sub/h3.png"):
        Image.fromarray((rng.random((40, 50, 3)) * 255).astype(np.uint8)).save(source / name)
    (source / "notes.txt").write_text("not an image")
    out = tmp_path / "zebras"
    result = tool("translate", f"ckpt={cyclegan_checkpoint}", f"input={source}", f"output={out}")
    assert result.returncode == 0, result.stderr[-3000:]
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*.png"))
    assert written == ["h1.png", "h2.png", "sub/h3.png"]
    assert Image.open(out / "h1.png").size == (32, 32)  # the model's training size
    before = (out / "h1.png").read_bytes()

    again = tool(
        "translate", f"ckpt={cyclegan_checkpoint}", f"input={source}", f"output={out}", "direction=b2a"
    )
    assert again.returncode == 2 and "already exist" in again.stderr
    assert (out / "h1.png").read_bytes() == before  # nothing was touched

    b2a = tool(
        "translate", f"ckpt={cyclegan_checkpoint}", f"input={source / 'h1.jpg'}", f"output={out}",
        "direction=b2a", "overwrite=true", "ema=false",
    )  # fmt: skip
    assert b2a.returncode == 0, b2a.stderr[-3000:]
    assert (out / "h1.png").read_bytes() != before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("input=/nonexistent/folder",), "no such file or folder"),
        (("direction=x2y",), "a2b"),
    ],
)
def test_translate_bad_input(cyclegan_checkpoint, tmp_path, args, message):
    source = tmp_path / "in"
    source.mkdir()
    Image.new("RGB", (8, 8)).save(source / "a.png")
    output = f"output={tmp_path / 'o'}"
    result = tool("translate", f"ckpt={cyclegan_checkpoint}", f"input={source}", output, *args)
    assert result.returncode == 2 and message in result.stderr


def test_translate_names_an_unreadable_file(cyclegan_checkpoint, tmp_path):
    source = tmp_path / "in"
    source.mkdir()
    Image.new("RGB", (8, 8)).save(source / "good.png")
    (source / "broken.jpg").write_bytes(b"not a jpeg")
    result = tool("translate", f"ckpt={cyclegan_checkpoint}", f"input={source}", f"output={tmp_path / 'o'}")
    assert result.returncode == 2 and "broken.jpg" in result.stderr
    assert not (tmp_path / "o").exists()


def test_sample_points_to_translate_and_evaluate_measures_translation(cyclegan_checkpoint, tmp_path):
    sampled = tool("sample", f"ckpt={cyclegan_checkpoint}", f"out={tmp_path / 's.png'}")
    assert sampled.returncode == 2 and "gan_lightning.translate" in sampled.stderr
    evaluated = tool("evaluate", f"ckpt={cyclegan_checkpoint}")
    assert evaluated.returncode == 0, evaluated.stderr[-3000:]
    values = json.loads(evaluated.stdout.strip().splitlines()[-1])
    for direction in ("a2b", "b2a"):
        assert 0.0 <= values[f"domain_acc_{direction}"] <= 1.0
        assert values[f"cycle_psnr_{direction}"] > 0 and values[f"fid_{direction}"] >= 0
    assert values["protocol"]["generator"] == "ema" and values["protocol"]["test_images"] == {"a": 4, "b": 4}
