"""Any folder of images, searched recursively, resized and center-cropped to a square RGB image.

Labels come from the first-level sub-folder names (``root/cats/x.png`` -> ``cats``) when every image
lies in such a sub-folder and there are at least two; otherwise (a flat folder, or all images in one
folder such as ``anime-faces/faces/``) the data is unlabelled. Files without an image extension
(README, .DS_Store) are ignored; unreadable image files stop the run before training unless
``data.skip_broken=true``. ``data.cache=true`` decodes every image once into a cached uint8 tensor.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch
from torch.utils.data import Dataset

from gan_lightning import devices
from gan_lightning.data.base import GANDataModule
from gan_lightning.data.image_files import IMAGE_EXTENSIONS, ImageFiles, find_images
from gan_lightning.data.image_set import ImageSet
from gan_lightning.errors import ConfigError, DatasetNotFoundError

__all__ = ["ImageFiles", "ImageFolderDataModule", "find_images"]


class ImageFolderDataModule(GANDataModule):
    """Images from ``data.path`` (default: ``data.root``) at ``data.image_size`` (default 64).

    Args:
        path: the folder (searched recursively).
        image_size: side S of the (3, S, S) training images.
        cache: decode every image once into ``<cache root>/image_cache`` and train from that tensor.
        skip_broken: leave unreadable image files out with a warning instead of stopping.
    """

    name = "image_folder"

    def __init__(
        self,
        *args,
        path: str | None = None,
        image_size: int = 64,
        cache: bool | None = None,
        skip_broken: bool = False,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        if image_size <= 0:
            raise ConfigError(f"data.image_size must be positive, got {image_size}.")
        self.folder = Path(path).expanduser() if path else self.root
        self.image_size = image_size
        self.data_shape = (3, image_size, image_size)
        self.use_cache = self.serves_from_memory = devices.decode_cache(cache)
        self.skip_broken = skip_broken
        self._scan()

    @property
    def source(self) -> str:
        return f"folder:{self.folder.resolve()}"

    @property
    def stats_name(self) -> str:
        """``image_folder-<digest of folder and files>-<S>px``: cached real statistics follow the folder."""
        digest = hashlib.sha256(f"{self.image_set.digest()}\0{self.image_size}".encode()).hexdigest()[:10]
        return f"{self.name}-{digest}-{self.image_size}px"

    def _scan(self) -> None:
        """Find and check the images and their labels now, so that models can be sized (and bad files
        reported) before training."""
        if not self.folder.is_dir():
            raise DatasetNotFoundError(
                f"Image folder '{self.folder.resolve()}' does not exist. Point data.path=PATH at a folder of "
                f"images (searched recursively; extensions {', '.join(IMAGE_EXTENSIONS)})."
            )
        paths = find_images(self.folder)
        if not paths:
            raise ConfigError(
                f"Image folder '{self.folder.resolve()}' holds no images (searched recursively for "
                f"{', '.join(IMAGE_EXTENSIONS)})."
            )
        top_dirs = [p.relative_to(self.folder).parts for p in paths]
        labels: list[int] | None = None
        # Labels need two class folders at least: one folder of images (anime-faces/faces/) is unlabelled.
        if all(len(parts) > 1 for parts in top_dirs) and len({parts[0] for parts in top_dirs}) > 1:
            self.class_names = sorted({parts[0] for parts in top_dirs})
            index = {name: i for i, name in enumerate(self.class_names)}
            labels = [index[parts[0]] for parts in top_dirs]
            self.num_classes = len(self.class_names)
        else:
            self.class_names, self.num_classes = None, None
        cache_root = self.root if self.use_cache else None
        self.image_set = ImageSet(self.folder, paths, labels, self.image_size, self.skip_broken, cache_root)
        if not len(self.image_set):
            raise ConfigError(f"No image in '{self.folder.resolve()}' can be read (data.skip_broken=true).")
        self.paths, self.labels = self.image_set.paths, self.image_set.labels

    def build_dataset(self, split: str) -> tuple[Dataset, torch.Tensor | None]:
        labels = torch.tensor(self.labels) if self.labels is not None else None
        return self.image_set.dataset(), labels
