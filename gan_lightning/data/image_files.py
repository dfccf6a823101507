"""Image files on disk: finding them, decoding one, and a dataset that decodes per item."""

from __future__ import annotations

from pathlib import Path

import torch
from PIL import Image
from torch.utils.data import Dataset
from torchvision.datasets.folder import IMG_EXTENSIONS

from gan_lightning.data.transforms import resize_crop_uint8, uint8_to_unit_range

IMAGE_EXTENSIONS: tuple[str, ...] = IMG_EXTENSIONS  # lower case, with the dot


def has_image_extension(path: Path) -> bool:
    """Whether the file name ends in an image extension (any case); other files are ignored."""
    return path.name.lower().endswith(IMAGE_EXTENSIONS)


def find_images(folder: Path) -> list[Path]:
    """All files with an image extension below ``folder`` (recursively), sorted by path."""
    return sorted(p for p in folder.rglob("*") if has_image_extension(p) and p.is_file())


def decode_image(path: Path, image_size: int) -> torch.Tensor:
    """One file -> RGB uint8 (3, image_size, image_size): shorter side resized, centre-cropped."""
    with Image.open(path) as img:
        return resize_crop_uint8(image_size)(img)


class ImageFiles(Dataset):
    """A list of image paths with optional labels; item -> (image (3, S, S) in [-1, 1], label or -1).

    Every item is read and decoded from disk (see :class:`~gan_lightning.data.image_cache.CachedImages`
    for the decode-once alternative).
    """

    def __init__(self, paths: list[Path], labels: list[int] | None, image_size: int) -> None:
        self.paths = paths
        self.labels = labels
        self.transform = resize_crop_uint8(image_size)

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        with Image.open(self.paths[index]) as img:
            image = uint8_to_unit_range(self.transform(img))
        return image, self.labels[index] if self.labels is not None else -1
