"""``python -m gan_lightning.evaluate samples=PATH data=NAME``: samples written by ``sample`` score what
their checkpoint scores (.pt: equal; a PNG folder: close, 8-bit rounding), and every bad input is named
before any work."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gan_lightning.evaluate import main as evaluate_main
from gan_lightning.sample import main as sample_main
from tests.eval_helpers import (
    classifier_cache,
    run_main,
    tiny_checkpoint,
    tiny_classifier,
    tiny_data_root,
)

METRICS = ("fid", "kid", "kid_std", "class_acc", "class_histogram")


pytestmark = pytest.mark.usefixtures("one_thread")  # tests.conftest: tiny nets, one thread


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    return tiny_data_root(tmp_path_factory)


@pytest.fixture
def cache(tmp_path, monkeypatch, tmp_path_factory) -> Path:
    """A GAN_CACHE_DIR holding the tiny MNIST classifier."""
    return classifier_cache(tmp_path, monkeypatch, tiny_classifier(tmp_path_factory))


def evaluate(capsys, *args: str) -> tuple[int, str, str]:
    return run_main(evaluate_main, capsys, "device=cpu", "kid_subset_size=20", *args)


def scored(capsys, *args: str) -> dict:
    code, out, err = evaluate(capsys, *args)
    assert code == 0, err
    return json.loads(out)


def write_samples(capsys, ckpt: Path, out: str, n: int, seed: int) -> None:
    code, _, err = run_main(
        sample_main, capsys, f"ckpt={ckpt}", "device=cpu", f"n={n}", f"seed={seed}", f"out={out}"
    )
    assert code == 0, err


@pytest.mark.parametrize("kind", ["cgan", "dcgan"])
def test_samples_of_a_checkpoint_score_what_the_checkpoint_scores(
    kind, tmp_path_factory, root, cache, tmp_path, capsys
):
    ckpt = tiny_checkpoint(kind, tmp_path_factory)
    direct = scored(capsys, f"ckpt={ckpt}", "n=40", "seed=3", f"data_root={root}")
    write_samples(capsys, ckpt, str(tmp_path / "x.pt"), 40, 3)
    write_samples(capsys, ckpt, f"{tmp_path / 'pngs'}/", 40, 3)
    data = ("data=mnist", f"data.root={root}", "n=40")
    from_pt = scored(capsys, f"samples={tmp_path / 'x.pt'}", *data)
    from_png = scored(capsys, f"samples={tmp_path / 'pngs'}/", *data)

    assert {k: from_pt[k] for k in METRICS if k in direct} == {k: direct[k] for k in METRICS if k in direct}
    assert (
        ("class_acc" in direct) == ("class_acc" in from_pt) == ("class_acc" in from_png) == (kind == "cgan")
    )
    protocol = {k: v for k, v in direct["protocol"].items() if k != "generator"}
    for values in (from_pt, from_png):
        assert {k: v for k, v in values["protocol"].items() if k != "generator"} == protocol
        assert values["protocol"]["generator"] == "samples" and values["images"] == 40
    assert from_png["fid"] == pytest.approx(direct["fid"], rel=0.02, abs=1e-3)
    assert from_png["kid"] == pytest.approx(direct["kid"], rel=0.05, abs=1e-3)
    if kind == "cgan":
        assert from_png["class_acc"] == pytest.approx(direct["class_acc"], abs=0.051)
    pngs = sorted((tmp_path / "pngs").glob("*.png"))
    assert [p.name for p in pngs[:2]] == ["000000.png", "000001.png"] and len(pngs) == 40
    with Image.open(pngs[0]) as image:
        assert image.mode == "L" and image.size == (28, 28)
    labels = tmp_path / "pngs" / "labels.txt"
    assert labels.is_file() == (kind == "cgan")


def test_npz_arrays_in_any_layout_score_alike(tmp_path_factory, root, cache, tmp_path, capsys):
    ckpt = tiny_checkpoint("dcgan", tmp_path_factory)
    write_samples(capsys, ckpt, str(tmp_path / "x.pt"), 40, 0)
    images = torch.load(tmp_path / "x.pt", weights_only=True)["images"]
    pixels = images.add(1).mul(127.5).round().clamp(0, 255).to(torch.uint8).numpy()
    np.savez(tmp_path / "nchw.npz", images=pixels)
    np.savez(tmp_path / "nhwc.npz", pixels.transpose(0, 2, 3, 1).repeat(3, axis=-1))  # arr_0, RGB
    data = ("data=mnist", f"data.root={root}", "n=40")
    first = scored(capsys, f"samples={tmp_path / 'nchw.npz'}", *data)
    second = scored(capsys, f"samples={tmp_path / 'nhwc.npz'}", *data)
    assert first["fid"] == second["fid"] and first["kid"] == second["kid"]


def test_fewer_images_than_n_says_how_many_and_offers_n(tmp_path_factory, root, tmp_path, capsys):
    torch.save(torch.zeros(30, 1, 28, 28), tmp_path / "few.pt")
    code, out, err = evaluate(
        capsys, f"samples={tmp_path / 'few.pt'}", "data=mnist", f"data.root={root}", "n=40"
    )
    assert code == 2 and out == ""
    assert "holds 30 images, fewer than the 40" in err and "n=30" in err


def bad_folder(tmp_path: Path, kind: str) -> Path:
    folder = tmp_path / kind
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        Image.fromarray((rng.random((28, 28)) * 255).astype(np.uint8)).save(folder / f"{i}.png")
    if kind == "broken":
        (folder / "0_sub").mkdir()  # among the first 3 files: 0.png, 0_sub/9.png, 1.png
        (folder / "0_sub" / "9.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    elif kind == "big":
        Image.fromarray(np.zeros((32, 32), np.uint8)).save(folder / "2.png")
    elif kind == "colour":
        Image.fromarray((rng.random((28, 28, 3)) * 255).astype(np.uint8)).save(folder / "1.png")
    elif kind == "empty":
        for file in folder.iterdir():
            file.unlink()
        (folder / "notes.txt").write_text("no images")
    return folder


def bad_file(tmp_path: Path, kind: str) -> Path:
    """A samples file of ``kind``: its problem."""
    path = tmp_path / {"h5": "x.h5", "garbage": "t.pt", "ints": "i.npz"}.get(kind, f"{kind}.pt")
    contents = {
        "range": torch.rand(4, 1, 28, 28) * 3,
        "size": torch.zeros(4, 1, 32, 32),
        "channels": torch.zeros(4, 2, 28, 28),
        "zeros": torch.zeros(4, 1, 28, 28),
        "labels": {"images": torch.zeros(4, 1, 28, 28), "labels": torch.tensor([12, 1, 2, 3])},
    }
    if kind in contents:
        torch.save(contents[kind], path)
    elif kind == "ints":
        np.savez(path, np.full((4, 28, 28), 300, np.int32))
    elif kind in ("h5", "garbage"):
        path.write_bytes(b"garbage")
    return path


@pytest.mark.parametrize(
    ("kind", "extra", "message"),
    [
        ("missing", (), "no such file or folder"),
        ("h5", (), "use a folder of PNG/JPEG images, an .npz"),
        ("empty", (), "holds no PNG/JPEG images (searched recursively)"),
        ("broken", (), "cannot read 0_sub/9.png"),
        ("big", (), "2.png is 32x32 pixels, the data's images are 28x28"),
        ("colour", (), "colour images (3 channels that differ), the data's images are grayscale"),
        ("range", (), "must lie in [-1, 1]"),
        ("size", (), "holds images of shape (4, 1, 32, 32)"),
        ("channels", (), "images with 2 channels"),
        ("ints", (), "[0, 255]; these span [300, 300]"),
        ("garbage", (), "t.pt is not readable"),
        ("zeros", ("metrics=[fid,class_acc]",), "class_acc needs the class each sample"),
        ("zeros", ("metrics=[fid,ppl]",), "ppl measures the generator's latent paths"),
        ("labels", (), "labels [12] are not classes"),
    ],
)
def test_bad_samples_are_named_before_any_work(kind, extra, message, root, tmp_path, capsys):
    folder = kind in ("empty", "broken", "big", "colour")
    path = bad_folder(tmp_path, kind) if folder else bad_file(tmp_path, kind)
    args = (f"samples={path}", "data=mnist", f"data.root={root}", "n=3", "train_classifier=false", *extra)
    code, out, err = evaluate(capsys, *args)
    assert code == 2 and out == "", err
    assert message in err and "Traceback" not in err


def test_samples_need_a_dataset_and_exclude_a_checkpoint(tmp_path_factory, tmp_path, capsys):
    torch.save(torch.zeros(4, 1, 28, 28), tmp_path / "z.pt")
    code, _, err = evaluate(capsys, f"samples={tmp_path / 'z.pt'}", "n=4")
    assert code == 2 and "give data=NAME as for training" in err
    code, _, err = evaluate(capsys, f"samples={tmp_path / 'z.pt'}", "data=gaussian_mixture", "n=4")
    assert code == 2 and "2-D toy data" in err
    ckpt = tiny_checkpoint("dcgan", tmp_path_factory)
    code, _, err = evaluate(capsys, f"samples={tmp_path / 'z.pt'}", f"ckpt={ckpt}", "data=mnist")
    assert code == 2 and "one of the two" in err
    code, _, err = evaluate(capsys)
    assert code == 2 and "Give ckpt=PATH" in err
    code, _, err = evaluate(capsys, f"ckpt={ckpt}", "data=mnist")
    assert code == 2 and "data= and labels= go with samples=" in err


def test_sample_folder_output_refuses_a_folder_with_images(tmp_path_factory, tmp_path, capsys):
    ckpt = tiny_checkpoint("dcgan", tmp_path_factory)
    folder = bad_folder(tmp_path, "full")
    code, _, err = run_main(sample_main, capsys, f"ckpt={ckpt}", "device=cpu", f"out={folder}/")
    assert code == 2 and "already holds images" in err
