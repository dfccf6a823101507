"""CIFAR-10, 3x32x32 in [-1, 1], 10 classes: torchvision's files, or a per-image folder copy.

``data.path=null`` (default): torchvision's ``cifar-10-batches-py`` under ``data.root``, downloaded when
missing. ``data.path=DIR``: a folder copy laid out as ``DIR/{train,test}/<class>/*.jpg``
(:mod:`gan_lightning.data.cifar_folder`), checked for unreadable files at construction, optionally
decoded once into a cache (``data.cache=true``). A JPEG copy is lossy: its FIDs are not comparable
with FIDs against the original pixels, so its real statistics get their own cache key
(:attr:`CIFAR10DataModule.stats_name`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch
from torch.utils.data import Dataset
from torchvision import datasets

from gan_lightning import devices
from gan_lightning.data.cifar_folder import CIFAR10_CLASSES, scan_split
from gan_lightning.data.image_set import ImageSet
from gan_lightning.data.torchvision_datasets import TorchvisionDataModule

LOSSY = (".jpg", ".jpeg", ".webp")


class CIFAR10DataModule(TorchvisionDataModule):
    """CIFAR-10: 50,000 train and 10,000 test images, 3x32x32, 10 classes.

    Args:
        path: a folder copy (``{train,test}/<class>/*.jpg``); ``None``: torchvision's files.
        cache: folder copy only: decode every image once into ``<cache root>/image_cache``.
        skip_broken: folder copy only: leave unreadable files out with a warning instead of stopping.
    """

    name = "cifar10"
    dataset_cls = datasets.CIFAR10
    data_shape = (3, 32, 32)
    num_classes = 10
    class_names = CIFAR10_CLASSES

    def __init__(
        self, *args, path: str | None = None, cache: bool | None = None, skip_broken: bool = False, **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        self.folder = Path(path).expanduser() if path else None
        self.image_sets: dict[str, ImageSet] = {}
        if self.folder is not None:
            self.serves_from_memory = devices.decode_cache(cache)
            cache_root = self.root if self.serves_from_memory else None
            for split in self.splits:  # both now: the test split is the FID reference
                paths, labels = scan_split(self.folder, split)
                self.image_sets[split] = ImageSet(
                    self.folder / split, paths, labels, self.data_shape[-1], skip_broken, cache_root
                )

    @property
    def source(self) -> str:
        if self.folder is None:
            return "torchvision"
        lossy = any(p.suffix.lower() in LOSSY for p in self.image_sets["train"].paths[:1])
        note = " (JPEG copy: FIDs not comparable with the original pixels)" if lossy else " (image-file copy)"
        return f"folder:{self.folder.resolve()}{note}"

    @property
    def stats_name(self) -> str:
        """``cifar10`` for torchvision's files, ``cifar10-folder-<digest of the file lists>`` for a copy."""
        if self.folder is None:
            return self.name
        digest = hashlib.sha256("".join(s.digest() for s in self.image_sets.values()).encode()).hexdigest()
        return f"{self.name}-folder-{digest[:10]}"

    def dataset_folder(self) -> Path:
        return self.root / datasets.CIFAR10.base_folder

    def expected_files(self) -> list[str]:
        return [name for name, _ in datasets.CIFAR10.train_list + datasets.CIFAR10.test_list] + [
            "batches.meta"
        ]

    def prepare_data(self) -> None:
        if self.folder is None:
            super().prepare_data()

    def build_dataset(self, split: str) -> tuple[Dataset, torch.Tensor]:
        if self.folder is None:
            return super().build_dataset(split)
        image_set = self.image_sets[split]
        return image_set.dataset(), torch.tensor(image_set.labels)
