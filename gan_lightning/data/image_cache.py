"""Decode a folder of images once into one uint8 tensor on disk, and serve batches from it.

``data.cache=true``: every image is resized and centre-cropped to ``image_size`` once and stored as
uint8 (50,000 x 3 x 32 x 32 = 150 MB) in ``<cache root>/image_cache/<key>.pt``, written atomically.
The key follows the folder, the image size and the file list (names, sizes, modification times), so
adding, removing or changing a file makes a new cache. Later runs load the tensor instead of decoding.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Sequence
from pathlib import Path

import torch
from torch.utils.data import Dataset
from tqdm import tqdm

from gan_lightning.data.image_files import decode_image
from gan_lightning.data.transforms import uint8_to_unit_range
from gan_lightning.errors import ConfigError
from gan_lightning.files import atomic_torch_save, cache_root

log = logging.getLogger(__name__)

FORMAT = 1  # bump when the decoding changes, so old caches are not reused


def file_list_digest(paths: Sequence[Path], folder: Path, with_times: bool = True) -> str:
    """SHA-256 (hex) of every file's path relative to ``folder`` and size (and mtime unless disabled)."""
    digest = hashlib.sha256()
    for path in paths:
        stat = path.stat()
        stamp = f"{stat.st_mtime_ns}" if with_times else ""
        digest.update(f"{path.relative_to(folder).as_posix()}\0{stat.st_size}\0{stamp}\n".encode())
    return digest.hexdigest()


def cache_file(data_root: str | Path, folder: Path, image_size: int, paths: Sequence[Path]) -> Path:
    """``<cache root>/image_cache/<folder name>_<size>px_<digest>.pt`` for these files of ``folder``."""
    digest = hashlib.sha256(
        f"v{FORMAT}\0{folder.resolve()}\0{image_size}\0{file_list_digest(paths, folder)}".encode()
    ).hexdigest()[:16]
    label = re.sub(r"[^A-Za-z0-9.-]+", "-", "-".join(folder.resolve().parts[-2:])).strip("-")
    return cache_root(data_root) / "image_cache" / f"{label}_{image_size}px_{digest}.pt"


def decode_all(paths: Sequence[Path], image_size: int) -> torch.Tensor:
    """Every file decoded: uint8 (N, 3, image_size, image_size), with a progress bar."""
    images = torch.empty((len(paths), 3, image_size, image_size), dtype=torch.uint8)
    for index, path in enumerate(tqdm(paths, desc=f"Decoding {len(paths):,} images (once)", unit="img")):
        try:
            images[index] = decode_image(path, image_size)
        except Exception as err:
            raise ConfigError(f"Could not decode '{path}' ({err}). Delete or replace the file.") from err
    return images


def load_or_decode(paths: Sequence[Path], image_size: int, path: Path) -> torch.Tensor:
    """The images of ``paths`` as uint8 (N, 3, S, S): loaded from ``path``, or decoded and saved there."""
    expected = (len(paths), 3, image_size, image_size)
    if path.is_file():
        try:
            images = torch.load(path, map_location="cpu", weights_only=True)["images"]
            if tuple(images.shape) == expected and images.dtype == torch.uint8:
                log.info("Images loaded from the cache %s", path)
                return images
        except Exception as err:  # a damaged cache file is rebuilt, never trusted
            log.warning("Ignoring the damaged image cache %s (%s)", path, err)
    images = decode_all(paths, image_size)
    try:
        atomic_torch_save({"images": images, "format": FORMAT}, path)
        log.info("Decoded images cached in %s (%.0f MB)", path, images.numel() / 1e6)
    except OSError as err:  # a read-only cache root: train from memory this time
        log.warning(
            "Could not write the image cache %s (%s); set GAN_CACHE_DIR to a writable folder.", path, err
        )
    return images


class CachedImages(Dataset):
    """Decoded images held as uint8 (N, 3, S, S) with labels (N,) (-1: unlabelled).

    item -> (float (3, S, S) in [-1, 1], long label); the DataLoader fetches a whole batch through
    :meth:`__getitems__` (one indexing and one conversion per batch).
    """

    def __init__(self, images: torch.Tensor, labels: Sequence[int] | None) -> None:
        self.images = images
        unlabelled = torch.full((len(images),), -1)
        self.labels = torch.as_tensor(labels, dtype=torch.long) if labels is not None else unlabelled

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return uint8_to_unit_range(self.images[index]), int(self.labels[index])

    def __getitems__(self, indices: list[int]) -> list[tuple[torch.Tensor, torch.Tensor]]:
        index = torch.as_tensor(indices, dtype=torch.long)
        images = uint8_to_unit_range(self.images[index])
        return list(zip(images.unbind(0), self.labels[index].unbind(0), strict=True))
