"""``python -m gan_lightning.sample``: grids, tensors, one class, interpolations, seeds, bad checkpoints.

The command runs in a subprocess once (the real entry point); the other cases run its Hydra ``main``
in-process, the same path from the command line on, without an interpreter start-up each.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image

from gan_lightning.sample import main
from tests.eval_helpers import cli, run_main, single_thread, tiny_checkpoint

PAD = 2  # torchvision's make_grid padding


def grid_size(rows: int, columns: int, side: int = 28) -> tuple[int, int]:
    """(width, height) of a grid of ``rows`` x ``columns`` images with padding around each."""
    return columns * side + (columns + 1) * PAD, rows * side + (rows + 1) * PAD


@pytest.fixture(autouse=True)
def _one_thread():
    with single_thread():
        yield


@pytest.fixture(scope="module")
def cgan(tmp_path_factory) -> Path:
    return tiny_checkpoint("cgan", tmp_path_factory)


@pytest.fixture(scope="module")
def dcgan(tmp_path_factory) -> Path:
    return tiny_checkpoint("dcgan", tmp_path_factory)


@pytest.fixture(scope="module")
def toy(tmp_path_factory) -> Path:
    return tiny_checkpoint("toy", tmp_path_factory)


def sample(capsys, ckpt: Path, *args: str) -> tuple[int, str, str]:
    return run_main(main, capsys, f"ckpt={ckpt}", "device=cpu", *args)


def test_grid_png_from_the_command_line(cgan, tmp_path):
    out = tmp_path / "grid.png"
    result = cli("gan_lightning.sample", f"ckpt={cgan}", "n=16", "nrow=8", f"out={out}", "device=cpu")
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"Wrote 16 samples to {out}" in result.stdout
    with Image.open(out) as image:
        assert image.format == "PNG"
        assert image.size == grid_size(rows=2, columns=8) == (8 * 28 + 9 * 2, 2 * 28 + 3 * 2)


def test_tensors_of_a_conditional_model_cycle_through_the_classes(cgan, tmp_path, capsys):
    code, out, err = sample(capsys, cgan, "n=23", f"out={tmp_path / 's.pt'}")
    assert code == 0, err
    saved = torch.load(tmp_path / "s.pt", weights_only=True)
    images, labels = saved["images"], saved["labels"]
    assert images.dtype == torch.float32 and images.shape == (23, 1, 28, 28)
    assert images.min() >= -1 and images.max() <= 1 and images.std() > 0
    assert labels.dtype == torch.long
    assert labels.tolist() == [i % 10 for i in range(23)]


def test_tensors_of_an_unconditional_model_have_no_labels(dcgan, tmp_path, capsys):
    code, _, err = sample(capsys, dcgan, "n=5", f"out={tmp_path / 's.pt'}")
    assert code == 0, err
    saved = torch.load(tmp_path / "s.pt", weights_only=True)
    assert set(saved) == {"images"}
    assert saved["images"].shape == (5, 1, 28, 28)
    assert saved["images"].abs().max() <= 1


def test_one_class(cgan, tmp_path, capsys):
    code, _, err = sample(capsys, cgan, "n=12", "label=3", f"out={tmp_path / 's.pt'}")
    assert code == 0, err
    assert torch.load(tmp_path / "s.pt", weights_only=True)["labels"].tolist() == [3] * 12


def test_one_class_needs_a_conditional_model(dcgan, tmp_path, capsys):
    code, out, err = sample(capsys, dcgan, "n=4", "label=3", f"out={tmp_path / 's.pt'}")
    assert code == 2
    assert "label= needs a conditional model" in err
    assert not (tmp_path / "s.pt").exists()


def test_unknown_class(cgan, tmp_path, capsys):
    code, _, err = sample(capsys, cgan, "n=4", "label=42", f"out={tmp_path / 's.png'}")
    assert code == 2
    assert "label=42 is not one of the classes" in err and "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]" in err
    assert not (tmp_path / "s.png").exists()


def test_interpolation_grid(cgan, tmp_path, capsys):
    code, _, err = sample(capsys, cgan, "interpolate=true", "rows=2", "steps=5", f"out={tmp_path / 'i.png'}")
    assert code == 0, err
    with Image.open(tmp_path / "i.png") as image:
        assert image.size == grid_size(rows=2, columns=5)


def test_interpolation_tensors_walk_between_two_ends(cgan, tmp_path, capsys):
    code, _, err = sample(capsys, cgan, "interpolate=true", "rows=2", "steps=5", f"out={tmp_path / 'i.pt'}")
    assert code == 0, err
    saved = torch.load(tmp_path / "i.pt", weights_only=True)
    assert saved["images"].shape == (10, 1, 28, 28)
    assert saved["labels"].tolist() == [0] * 5 + [1] * 5  # each row keeps its class
    rows = saved["images"].view(2, 5, -1)
    # Neighbouring steps of a row are closer to each other than the two ends are.
    step = (rows[:, 1:] - rows[:, :-1]).norm(dim=-1).max(dim=1).values
    ends = (rows[:, -1] - rows[:, 0]).norm(dim=-1)
    assert (step < ends).all()


def test_same_seed_same_samples_other_seed_other_samples(dcgan, tmp_path, capsys):
    runs = {}
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        code, _, err = sample(capsys, dcgan, "n=6", f"seed={seed}", f"out={tmp_path / name}.pt")
        assert code == 0, err
        runs[name] = torch.load(tmp_path / f"{name}.pt", weights_only=True)["images"]
    assert torch.equal(runs["a"], runs["b"])
    assert not torch.allclose(runs["a"], runs["c"])


def test_toy_checkpoint_scatter_plot_and_points(toy, tmp_path, capsys):
    code, _, err = sample(capsys, toy, "n=200", f"out={tmp_path / 'toy.png'}")
    assert code == 0, err
    with Image.open(tmp_path / "toy.png") as image:
        assert image.format == "PNG" and min(image.size) > 100
    code, _, err = sample(capsys, toy, "n=200", f"out={tmp_path / 'toy.pt'}")
    assert code == 0, err
    saved = torch.load(tmp_path / "toy.pt", weights_only=True)
    assert set(saved) == {"images"}
    points = saved["images"]
    assert points.shape == (200, 2) and points.dtype == torch.float32 and torch.isfinite(points).all()


def test_a_file_that_is_not_a_checkpoint(tmp_path, capsys):
    text = tmp_path / "notes.ckpt"
    text.write_text("not a checkpoint\n")
    code, out, err = sample(capsys, text, f"out={tmp_path / 's.png'}")
    assert code == 2
    assert f"ckpt={text} is not a readable checkpoint" in err
    assert "Traceback" not in err


def test_a_missing_checkpoint(tmp_path, capsys):
    code, _, err = sample(capsys, tmp_path / "missing.ckpt", f"out={tmp_path / 's.png'}")
    assert code == 2
    assert f"ckpt={tmp_path / 'missing.ckpt'}: no such file" in err


@pytest.mark.parametrize(
    ("args", "message"), [(("n=0",), "n must be positive"), (("out=s.gif",), "out=s.gif")]
)
def test_bad_options(dcgan, capsys, args, message):
    code, _, err = sample(capsys, dcgan, *args)
    assert code == 2 and message in err
