"""Image-folder datamodule on small PNG trees written by the fixtures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gan_lightning.data import ImageFolderDataModule
from gan_lightning.data.image_folder import find_images
from gan_lightning.errors import ConfigError, DatasetNotFoundError
from tests.conftest import make_image_folder


def _ready(path: Path, **kwargs) -> ImageFolderDataModule:
    kwargs.setdefault("batch_size", 4)
    dm = ImageFolderDataModule(path=str(path), **kwargs)
    dm.setup("fit")
    return dm


def test_labelled_folder(image_folder: Path) -> None:
    dm = _ready(image_folder, image_size=32)
    assert dm.num_classes == 2
    assert dm.class_names == ["cats", "dogs"]
    assert dm.classes == [0, 1]
    assert len(dm.train_set) == 12
    labels = [dm.train_set[i][1] for i in range(12)]
    assert labels == [0] * 6 + [1] * 6
    assert [p.parent.name for p in dm.paths] == ["cats"] * 6 + ["dogs"] * 6


@pytest.mark.parametrize("size", [32, 64])
def test_batches(size: int, image_folder: Path) -> None:
    dm = _ready(image_folder, image_size=size)
    assert dm.data_shape == (3, size, size)
    batches = list(dm.train_dataloader())
    assert len(batches) == 3
    x, y = batches[0]
    assert x.shape == (4, 3, size, size)
    assert x.dtype == torch.float32
    assert y.dtype == torch.long
    assert x.min().item() >= -1.0
    assert x.max().item() <= 1.0
    # Random pixels (resizing averages them a little) spread around 0.
    assert x.min().item() < -0.5
    assert x.max().item() > 0.5
    assert x.mean().item() == pytest.approx(0.0, abs=0.05)
    assert sorted(torch.cat([b[1] for b in batches]).tolist()) == [0] * 6 + [1] * 6


def test_root_is_default_path(image_folder: Path) -> None:
    dm = ImageFolderDataModule(root=image_folder, batch_size=4, image_size=16)
    assert dm.folder == image_folder
    assert dm.class_names == ["cats", "dogs"]


def test_class_subset(image_folder: Path) -> None:
    dm = _ready(image_folder, image_size=16, classes=[1])
    assert len(dm.train_set) == 6
    assert {dm.train_set[i][1] for i in range(6)} == {1}


def test_flat_folder_is_unlabelled(tmp_path: Path) -> None:
    folder = make_image_folder(tmp_path / "flat", classes=())
    dm = _ready(folder, image_size=16)
    assert dm.num_classes is None
    assert dm.class_names is None
    assert dm.classes is None
    assert len(dm.train_set) == 6
    _, y = next(iter(dm.train_dataloader()))
    assert (y == -1).all()
    with pytest.raises(ConfigError, match="no labels"):
        _ready(folder, image_size=16, classes=[0])


def test_a_single_sub_folder_is_unlabelled(tmp_path: Path) -> None:
    """anime-faces/faces/*.jpg: one folder is no class structure (a 1-class classifier would be useless)."""
    folder = make_image_folder(tmp_path / "anime", classes=("faces",))
    dm = _ready(folder, image_size=16)
    assert dm.num_classes is None and dm.class_names is None
    assert len(dm.train_set) == 6


def test_mixed_depth_is_unlabelled(tmp_path: Path) -> None:
    """One image outside any sub-folder makes the whole folder unlabelled."""
    folder = make_image_folder(tmp_path / "mixed")
    Image.fromarray(np.zeros((20, 20, 3), dtype=np.uint8)).save(folder / "loose.png")
    dm = ImageFolderDataModule(path=str(folder), batch_size=4, image_size=16)
    assert len(dm.paths) == 13
    assert dm.num_classes is None


def test_nested_images_found_recursively(tmp_path: Path) -> None:
    root = tmp_path / "nested"
    make_image_folder(root / "cats" / "indoor" / "sofa", classes=(), per_class=3)
    make_image_folder(root / "dogs" / "outdoor", classes=("park", "beach"), per_class=2)
    dm = _ready(root, image_size=16)
    assert len(dm.paths) == 3 + 4
    # Labels come from the first-level folder, however deep the image lies.
    assert dm.class_names == ["cats", "dogs"]
    assert sorted(dm.train_set[i][1] for i in range(7)) == [0, 0, 0, 1, 1, 1, 1]


def test_only_image_extensions(tmp_path: Path) -> None:
    folder = make_image_folder(tmp_path / "imgs", per_class=2)
    (folder / "cats" / "notes.txt").write_text("not an image")
    (folder / "dogs" / "UPPER.PNG").write_bytes((folder / "dogs" / "img_0.png").read_bytes())
    paths = find_images(folder)
    assert [p.name for p in paths] == ["img_0.png", "img_1.png", "UPPER.PNG", "img_0.png", "img_1.png"]


def test_empty_folder(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    (empty / "sub").mkdir(parents=True)
    (empty / "readme.txt").write_text("no pictures here")
    with pytest.raises(ConfigError, match="no images"):
        ImageFolderDataModule(path=str(empty))


def test_missing_folder(tmp_path: Path) -> None:
    missing = tmp_path / "does_not_exist"
    with pytest.raises(DatasetNotFoundError, match="does_not_exist"):
        ImageFolderDataModule(path=str(missing))


def test_bad_image_size(image_folder: Path) -> None:
    with pytest.raises(ConfigError, match="image_size"):
        ImageFolderDataModule(path=str(image_folder), image_size=0)


def test_grayscale_becomes_rgb(tmp_path: Path) -> None:
    folder = tmp_path / "gray"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(4):
        Image.fromarray((rng.random((30, 30)) * 255).astype(np.uint8), mode="L").save(folder / f"g{i}.png")
    dm = _ready(folder, image_size=16, batch_size=2)
    x, _ = dm.train_set[0]
    assert x.shape == (3, 16, 16)
    torch.testing.assert_close(x[0], x[1])
    torch.testing.assert_close(x[1], x[2])
    assert x.std().item() > 0.1


def test_non_square_is_center_cropped(tmp_path: Path) -> None:
    """A wide image: left half black, right half white -> after a centre crop both halves remain."""
    folder = tmp_path / "wide"
    folder.mkdir()
    pixels = np.zeros((20, 40, 3), dtype=np.uint8)
    pixels[:, 20:] = 255
    Image.fromarray(pixels).save(folder / "wide.png")
    dm = ImageFolderDataModule(path=str(folder), batch_size=1, image_size=10)
    dm.setup("fit")
    x, y = dm.train_set[0]
    assert x.shape == (3, 10, 10)
    assert y == -1
    assert x[:, :, 0].max().item() == pytest.approx(-1.0)
    assert x[:, :, -1].min().item() == pytest.approx(1.0)
