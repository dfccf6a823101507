"""Unreadable image files are found before training: named in the error, or skipped on request."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gan_lightning.data import CIFAR10DataModule, ImageFolderDataModule
from gan_lightning.data.broken_files import readable_indices, unreadable_reason
from gan_lightning.errors import ConfigError
from tests.conftest import make_image_folder
from tests.data.folders import make_cifar_copy, write_truncated


@pytest.fixture
def broken_folder(tmp_path: Path) -> Path:
    """12 good PNGs in cats/ and dogs/, plus a truncated PNG, a truncated JPEG and a text file named .jpg."""
    folder = make_image_folder(tmp_path / "images")
    write_truncated(folder / "cats" / "cut.png", "PNG")
    write_truncated(folder / "dogs" / "cut.jpg", "JPEG")
    (folder / "dogs" / "notes.jpg").write_text("this is not a picture")
    return folder


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "BMP", "WEBP"])
def test_truncated_files_are_caught(fmt: str, tmp_path: Path) -> None:
    assert unreadable_reason(write_truncated(tmp_path / f"x.{fmt.lower()}", fmt)) is not None


def test_good_files_pass(tmp_path: Path) -> None:
    pixels = (np.random.default_rng(0).random((20, 30, 3)) * 255).astype(np.uint8)
    for fmt in ("PNG", "JPEG", "BMP", "WEBP"):
        Image.fromarray(pixels).save(tmp_path / f"ok.{fmt.lower()}", fmt)
        assert unreadable_reason(tmp_path / f"ok.{fmt.lower()}") is None
    # Bytes after the JPEG's end marker do not make it broken (it is decoded in full to decide).
    jpeg = tmp_path / "ok.jpeg"
    (tmp_path / "tail.jpg").write_bytes(jpeg.read_bytes() + b"trailing metadata")
    assert unreadable_reason(tmp_path / "tail.jpg") is None


def test_text_file_named_jpg(tmp_path: Path) -> None:
    (tmp_path / "x.jpg").write_text("hello")
    assert "not an image" in unreadable_reason(tmp_path / "x.jpg")


def test_stops_with_the_names(broken_folder: Path) -> None:
    with pytest.raises(ConfigError) as info:
        ImageFolderDataModule(path=str(broken_folder), image_size=16, batch_size=4)
    message = str(info.value)
    assert "3 of the 15 image files" in message
    for name in ("cats/cut.png", "dogs/cut.jpg", "dogs/notes.jpg"):
        assert name in message
    assert "truncated" in message
    assert "data.skip_broken=true" in message


def test_names_at_most_five(tmp_path: Path) -> None:
    folder = make_image_folder(tmp_path / "images", classes=(), per_class=2)
    for i in range(7):
        (folder / f"bad{i}.png").write_bytes(b"\x89PNG nonsense")
    with pytest.raises(ConfigError) as info:
        ImageFolderDataModule(path=str(folder), image_size=16, batch_size=2)
    message = str(info.value)
    assert "7 of the 9 image files" in message
    assert sum(f"bad{i}.png" in message for i in range(7)) == 5
    assert "and 2 more" in message


def test_skip_broken_warns_and_leaves_them_out(broken_folder: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        dm = ImageFolderDataModule(path=str(broken_folder), image_size=16, batch_size=4, skip_broken=True)
    assert "3 of the 15 image files" in caplog.text
    assert "cats/cut.png" in caplog.text
    assert len(dm.paths) == 12
    assert all(p.name.startswith("img_") for p in dm.paths)
    assert dm.class_names == ["cats", "dogs"]
    assert dm.labels == [0] * 6 + [1] * 6
    dm.setup("fit")
    assert len(dm.train_set) == 12
    assert sum(len(y) for _, y in dm.train_dataloader()) == 12


def test_non_image_files_are_ignored(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = make_image_folder(tmp_path / "images", per_class=2)
    (folder / "README").write_text("about these images")
    (folder / "cats" / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (folder / "dogs" / "labels.csv").write_text("a,b\n")
    with caplog.at_level(logging.WARNING):
        dm = ImageFolderDataModule(path=str(folder), image_size=16, batch_size=2)
    assert len(dm.paths) == 4
    assert dm.num_classes == 2  # README at the top does not make the folder unlabelled
    assert caplog.text == ""


def test_readable_indices_keeps_order(broken_folder: Path) -> None:
    paths = sorted(broken_folder.rglob("*.*"))
    keep = readable_indices(paths, broken_folder, skip_broken=True)
    assert [paths[i].name for i in keep] == [f"img_{i}.png" for i in range(6)] * 2


def test_cifar_copy_is_checked(tmp_path: Path) -> None:
    copy = make_cifar_copy(tmp_path / "cifar")
    write_truncated(copy / "test" / "cat" / "9999.jpg", "JPEG", size=32)
    with pytest.raises(ConfigError, match=r"test/cat/9999\.jpg|cat/9999\.jpg"):
        CIFAR10DataModule(root=tmp_path / "data", path=str(copy), batch_size=4)
    dm = CIFAR10DataModule(root=tmp_path / "data", path=str(copy), batch_size=4, skip_broken=True)
    assert len(dm.load_split("test")) == 20
    assert len(dm.load_split("train")) == 30


def test_training_stops_before_writing_anything(compose_cfg, broken_folder: Path, tmp_path: Path) -> None:
    from gan_lightning.train import train

    out = tmp_path / "run"
    cfg = compose_cfg("data=image_folder", f"data.path={broken_folder}", "data.image_size=16", out=out)
    with pytest.raises(ConfigError, match="notes.jpg"):
        train(cfg, out)
    assert not list(out.rglob("*.ckpt"))
    assert not list(out.rglob("events.out.tfevents.*"))
