"""Datamodules over torchvision's downloadable datasets: MNIST and Fashion-MNIST (CIFAR-10: ``cifar10``).

The files live under ``data.root`` in torchvision's own layout (``MNIST/raw/...``); they are
downloaded there when missing. Without a network, a clear error names the folder and the files.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch.utils.data import Dataset
from torchvision import datasets

from gan_lightning.data.base import GANDataModule
from gan_lightning.data.transforms import to_unit_range
from gan_lightning.errors import DatasetNotFoundError


class TorchvisionDataModule(GANDataModule):
    """Base for torchvision datasets with a ``train=`` split and a ``download=`` flag."""

    dataset_cls: type[Dataset]
    splits = ("train", "test")

    @property
    def source(self) -> str:
        return "torchvision"

    def __init__(self, *args, download: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.download = download

    def dataset_folder(self) -> Path:
        """The folder torchvision reads the files from."""
        raise NotImplementedError

    def expected_files(self) -> list[str]:
        """The file names torchvision needs in :meth:`dataset_folder`."""
        raise NotImplementedError

    def load(self, train: bool = True) -> Dataset:
        """The split as a torchvision dataset; downloads when allowed and needed."""
        try:
            return self.dataset_cls(
                str(self.root),
                train=train,
                download=self.download,
                transform=to_unit_range(self.data_shape[0]),
            )
        except (RuntimeError, OSError) as err:  # torchvision's "Dataset not found" and network errors
            raise DatasetNotFoundError(self._not_found_message(err)) from err

    def _not_found_message(self, err: Exception) -> str:
        name = self.dataset_cls.__name__
        how = "could not be downloaded" if self.download else "was not downloaded (data.download=false)"
        return (
            f"{name} is missing and {how}: {err}\n"
            f"  Searched folder: {self.dataset_folder().resolve()}\n"
            f"  Expected files:  {', '.join(self.expected_files())}\n"
            f"  Fix: put a copy of the files there, or point data.root=PATH (or the environment variable "
            f"GAN_DATA_DIR) at the folder that holds '{self.dataset_folder().relative_to(self.root)}'."
        )

    def prepare_data(self) -> None:
        self.load(train=True)

    def build_dataset(self, split: str) -> tuple[Dataset, torch.Tensor]:
        dataset = self.load(train=split == "train")
        return dataset, torch.as_tensor(dataset.targets)


class _MNISTLike(TorchvisionDataModule):
    data_shape = (1, 28, 28)
    num_classes = 10

    def dataset_folder(self) -> Path:
        return self.root / self.dataset_cls.__name__ / "raw"

    def expected_files(self) -> list[str]:
        return [Path(url).stem for url, _ in self.dataset_cls.resources]


class MNISTDataModule(_MNISTLike):
    """MNIST: 60,000 handwritten digits, 1x28x28."""

    name = "mnist"
    dataset_cls = datasets.MNIST
    class_names = [str(d) for d in range(10)]


class FashionMNISTDataModule(_MNISTLike):
    """Fashion-MNIST: 60,000 Zalando article images, 1x28x28, 10 classes."""

    name = "fashion_mnist"
    dataset_cls = datasets.FashionMNIST
    class_names = list(datasets.FashionMNIST.classes)
