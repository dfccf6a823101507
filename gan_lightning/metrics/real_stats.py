"""Features of real images, computed once per protocol and cached on disk.

The cache key is (dataset, split, classes, extractor, sample count); the file is written atomically,
so concurrent runs and crashes never leave a broken cache.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset, Subset

from gan_lightning.errors import ConfigError
from gan_lightning.files import atomic_torch_save

log = logging.getLogger(__name__)


def cache_key(dataset: str, split: str, classes: Sequence[int] | None, extractor_tag: str, n: int) -> str:
    """File-name-safe identifier of one reference protocol."""
    subset = "all" if classes is None else "c" + "-".join(str(c) for c in classes)
    return f"{dataset}_{split}_{subset}_{extractor_tag}_n{n}"


@torch.no_grad()
def extract_features(
    extractor: nn.Module, dataset: Dataset, n: int, batch_size: int = 500, device: torch.device | str = "cpu"
) -> Tensor:
    """Features (n, d) of ``n`` images of ``dataset``: all of them in order when n equals its size, else a
    fixed random subset (seed 0)."""
    if n > len(dataset):
        raise ConfigError(f"The reference set has {len(dataset)} images, fewer than the {n} requested.")
    if n < len(dataset):
        dataset = Subset(
            dataset, torch.randperm(len(dataset), generator=torch.Generator().manual_seed(0))[:n].tolist()
        )
    features = [
        extractor(images.to(device)).float().cpu() for images, _ in DataLoader(dataset, batch_size=batch_size)
    ]
    return torch.cat(features)


def real_features(
    extractor: nn.Module,
    dataset: Dataset,
    n: int,
    cache_dir: str | Path,
    key: str,
    batch_size: int = 500,
    device: torch.device | str = "cpu",
) -> Tensor:
    """Cached real features (n, d): loaded from ``<cache_dir>/<key>.pt`` or computed and saved there."""
    path = Path(cache_dir) / f"{key}.pt"
    if path.is_file():
        return torch.load(path, map_location="cpu", weights_only=True)["features"]
    features = extract_features(extractor, dataset, n, batch_size, device)
    try:
        atomic_torch_save({"features": features, "key": key}, path)
    except OSError as err:  # a read-only data root: go on without the cache
        log.warning(
            "Could not cache real features at %s (%s); set GAN_CACHE_DIR to a writable folder.", path, err
        )
    return features
