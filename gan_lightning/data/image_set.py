"""The checked image files of one folder (or one split) and the dataset that serves them.

Shared by ``data=image_folder`` and the CIFAR-10 folder copy: unreadable files are found when the set
is made (at datamodule construction, before any training), and :meth:`ImageSet.dataset` decodes per
item (:class:`~gan_lightning.data.image_files.ImageFiles`) or, with ``cache``, once into a uint8
tensor (:class:`~gan_lightning.data.image_cache.CachedImages`).
"""

from __future__ import annotations

from pathlib import Path

from torch.utils.data import Dataset

from gan_lightning.data.broken_files import readable_indices
from gan_lightning.data.image_cache import CachedImages, cache_file, file_list_digest, load_or_decode
from gan_lightning.data.image_files import ImageFiles


class ImageSet:
    """Readable files ``paths`` of ``folder`` with their ``labels`` (or ``None``), at ``image_size``.

    Args:
        folder: the folder the paths were found in (for messages and cache keys).
        paths, labels: every image file found, and its label id.
        image_size: side S of the square images (3, S, S).
        skip_broken: leave unreadable files out with a warning instead of raising ConfigError.
        cache_root: the data root whose cache folder holds the decoded tensor; ``None``: no cache.
    """

    def __init__(
        self,
        folder: Path,
        paths: list[Path],
        labels: list[int] | None,
        image_size: int,
        skip_broken: bool = False,
        cache_root: Path | None = None,
    ) -> None:
        keep = readable_indices(paths, folder, skip_broken)
        self.folder = folder
        self.paths = [paths[i] for i in keep] if len(keep) < len(paths) else paths
        self.labels = [labels[i] for i in keep] if labels is not None and len(keep) < len(paths) else labels
        self.image_size = image_size
        self.cache_root = cache_root
        self._dataset: Dataset | None = None

    def __len__(self) -> int:
        return len(self.paths)

    def digest(self) -> str:
        """Content-independent identity of the file list (relative names and sizes), hex."""
        return file_list_digest(self.paths, self.folder, with_times=False)

    def cache_path(self) -> Path | None:
        """Where the decoded tensor is (or will be) cached; ``None`` without ``cache``."""
        if self.cache_root is None:
            return None
        return cache_file(self.cache_root, self.folder, self.image_size, self.paths)

    def dataset(self) -> Dataset:
        """item -> (image (3, S, S) in [-1, 1], label or -1); made once, then reused."""
        if self._dataset is None:
            path = self.cache_path()
            if path is None:
                self._dataset = ImageFiles(self.paths, self.labels, self.image_size)
            else:
                self._dataset = CachedImages(load_or_decode(self.paths, self.image_size, path), self.labels)
        return self._dataset
