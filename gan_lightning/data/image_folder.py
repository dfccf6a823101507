"""Any folder of images, searched recursively, resized and center-cropped to a square RGB image.

Labels come from the first-level sub-folder names (``root/cats/x.png`` -> ``cats``) when every image
lies in such a sub-folder; otherwise the data is unlabelled.
"""

from __future__ import annotations

from pathlib import Path

import torch
from PIL import Image
from torch.utils.data import Dataset
from torchvision.datasets.folder import IMG_EXTENSIONS

from gan_lightning.data.base import GANDataModule
from gan_lightning.data.transforms import resize_crop_to_unit_range
from gan_lightning.errors import ConfigError, DatasetNotFoundError


class ImageFiles(Dataset):
    """A list of image paths with optional labels; item -> (image (3, S, S) in [-1, 1], label or -1)."""

    def __init__(self, paths: list[Path], labels: list[int] | None, image_size: int) -> None:
        self.paths = paths
        self.labels = labels
        self.transform = resize_crop_to_unit_range(image_size)

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        with Image.open(self.paths[index]) as img:
            image = self.transform(img)
        return image, self.labels[index] if self.labels is not None else -1


def find_images(folder: Path) -> list[Path]:
    """All image files below ``folder``, sorted."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name.lower().endswith(IMG_EXTENSIONS))


class ImageFolderDataModule(GANDataModule):
    """Images from ``data.path`` (default: ``data.root``) at ``data.image_size`` (default 64)."""

    def __init__(self, *args, path: str | None = None, image_size: int = 64, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if image_size <= 0:
            raise ConfigError(f"data.image_size must be positive, got {image_size}.")
        self.folder = Path(path).expanduser() if path else self.root
        self.image_size = image_size
        self.data_shape = (3, image_size, image_size)
        self._scan()

    def _scan(self) -> None:
        """Find the images and their labels now, so that models can be sized before training."""
        if not self.folder.is_dir():
            raise DatasetNotFoundError(
                f"Image folder '{self.folder.resolve()}' does not exist. Point data.path=PATH at a folder of "
                f"images (searched recursively; extensions {', '.join(IMG_EXTENSIONS)})."
            )
        self.paths = find_images(self.folder)
        if not self.paths:
            raise ConfigError(
                f"Image folder '{self.folder.resolve()}' holds no images (searched recursively for "
                f"{', '.join(IMG_EXTENSIONS)})."
            )
        top_dirs = [p.relative_to(self.folder).parts for p in self.paths]
        if all(len(parts) > 1 for parts in top_dirs):
            self.class_names = sorted({parts[0] for parts in top_dirs})
            index = {name: i for i, name in enumerate(self.class_names)}
            self.labels: list[int] | None = [index[parts[0]] for parts in top_dirs]
            self.num_classes = len(self.class_names)
        else:
            self.labels, self.class_names, self.num_classes = None, None, None

    name = "image_folder"

    def build_dataset(self, split: str) -> tuple[Dataset, torch.Tensor | None]:
        labels = torch.tensor(self.labels) if self.labels is not None else None
        return ImageFiles(self.paths, self.labels, self.image_size), labels
