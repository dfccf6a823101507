"""Files: where derived ones go, their content digests, and writing them so that a crash never leaves a
half-written one behind."""

from __future__ import annotations

import hashlib
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


def file_digest(path: str | Path, length: int = 10) -> str:
    """A short content hash, so that cached statistics follow the weights they were made with."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:length]


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
