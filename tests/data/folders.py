"""Tiny image folders written by the data tests: a CIFAR-like copy and broken files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from gan_lightning.data.cifar_folder import CIFAR10_CLASSES


def class_colour(label: int) -> int:
    """The flat grey level of class ``label``'s images in :func:`make_cifar_copy` (20 ... 245)."""
    return 20 + 25 * label


def make_cifar_copy(root: Path, per_class: dict[str, int] | None = None, classes=CIFAR10_CLASSES) -> Path:
    """``root/{train,test}/<class>/NNNN.jpg``: flat 32x32 JPEGs whose grey level encodes the label."""
    per_class = per_class or {"train": 3, "test": 2}
    for split, n in per_class.items():
        for label, name in enumerate(classes):
            folder = root / split / name
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(n):
                pixels = np.full((32, 32, 3), class_colour(label), dtype=np.uint8)
                pixels[i, :, 0] = 255  # one bright row per index: files of a class differ
                Image.fromarray(pixels).save(folder / f"{i:04d}.jpg", quality=95)
    return root


def write_truncated(path: Path, fmt: str = "PNG", size: int = 40) -> Path:
    """A random image of format ``fmt`` with its second half cut off."""
    pixels = (np.random.default_rng(1).random((size, size, 3)) * 255).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path, fmt)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path
