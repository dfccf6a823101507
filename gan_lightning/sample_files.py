"""Samples made anywhere, read from files for scoring: a folder of images, an ``.npz`` or a ``.pt``.

- a folder: PNG / JPEG (any image extension) files searched recursively, sorted by path, each 8-bit
  grayscale or RGB (an opaque alpha channel is dropped); a ``labels.txt`` beside them (one class id a
  line, in the files' order, what ``python -m gan_lightning.sample out=DIR/`` writes for conditional
  models) gives their labels;
- ``.npz``: the array ``images`` (else ``arr_0``, else the only one), optionally ``labels``;
- ``.pt``: a tensor, or ``{"images": ..., "labels": ...}`` (what ``sample out=x.pt`` writes).

Arrays are (N, C, H, W), (N, H, W, C) or (N, H, W): uint8 (or integers) in [0, 255], or floats in
[-1, 1] (the generators' range). Images are brought to the data's shape: a grayscale sample becomes
RGB for colour data, an RGB sample whose channels are equal becomes grayscale for grayscale data;
sizes are never changed. Every check runs before any image is scored.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from gan_lightning.data.image_files import find_images
from gan_lightning.data.transforms import uint8_to_unit_range
from gan_lightning.errors import ConfigError

LABELS_FILE = "labels.txt"
ARRAY_SUFFIXES = (".npz", ".pt")


@dataclass
class Samples:
    """``n`` images in the data's shape, uint8 [0, 255] or float [-1, 1], with their labels if known.

    ``available`` is how many the source holds (the first ``n`` are used)."""

    images: torch.Tensor
    labels: torch.Tensor | None
    available: int
    source: str

    def batches(self, batch_size: int):
        """Yield ``(images float (B, C, H, W) in [-1, 1], labels or None)``."""
        for start in range(0, len(self.images), batch_size):
            part = self.images[start : start + batch_size]
            images = uint8_to_unit_range(part) if part.dtype == torch.uint8 else part.float()
            labels = self.labels[start : start + batch_size] if self.labels is not None else None
            yield images, labels


def read_samples(
    path: str | Path, shape: tuple[int, ...], n: int, labels: str | Path | None = None
) -> Samples:
    """The first ``n`` samples of ``path`` as images of ``shape`` (C, H, W); a :class:`ConfigError`
    naming the problem (missing or unreadable file, empty folder, too few images, other size, channels
    that cannot be converted, values out of range) before anything is computed."""
    path = Path(str(path)).expanduser()
    if not path.exists():
        raise ConfigError(f"samples={path}: no such file or folder.")
    if path.is_dir():
        images, found, count = _read_folder(path, shape, n)
        labels = labels or (path / LABELS_FILE if (path / LABELS_FILE).is_file() else None)
    elif path.suffix in ARRAY_SUFFIXES:
        array, found = _load_array_file(path)
        count = len(array)
        _check_count(path, count, n)
        images = _to_shape(_as_nchw(array, path, shape, n), path, shape)
    else:
        raise ConfigError(
            f"samples={path}: use a folder of PNG/JPEG images, an .npz (array 'images' or 'arr_0') or a "
            ".pt file (a tensor, or what `python -m gan_lightning.sample out=x.pt` writes)."
        )
    if labels is not None:
        found = _read_labels(Path(labels))
    if found is not None:
        if len(found) < n:
            raise ConfigError(f"samples={path}: {len(found)} labels for the {n} images scored.")
        found = found[:n]
    return Samples(images, found, count, str(path))


def _check_count(path: Path, count: int, n: int) -> None:
    if count == 0:
        raise ConfigError(f"samples={path} holds no images.")
    if count < n:
        raise ConfigError(
            f"samples={path} holds {count} images, fewer than the {n} the protocol scores (n={n}). "
            f"Score them all with n={count}, or write more samples (FIDs are comparable only at equal n)."
        )


# --- folders -------------------------------------------------------------------------------------------


def _read_folder(folder: Path, shape: tuple[int, ...], n: int) -> tuple[torch.Tensor, None, int]:
    files = find_images(folder)
    if not files:
        raise ConfigError(f"samples={folder} holds no PNG/JPEG images (searched recursively).")
    _check_count(folder, len(files), n)
    channels, height, width = shape
    images = torch.empty((n, channels, height, width), dtype=torch.uint8)
    for i, file in enumerate(files[:n]):
        name = file.relative_to(folder)
        pixels = _decode(file, name, folder)
        if pixels.shape[:2] != (height, width):
            raise ConfigError(
                f"samples={folder}: {name} is {pixels.shape[1]}x{pixels.shape[0]} pixels, the data's images "
                f"are {width}x{height}. Images are not resized: write samples at the data's size."
            )
        images[i] = _to_shape(torch.from_numpy(pixels).permute(2, 0, 1)[None], f"{folder}: {name}", shape)[0]
    return images, None, len(files)


def _decode(file: Path, name: Path, folder: Path) -> np.ndarray:
    """One file -> uint8 (H, W, 1 or 3)."""
    try:
        with Image.open(file) as img:
            img.load()
            if img.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
                raise ConfigError(
                    f"samples={folder}: {name} is a {img.mode} (16-bit or float) image: save 8-bit images."
                )
            if img.mode in ("LA", "RGBA", "PA", "P"):
                img = img.convert("RGBA" if img.mode in ("RGBA", "PA", "P") else "LA")
                alpha = np.asarray(img)[..., -1]
                if (alpha < 255).any():
                    raise ConfigError(
                        f"samples={folder}: {name} has transparent pixels: save opaque images (no alpha)."
                    )
                img = img.convert("RGB" if img.mode == "RGBA" else "L")
            elif img.mode not in ("L", "RGB"):
                img = img.convert("RGB")
            pixels = np.array(img, dtype=np.uint8)
    except ConfigError:
        raise
    except (OSError, SyntaxError, ValueError, UnidentifiedImageError) as err:
        raise ConfigError(f"samples={folder}: cannot read {name} ({type(err).__name__}: {err}).") from err
    return pixels[..., None] if pixels.ndim == 2 else pixels


# --- arrays --------------------------------------------------------------------------------------------


def _load_array_file(path: Path) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(images, labels or None) of an ``.npz`` or ``.pt`` file, as tensors."""
    try:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as archive:
                keys = list(archive.keys())
                key = next((k for k in ("images", "arr_0") if k in keys), keys[0] if len(keys) == 1 else None)
                if key is None:
                    raise ConfigError(
                        f"samples={path} holds the arrays {keys}: name the images 'images' (or 'arr_0')."
                    )
                images, labels = archive[key], archive["labels"] if "labels" in keys else None
            return torch.from_numpy(images), torch.from_numpy(labels) if labels is not None else None
        content = torch.load(path, map_location="cpu", weights_only=True)
    except ConfigError:
        raise
    except Exception as err:  # truncated, not an archive, pickled objects ...
        raise ConfigError(
            f"samples={path} is not readable ({type(err).__name__}: {str(err).splitlines()[0]})."
        ) from err
    if isinstance(content, torch.Tensor):
        return content, None
    if isinstance(content, dict) and isinstance(content.get("images"), torch.Tensor):
        return content["images"], content.get("labels")
    raise ConfigError(f"samples={path}: expected a tensor of images, or a dict with the tensor 'images'.")


