"""Writing files so that a crash never leaves a half-written one behind."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch

CACHE_ENV = "GAN_CACHE_DIR"


def cache_root(data_root: str | Path) -> Path:
    """Where derived files go (trained classifiers, cached real statistics): ``$GAN_CACHE_DIR`` when
    set (e.g. when the data root is read-only), else the data root itself."""
    return Path(os.environ.get(CACHE_ENV) or data_root).expanduser()


def atomic_torch_save(obj: Any, path: str | Path) -> Path:
    """``torch.save`` to a temporary file beside ``path``, then rename it into place (atomic on POSIX)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            torch.save(obj, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
