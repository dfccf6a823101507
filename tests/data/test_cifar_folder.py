"""CIFAR-10 from a per-image folder copy: torchvision's class order, fixed file order, both splits."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from gan_lightning.data import CIFAR10DataModule
from gan_lightning.data.cifar_folder import CIFAR10_CLASSES, scan_split
from gan_lightning.errors import ConfigError, DatasetNotFoundError
from tests.conftest import SHARED_DATASETS
from tests.data.folders import class_colour, make_cifar_copy

CIFAR_JPEG = SHARED_DATASETS / "CIFAR10-JPEG"


@pytest.fixture
def cifar_copy(tmp_path: Path) -> Path:
    return make_cifar_copy(tmp_path / "cifar")


def _folder_dm(copy: Path, tmp_path: Path, **kwargs) -> CIFAR10DataModule:
    kwargs.setdefault("batch_size", 4)
    return CIFAR10DataModule(root=tmp_path / "data", path=str(copy), download=False, **kwargs)


def test_labels_follow_torchvision_order(cifar_copy: Path, tmp_path: Path) -> None:
    dm = _folder_dm(cifar_copy, tmp_path)
    dm.prepare_data()  # no download for a folder copy
    dm.setup("fit")
    assert dm.class_names == CIFAR10_CLASSES
    assert dm.num_classes == 10
    assert dm.data_shape == (3, 32, 32)
    assert len(dm.train_set) == 30
    for index in range(30):
        image, label = dm.train_set[index]
        assert label == index // 3
        assert image.shape == (3, 32, 32)
        assert image.min().item() >= -1.0
        assert image.max().item() <= 1.0
        # The flat grey level (outside the marked row) encodes the class.
        grey = (image[1].median().item() + 1) * 127.5
        assert grey == pytest.approx(class_colour(label), abs=3)


def test_test_split_is_the_reference(cifar_copy: Path, tmp_path: Path) -> None:
    dm = _folder_dm(cifar_copy, tmp_path)
    test = dm.load_split("test")
    assert len(test) == 20
    assert [test[i][1] for i in range(20)] == [i // 2 for i in range(20)]
    with pytest.raises(ConfigError, match="no 'val' split"):
        dm.load_split("val")


def test_file_order_is_deterministic(tmp_path: Path) -> None:
    """Class by class in label order (not alphabetical), sorted by path within a class."""
    paths, labels = scan_split(make_cifar_copy(tmp_path / "cifar"), "train")
    assert labels == [i // 3 for i in range(30)]
    assert [f"{p.parent.name}/{p.name}" for p in paths[:4]] == [
        "airplane/0000.jpg", "airplane/0001.jpg", "airplane/0002.jpg", "automobile/0000.jpg",
    ]  # fmt: skip
    assert scan_split(tmp_path / "cifar", "train") == (paths, labels)


def test_batches_and_class_subset(cifar_copy: Path, tmp_path: Path) -> None:
    dm = _folder_dm(cifar_copy, tmp_path, classes=[3, 5], batch_size=2)
    dm.setup("fit")
    assert len(dm.train_set) == 6
    x, y = next(iter(dm.train_dataloader()))
    assert x.shape == (2, 3, 32, 32)
    assert x.dtype == torch.float32
    assert set(y.tolist()) <= {3, 5}


def test_missing_class_folder(cifar_copy: Path, tmp_path: Path) -> None:
    shutil.rmtree(cifar_copy / "train" / "frog")
    with pytest.raises(ConfigError) as info:
        _folder_dm(cifar_copy, tmp_path)
    message = str(info.value)
    assert "missing class folders: frog" in message
    assert "airplane, automobile" in message  # names the folders it needs


def test_unknown_class_folder(cifar_copy: Path, tmp_path: Path) -> None:
    (cifar_copy / "test" / "plane").mkdir()
    (cifar_copy / "test" / ".thumbnails").mkdir()  # hidden folders are ignored
    with pytest.raises(ConfigError, match="unknown folders: plane"):
        _folder_dm(cifar_copy, tmp_path)


def test_empty_class_folder(cifar_copy: Path, tmp_path: Path) -> None:
    for file in (cifar_copy / "train" / "ship").iterdir():
        file.unlink()
    (cifar_copy / "train" / "ship" / "README.txt").write_text("no images")
    with pytest.raises(ConfigError, match="ship' holds no images"):
        _folder_dm(cifar_copy, tmp_path)


def test_missing_path_and_split(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFoundError, match="data.path=null"):
        _folder_dm(tmp_path / "nowhere", tmp_path)
    copy = make_cifar_copy(tmp_path / "train_only", per_class={"train": 1})
    with pytest.raises(DatasetNotFoundError, match="No 'test' folder"):
        _folder_dm(copy, tmp_path)


def test_source_and_stats_name(cifar_copy: Path, tmp_path: Path) -> None:
    original = CIFAR10DataModule(root=tmp_path / "data", batch_size=4, download=False)
    assert original.source == "torchvision"
    assert original.stats_name == original.name == "cifar10"
    copy = _folder_dm(cifar_copy, tmp_path)
    assert copy.name == "cifar10"  # the classifier file stays classifiers/cifar10.pt
    assert copy.source.startswith(f"folder:{cifar_copy.resolve()}")
    assert "JPEG copy: FIDs not comparable" in copy.source
    assert copy.stats_name.startswith("cifar10-folder-")
    assert "_" not in copy.stats_name  # cache keys join their parts with "_"
    # The same files elsewhere share the name; another file list gets another one.
    moved = shutil.copytree(cifar_copy, tmp_path / "elsewhere")
    assert _folder_dm(moved, tmp_path).stats_name == copy.stats_name
    (moved / "train" / "cat" / "0000.jpg").unlink()
    assert _folder_dm(moved, tmp_path).stats_name != copy.stats_name


def test_without_path_nothing_changes(tmp_path: Path) -> None:
    dm = CIFAR10DataModule(root=tmp_path, batch_size=4, download=False)
    assert dm.folder is None
    with pytest.raises(DatasetNotFoundError, match="cifar-10-batches-py"):
        dm.prepare_data()


def test_config_selects_the_copy(compose_cfg, cifar_copy: Path, tmp_path: Path) -> None:
    from gan_lightning.config import build

    cfg = compose_cfg("data=cifar10", f"data.root={tmp_path / 'data'}")
    assert cfg.data.path is None
    assert cfg.data.cache is None  # on CUDA only
    assert cfg.data.skip_broken is False
    cfg = compose_cfg(
        "data=cifar10", f"data.root={tmp_path / 'data'}", f"data.path={cifar_copy}", "data.batch_size=4"
    )
    dm = build(cfg.data)
    assert isinstance(dm, CIFAR10DataModule)
    assert dm.folder == cifar_copy
    dm.prepare_data()
    dm.setup("fit")
    assert len(dm.train_set) == 30


@pytest.mark.skipif(not CIFAR_JPEG.is_dir(), reason="no shared CIFAR10-JPEG copy")
def test_real_cifar_jpeg_copy(tmp_path: Path) -> None:
    dm = CIFAR10DataModule(root=tmp_path, path=str(CIFAR_JPEG), batch_size=64, download=False)
    dm.setup("fit")
    assert len(dm.train_set) == 50_000
    assert len(dm.load_split("test")) == 10_000
    paths = dm.image_sets["train"].paths
    index = paths.index(CIFAR_JPEG / "train" / "airplane" / "0001.jpg")
    image, label = dm.train_set[index]
    assert label == 0
    assert image.shape == (3, 32, 32)
    assert paths[-1].parent.name == "truck"
    assert dm.train_set[len(paths) - 1][1] == 9
    assert torch.bincount(torch.tensor(dm.image_sets["test"].labels)).tolist() == [1000] * 10
