"""``data.cache=true``: images decoded once into a uint8 tensor, reused, same batches as without it."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import gan_lightning.data.image_cache as image_cache
from gan_lightning.data import CIFAR10DataModule, ImageFolderDataModule
from gan_lightning.data.image_cache import CachedImages
from gan_lightning.data.image_files import ImageFiles
from tests.conftest import make_image_folder
from tests.data.folders import make_cifar_copy


def _dm(folder: Path, root: Path, **kwargs) -> ImageFolderDataModule:
    kwargs.setdefault("batch_size", 4)
    dm = ImageFolderDataModule(root=root, path=str(folder), image_size=16, **kwargs)
    dm.setup("fit")
    return dm


def _no_decoding(*args, **kwargs):
    raise AssertionError("decoded again instead of reading the cache")


def test_written_once_and_reused(image_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "data"
    first = _dm(image_folder, root, cache=True)
    assert isinstance(first.train_set, CachedImages)
    files = list((root / "image_cache").glob("*.pt"))
    assert len(files) == 1
    assert files[0].name.endswith(".pt") and "_16px_" in files[0].name
    assert first.train_set.images.dtype == torch.uint8
    assert first.train_set.images.shape == (12, 3, 16, 16)

    monkeypatch.setattr(image_cache, "decode_image", _no_decoding)
    second = _dm(image_folder, root, cache=True)
    assert torch.equal(second.train_set.images, first.train_set.images)
    assert list((root / "image_cache").glob("*")) == files  # no new file, no temporary left over


def test_gan_cache_dir(image_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GAN_CACHE_DIR", str(tmp_path / "cache"))
    _dm(image_folder, tmp_path / "data", cache=True)
    assert len(list((tmp_path / "cache" / "image_cache").glob("*.pt"))) == 1
    assert not (tmp_path / "data").exists()


def test_same_images_as_without_cache(image_folder: Path, tmp_path: Path) -> None:
    plain = _dm(image_folder, tmp_path / "data")
    cached = _dm(image_folder, tmp_path / "data", cache=True)
    assert isinstance(plain.train_set, ImageFiles)
    for index in range(12):
        x_plain, y_plain = plain.train_set[index]
        x_cached, y_cached = cached.train_set[index]
        torch.testing.assert_close(x_cached, x_plain, atol=1e-6, rtol=0)
        assert y_cached == y_plain
    # Batches: same order from the same seed, as float in [-1, 1] with long labels.
    cached.shuffle_seed = plain.shuffle_seed = 7
    for (xa, ya), (xb, yb) in zip(plain.train_dataloader(), cached.train_dataloader(), strict=True):
        torch.testing.assert_close(xb, xa, atol=1e-6, rtol=0)
        assert torch.equal(ya, yb)
        assert xb.dtype == torch.float32 and yb.dtype == torch.long


def test_resume_mid_epoch(image_folder: Path, tmp_path: Path) -> None:
    """A datamodule restored from a state dict continues with the batches the first one would give."""
    dm = _dm(image_folder, tmp_path / "data", cache=True, batch_size=2)
    dm.shuffle_seed = 3
    full = [y.tolist() for _, y in dm.train_dataloader()]
    resumed = _dm(image_folder, tmp_path / "data", cache=True, batch_size=2)
    resumed.load_state_dict({"shuffle_seed": 3, "batches_seen": 4})
    assert [y.tolist() for _, y in resumed.train_dataloader()] == full[4:]


def test_key_follows_files_and_size(tmp_path: Path) -> None:
    folder = make_image_folder(tmp_path / "images", per_class=2)
    root = tmp_path / "data"
    _dm(folder, root, cache=True)
    ImageFolderDataModule(root=root, path=str(folder), image_size=8, cache=True, batch_size=2).setup("fit")
    make_image_folder(folder, classes=("birds",), per_class=2)  # new files: a new cache
    _dm(folder, root, cache=True)
    assert len(list((root / "image_cache").glob("*.pt"))) == 3


def test_damaged_cache_is_rebuilt(image_folder: Path, tmp_path: Path) -> None:
    root = tmp_path / "data"
    first = _dm(image_folder, root, cache=True)
    (path,) = (root / "image_cache").glob("*.pt")
    path.write_bytes(b"not a tensor file")
    again = _dm(image_folder, root, cache=True)
    assert torch.equal(again.train_set.images, first.train_set.images)
    assert torch.load(path, weights_only=True)["images"].shape == (12, 3, 16, 16)


def test_unlabelled_and_subset(tmp_path: Path) -> None:
    folder = make_image_folder(tmp_path / "flat", classes=())
    dm = _dm(folder, tmp_path / "data", cache=True, batch_size=3)
    _, y = next(iter(dm.train_dataloader()))
    assert (y == -1).all()
    labelled = make_image_folder(tmp_path / "labelled")
    dm = _dm(labelled, tmp_path / "data", cache=True, classes=[1], batch_size=3)
    assert len(dm.train_set) == 6
    assert all(y.eq(1).all() for _, y in dm.train_dataloader())


def test_on_device_from_cache(image_folder: Path, tmp_path: Path) -> None:
    dm = _dm(image_folder, tmp_path / "data", cache=True, on_device=True)
    x, y = next(iter(dm.train_dataloader()))
    assert x.shape == (4, 3, 16, 16) and x.dtype == torch.float32
    assert y.dtype == torch.long


def test_cifar_copy_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = make_cifar_copy(tmp_path / "cifar")
    root = tmp_path / "data"
    dm = CIFAR10DataModule(root=root, path=str(copy), cache=True, batch_size=4)
    dm.setup("fit")
    test = dm.load_split("test")
    assert isinstance(dm.train_set, CachedImages) and isinstance(test, CachedImages)
    assert len(list((root / "image_cache").glob("*.pt"))) == 2  # train and test
    monkeypatch.setattr(image_cache, "decode_image", _no_decoding)
    again = CIFAR10DataModule(root=root, path=str(copy), cache=True, batch_size=4)
    again.setup("fit")
    assert torch.equal(again.train_set.images, dm.train_set.images)
    assert again.train_set[29][1] == 9


def test_config_keys(compose_cfg, image_folder: Path, tmp_path: Path) -> None:
    from gan_lightning.config import build

    cfg = compose_cfg("data=image_folder", f"data.path={image_folder}", f"data.root={tmp_path / 'data'}")
    assert cfg.data.cache is None and cfg.data.skip_broken is False  # cache: on CUDA only
    assert build(cfg.data).use_cache is torch.cuda.is_available()
    cfg = compose_cfg(
        "data=image_folder", f"data.path={image_folder}", f"data.root={tmp_path / 'data'}", "data.cache=true",
        "data.image_size=16", "data.batch_size=4",
    )  # fmt: skip
    dm = build(cfg.data)
    dm.setup("fit")
    assert isinstance(dm.train_set, CachedImages)
    assert dm.source == f"folder:{image_folder.resolve()}"
    assert dm.stats_name.startswith("image_folder-") and dm.stats_name.endswith("-16px")
