"""The datamodule base class: what every dataset tells the model, plus subsetting and loaders.

Every batch is a pair ``(x, y)``: ``x`` float (N, *data_shape) (images scaled to [-1, 1]) and ``y``
long (N,) class labels, or -1 for unlabelled data.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, Dataset, Subset

from gan_lightning.errors import ConfigError


class GANDataModule(pl.LightningDataModule):
    """Base class. Subclasses set the class attributes and implement :meth:`build_dataset`.

    Attributes:
        name: short name used in file names (classifier, cached statistics), e.g. ``mnist``.
        splits: the splits :meth:`load_split` can load (``train``, and ``test`` where one exists).
        data_shape: shape of one sample, e.g. (1, 28, 28) or (2,).
        is_image: samples are images in [-1, 1] (the generator then ends in tanh).
        num_classes: size of the label space, ``None`` for unlabelled data.
        class_names: one name per label id, or ``None``.
    """

    name: str = "dataset"
    splits: tuple[str, ...] = ("train",)
    data_shape: tuple[int, ...] = ()
    is_image: bool = True
    num_classes: int | None = None
    class_names: list[str] | None = None

    def __init__(
        self,
        root: str | Path = "./data",
        batch_size: int = 64,
        num_workers: int = 0,
        pin_memory: bool = False,
        classes: Sequence[int] | None = None,
    ) -> None:
        super().__init__()
        if batch_size <= 0:
            raise ConfigError(f"data.batch_size must be a positive integer, got {batch_size}.")
        if num_workers < 0:
            raise ConfigError(f"data.num_workers must be >= 0, got {num_workers}.")
        self.root = Path(root).expanduser()
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.requested_classes = list(classes) if classes is not None else None
        self.train_set: Dataset | None = None

    # --- to implement --------------------------------------------------------------------------

    def build_dataset(self, split: str) -> tuple[Dataset, torch.Tensor | None]:
        """Return the split and its labels (long (N,)), or ``None`` when unlabelled."""
        raise NotImplementedError

    # --- shared logic --------------------------------------------------------------------------

    @property
    def classes(self) -> list[int] | None:
        """The label ids this run trains on: ``data.classes`` when set, else all of them."""
        if self.num_classes is None:
            return None
        return self.requested_classes if self.requested_classes is not None else list(range(self.num_classes))

    def load_split(self, split: str = "train") -> Dataset:
        """The split, restricted to ``data.classes`` when set."""
        if split not in self.splits:
            raise ConfigError(f"Dataset '{self.name}' has no '{split}' split; it has: {', '.join(self.splits)}.")
        dataset, labels = self.build_dataset(split)
        if self.requested_classes is not None:
            dataset = self._keep_classes(dataset, labels)
        return dataset

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is not None:
            return
        dataset = self.load_split("train")
        if len(dataset) < self.batch_size:
            raise ConfigError(
                f"The training set has {len(dataset)} samples, fewer than data.batch_size={self.batch_size}. "
                "Lower data.batch_size or add data."
            )
        self.train_set = dataset

    def _keep_classes(self, dataset: Dataset, labels: torch.Tensor | None) -> Dataset:
        if labels is None or self.num_classes is None:
            raise ConfigError(f"data.classes={self.requested_classes} was given, but this dataset has no labels.")
        unknown = [c for c in self.requested_classes if not 0 <= c < self.num_classes]
        if unknown:
            raise ConfigError(f"data.classes has labels {unknown} outside 0..{self.num_classes - 1}.")
        keep = torch.isin(labels, torch.tensor(self.requested_classes)).nonzero().flatten()
        return Subset(dataset, keep.tolist())

    def train_dataloader(self) -> DataLoader:
        return DataLoader(
            self.train_set,
            batch_size=self.batch_size,
            shuffle=True,
            drop_last=True,
            num_workers=self.num_workers,
            pin_memory=self.pin_memory,
            persistent_workers=self.num_workers > 0,
        )
