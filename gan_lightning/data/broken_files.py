"""Finding image files that cannot be read, before any training starts.

A file passes when PIL identifies it and, cheaply, when it is complete:

- PNG: ``verify()`` reads every chunk and checks its CRC (a truncated file fails);
- JPEG: the file must end with the end-of-image marker ``FF D9``; one that does not (truncated, or with
  trailing bytes) is decoded in full to decide;
- any other format is decoded in full.

About 1 s per 50,000 small JPEGs on one core, so every run checks its files.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, UnidentifiedImageError
from tqdm import tqdm

from gan_lightning.errors import ConfigError

log = logging.getLogger(__name__)

JPEG_END = b"\xff\xd9"
SHOWN = 5  # broken files named in the error message


def _ends_with_jpeg_end(handle) -> bool:
    handle.seek(0, 2)
    size = handle.tell()
    handle.seek(max(0, size - 64))
    return handle.read().rstrip(b"\x00\r\n ").endswith(JPEG_END)


def unreadable_reason(path: Path) -> str | None:
    """Why ``path`` cannot be used as an image (e.g. ``"truncated"``), or ``None`` when it can."""
    try:
        with open(path, "rb") as handle, Image.open(handle) as img:
            if img.format == "PNG":
                img.verify()
                return None
            if img.format == "JPEG" and _ends_with_jpeg_end(handle):
                return None
        with Image.open(path) as img:
            img.load()
    except UnidentifiedImageError:
        return "not an image PIL can read"
    except Exception as err:  # PIL raises many kinds: OSError, SyntaxError, ValueError, ...
        return "truncated" if "truncated" in str(err).lower() else f"{type(err).__name__}: {err}"
    return None


def find_broken(paths: Sequence[Path], what: str = "image files") -> list[tuple[int, str]]:
    """``(index, reason)`` of every unreadable file in ``paths``, with a progress bar for long lists."""
    broken = []
    for index, path in enumerate(
        tqdm(
            paths, desc=f"Checking {len(paths):,} {what}", unit="file", disable=len(paths) < 5000, leave=False
        )
    ):
        reason = unreadable_reason(path)
        if reason is not None:
            broken.append((index, reason))
    return broken


def readable_indices(paths: Sequence[Path], folder: Path, skip_broken: bool = False) -> list[int]:
    """Indices of the readable files of ``paths`` (found in ``folder``).

    Raises:
        ConfigError: some files are unreadable and ``skip_broken`` is false; the message names up to
            five of them, gives the count and the switch. With ``skip_broken`` they are left out with
            a warning instead.
    """
    broken = find_broken(paths)
    if not broken:
        return list(range(len(paths)))
    names = [f"  {_shown(paths[i], folder)} ({reason})" for i, reason in broken[:SHOWN]]
    more = [f"  ... and {len(broken) - SHOWN} more"] if len(broken) > SHOWN else []
    summary = f"{len(broken)} of the {len(paths)} image files in '{folder}' cannot be read"
    if not skip_broken:
        raise ConfigError(
            "\n".join(
                [f"{summary} (not images, or truncated):", *names, *more]
                + ["Fix: delete or replace them, or set data.skip_broken=true to train without them."]
            )
        )
    log.warning("\n".join([f"{summary}; left out (data.skip_broken=true):", *names, *more]))
    skipped = {i for i, _ in broken}
    return [i for i in range(len(paths)) if i not in skipped]


def _shown(path: Path, folder: Path) -> str:
    try:
        return str(path.relative_to(folder))
    except ValueError:
        return str(path)
