"""MNIST-family datamodules on tiny IDX files written by the fixtures, plus one real-MNIST check."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from gan_lightning.data import CIFAR10DataModule, FashionMNISTDataModule, MNISTDataModule
from gan_lightning.errors import ConfigError, DatasetNotFoundError
from tests.conftest import SHARED_DATASETS

MNIST_FAMILY = [MNISTDataModule, FashionMNISTDataModule]


def _ready(cls, root: Path, **kwargs):
    dm = cls(root=root, download=False, **kwargs)
    dm.prepare_data()
    dm.setup("fit")
    return dm


@pytest.mark.parametrize("cls", MNIST_FAMILY)
def test_batch(cls, mnist_root: Path) -> None:
    dm = _ready(cls, mnist_root, batch_size=16)
    x, y = next(iter(dm.train_dataloader()))
    assert x.dtype == torch.float32
    assert x.shape == (16, 1, 28, 28)
    assert y.dtype == torch.long
    assert y.shape == (16,)
    assert x.min().item() >= -1.0
    assert x.max().item() <= 1.0
    # The fixture's white blobs (255) map to exactly 1, its dark noise (< 40) to below -0.68.
    assert x.max().item() == pytest.approx(1.0)
    assert x.min().item() < -0.68
    assert ((y >= 0) & (y < 10)).all()


@pytest.mark.parametrize("cls", MNIST_FAMILY)
def test_metadata(cls, mnist_root: Path) -> None:
    dm = _ready(cls, mnist_root, batch_size=16)
    assert dm.data_shape == (1, 28, 28)
    assert dm.is_image is True
    assert dm.num_classes == 10
    assert len(dm.class_names) == 10
    assert dm.classes == list(range(10))
    assert len(dm.train_set) == 64
    # drop_last: 64 / 16 = 4 full batches.
    assert len(dm.train_dataloader()) == 4


def test_fashion_class_names(mnist_root: Path) -> None:
    dm = _ready(FashionMNISTDataModule, mnist_root, batch_size=16)
    assert dm.class_names[0] == "T-shirt/top"
    assert dm.class_names[9] == "Ankle boot"
    assert MNISTDataModule.class_names == [str(d) for d in range(10)]


def test_mnist_and_fashion_read_their_own_folders(mnist_root: Path) -> None:
    """The fixture writes different pixels (seed 0 vs 1) to MNIST/ and FashionMNIST/."""
    mnist = _ready(MNISTDataModule, mnist_root, batch_size=16)
    fashion = _ready(FashionMNISTDataModule, mnist_root, batch_size=16)
    assert not torch.equal(mnist.train_set[0][0], fashion.train_set[0][0])


@pytest.mark.parametrize("cls", MNIST_FAMILY)
def test_class_subset(cls, mnist_root: Path) -> None:
    # Labels are arange(64) % 10: label 3 occurs 7 times.
    dm = _ready(cls, mnist_root, batch_size=4, classes=[3])
    assert dm.classes == [3]
    assert len(dm.train_set) == 7
    labels = torch.cat([y for _, y in dm.train_dataloader()])
    assert len(labels) == 4
    assert (labels == 3).all()
    assert all(dm.train_set[i][1] == 3 for i in range(len(dm.train_set)))


def test_several_classes(mnist_root: Path) -> None:
    dm = _ready(MNISTDataModule, mnist_root, batch_size=8, classes=[0, 9])
    assert dm.classes == [0, 9]
    assert len(dm.train_set) == 7 + 6  # 0,10,...,60 and 9,19,...,59
    assert {dm.train_set[i][1] for i in range(len(dm.train_set))} == {0, 9}


@pytest.mark.parametrize("classes", [[12], [-1], [3, 10]])
def test_class_out_of_range(classes: list[int], mnist_root: Path) -> None:
    dm = MNISTDataModule(root=mnist_root, batch_size=4, download=False, classes=classes)
    with pytest.raises(ConfigError, match="outside 0..9"):
        dm.setup("fit")


def test_batch_bigger_than_subset(mnist_root: Path) -> None:
    dm = MNISTDataModule(root=mnist_root, batch_size=8, download=False, classes=[3])
    with pytest.raises(ConfigError, match="batch_size=8"):
        dm.setup("fit")


def test_batch_bigger_than_dataset(mnist_root: Path) -> None:
    dm = MNISTDataModule(root=mnist_root, batch_size=65, download=False)
    with pytest.raises(ConfigError, match="64 samples"):
        dm.setup("fit")
    assert _ready(MNISTDataModule, mnist_root, batch_size=64).train_set is not None


@pytest.mark.parametrize("batch_size", [0, -4])
def test_bad_batch_size(batch_size: int, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="batch_size"):
        MNISTDataModule(root=tmp_path, batch_size=batch_size, download=False)


def test_bad_num_workers(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="num_workers"):
        MNISTDataModule(root=tmp_path, num_workers=-1, download=False)


@pytest.mark.parametrize(
    ("cls", "folder"), [(MNISTDataModule, "MNIST"), (FashionMNISTDataModule, "FashionMNIST")]
)
def test_missing_dataset(cls, folder: str, tmp_path: Path) -> None:
    root = tmp_path / "empty"
    root.mkdir()
    dm = cls(root=root, batch_size=4, download=False)
    with pytest.raises(DatasetNotFoundError) as info:
        dm.prepare_data()
    message = str(info.value)
    assert str((root / folder / "raw").resolve()) in message
    assert "train-images-idx3-ubyte" in message
    assert "train-labels-idx1-ubyte" in message
    assert "GAN_DATA_DIR" in message
    assert "download=false" in message
    assert isinstance(info.value, FileNotFoundError)
    with pytest.raises(DatasetNotFoundError):
        cls(root=root, batch_size=4, download=False).setup("fit")


def test_cifar_expected_files(tmp_path: Path) -> None:
    dm = CIFAR10DataModule(root=tmp_path, batch_size=4, download=False)
    assert dm.data_shape == (3, 32, 32)
    assert dm.dataset_folder() == tmp_path / "cifar-10-batches-py"
    assert "data_batch_1" in dm.expected_files()
    assert "batches.meta" in dm.expected_files()
    with pytest.raises(DatasetNotFoundError, match="cifar-10-batches-py"):
        dm.prepare_data()


@pytest.mark.skipif(not (SHARED_DATASETS / "MNIST").exists(), reason="no shared copy of MNIST")
def test_real_mnist() -> None:
    dm = MNISTDataModule(root=SHARED_DATASETS, batch_size=64, download=True)
    dm.prepare_data()
    dm.setup("fit")
    assert len(dm.train_set) == 60_000
    first = torch.stack([dm.train_set[i][0] for i in range(1000)])
    assert first.shape == (1000, 1, 28, 28)
    assert first.min().item() == pytest.approx(-1.0)
    assert first.max().item() == pytest.approx(1.0)
    # MNIST is mostly black: pixel mean 0.1307 in [0, 1], i.e. about -0.74 in [-1, 1].
    mean = first.mean().item()
    assert -0.85 < mean < -0.6
    counts = torch.bincount(dm.train_set.targets, minlength=10)
    assert counts.sum().item() == 60_000
    assert (counts > 5000).all()