def _as_nchw(array: torch.Tensor, path: Path, shape: tuple[int, ...], n: int) -> torch.Tensor:
    """The first ``n`` images, (n, C, H, W) from (N, C, H, W), (N, H, W, C) or (N, H, W), with their
    value range checked."""
    _, height, width = shape
    expected = f"(N, C, {height}, {width}), (N, {height}, {width}, C) or (N, {height}, {width})"
    if array.dim() == 3 and tuple(array.shape[1:]) == (height, width):
        array = array[:, None]
    elif array.dim() == 4 and tuple(array.shape[2:]) == (height, width):
        pass
    elif array.dim() == 4 and tuple(array.shape[1:3]) == (height, width):
        array = array.permute(0, 3, 1, 2)
    else:
        raise ConfigError(
            f"samples={path} holds images of shape {tuple(array.shape)}; the data's images need {expected} "
            "(C = 1 or 3). Images are not resized: write samples at the data's size."
        )
    array = array[:n]
    if array.dtype == torch.bool or array.is_complex():
        raise ConfigError(
            f"samples={path}: images of dtype {array.dtype}; use uint8 [0, 255] or floats in [-1, 1]."
        )
    if array.dtype.is_floating_point:
        low, high = float(array.min()), float(array.max())
        if not (np.isfinite(low) and np.isfinite(high)) or low < -1 or high > 1:
            raise ConfigError(
                f"samples={path}: float images must lie in [-1, 1] (the generators' range); these span "
                f"[{low:.4g}, {high:.4g}]. Give uint8 images in [0, 255], or rescale (x * 2 - 1 for [0, 1])."
            )
        return array.float()
    if array.dtype != torch.uint8:
        low, high = int(array.min()), int(array.max())
        if low < 0 or high > 255:
            raise ConfigError(
                f"samples={path}: integer images must lie in [0, 255]; these span [{low}, {high}] "
                f"({array.dtype})."
            )
        array = array.to(torch.uint8)
    return array


def _to_shape(images: torch.Tensor, where: object, shape: tuple[int, ...]) -> torch.Tensor:
    """(N, C, H, W) with the data's channel count: 1 -> 3 by repetition, 3 -> 1 when the channels agree."""
    channels, have = shape[0], images.size(1)
    if have == channels:
        return images.contiguous()
    if have == 1 and channels == 3:
        return images.expand(-1, 3, -1, -1).contiguous()
    if have == 3 and channels == 1:
        if (images[:, 1:] == images[:, :1]).all():
            return images[:, :1].contiguous()
        raise ConfigError(
            f"samples={where}: colour images (3 channels that differ), the data's images are grayscale "
            "(1 channel)."
        )
    raise ConfigError(
        f"samples={where}: images with {have} channels, the data's images have {channels} (1 or 3 can "
        "be converted)."
    )


def _read_labels(path: Path) -> torch.Tensor:
    """Class ids from a ``.txt`` (one a line), ``.npy`` or ``.pt`` file (a tensor or ``{"labels": ...}``)."""
    if not path.is_file():
        raise ConfigError(f"labels={path}: no such file.")
    try:
        if path.suffix == ".txt":
            values = torch.tensor([int(line) for line in path.read_text().split()])
        elif path.suffix == ".npy":
            values = torch.from_numpy(np.load(path, allow_pickle=False))
        else:
            content = torch.load(path, map_location="cpu", weights_only=True)
            values = content["labels"] if isinstance(content, dict) else content
    except Exception as err:
        raise ConfigError(f"labels={path} is not readable ({type(err).__name__}: {err}).") from err
    if not isinstance(values, torch.Tensor) or values.dim() != 1 or values.dtype.is_floating_point:
        raise ConfigError(f"labels={path}: expected one integer class id per image.")
    return values.long()
