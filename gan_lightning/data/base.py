"""The datamodule base class: what every dataset tells the model, plus subsetting and loaders.

Every batch is a pair ``(x, y)``: ``x`` float (N, *data_shape) (images scaled to [-1, 1]) and ``y``
long (N,) class labels, or -1 for unlabelled data.

The training order is reshuffled every epoch from a stored seed (:mod:`gan_lightning.data.order`) and
the datamodule counts the batches it has delivered, so a run resumed from any checkpoint sees the same
batches as an uninterrupted one. Batches have ``data.batch_size`` samples, or the size the attached
model plans for each generator step (progressive growing: ``model.progressive.batch_sizes``, one size per
resolution): the loader asks the model when it is built (:meth:`GANDataModule.training_batch_sizes`) and
batch ``k`` has the size of step ``k``. ``on_device=true`` keeps the whole training set on the accelerator
(small datasets such as MNIST): batches are then gathered there, with no per-sample loading at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, Dataset, Subset

from gan_lightning import devices
from gan_lightning.data.order import BatchSizes, EpochShuffle, ScheduledBatches
from gan_lightning.data.tensor_dataset import TensorBatches, as_tensors, keep_batch
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
        data_kind: ``samples`` (batches ``(x, y)``, for noise-to-image families), ``two_domains``
            (batches ``(a, b)`` of unpaired images, for unpaired translation families) or ``paired``
            (batches ``(source, target)`` of aligned images, for pix2pix); the model's must match.
    """

    name: str = "dataset"
    splits: tuple[str, ...] = ("train",)
    data_shape: tuple[int, ...] = ()
    is_image: bool = True
    num_classes: int | None = None
    class_names: list[str] | None = None
    data_kind: str = "samples"

    def __init__(
        self,
        root: str | Path = "./data",
        batch_size: int = 64,
        num_workers: int | None = None,
        pin_memory: bool | None = None,
        classes: Sequence[int] | None = None,
        on_device: bool = False,
        subset: int | None = None,
    ) -> None:
        super().__init__()
        if batch_size <= 0:
            raise ConfigError(f"data.batch_size must be a positive integer, got {batch_size}.")
        if num_workers is not None and num_workers < 0:
            raise ConfigError(
                f"data.num_workers must be >= 0 (or null: 4 on CUDA, 0 on the CPU), got {num_workers}."
            )
        if on_device and num_workers:
            raise ConfigError(
                "data.on_device=true keeps the data on the accelerator and needs no loader workers: "
                f"set data.num_workers=0 (got {num_workers})."
            )
        self.root = Path(root).expanduser()
        self.batch_size = batch_size
        self._requested_workers = num_workers
        self.pin_memory = devices.pin_memory(pin_memory) and not on_device
        self.requested_classes = list(classes) if classes is not None else None
        if subset is not None and subset < 1:
            raise ConfigError(
                f"data.subset must be a positive number of training samples or null, got {subset}"
            )
        self.subset = subset
        self.on_device = on_device
        self.train_set: Dataset | None = None
        self._device_set: TensorBatches | None = None
        self.shuffle_seed: int | None = None  # drawn at the first setup, restored on resume
        self.batches_seen = 0  # training batches delivered so far (all epochs)

    # --- to implement --------------------------------------------------------------------------

    def build_dataset(self, split: str) -> tuple[Dataset, torch.Tensor | None]:
        """Return the split and its labels (long (N,)), or ``None`` when unlabelled."""
        raise NotImplementedError

    # --- shared logic --------------------------------------------------------------------------

    #: the training images come from a decoded in-memory tensor (the decode cache), not from files
    serves_from_memory: bool = False

    @property
    def num_workers(self) -> int:
        """Loader processes: ``data.num_workers``, or (null) 4 persistent ones on CUDA unless the
        batches come from memory (``data.on_device``, the decode cache), 0 on the CPU."""
        return devices.loader_workers(self._requested_workers, self.on_device or self.serves_from_memory)

    @property
    def source(self) -> str:
        """Which copy of the data this is, for the metric protocol: ``torchvision``, ``folder:<path>``..."""
        return "in memory"

    @property
    def stats_name(self) -> str:
        """The data's name in cache keys of real statistics; differs between copies of one dataset
        (``cifar10`` vs ``cifar10-folder-<digest>``), unlike :attr:`name` (classifier files)."""
        return self.name

    @property
    def classes(self) -> list[int] | None:
        """The label ids this run trains on: ``data.classes`` when set, else all of them."""
        if self.num_classes is None:
            return None
        return self.requested_classes if self.requested_classes is not None else list(range(self.num_classes))

    def load_split(self, split: str = "train") -> Dataset:
        """The split, restricted to ``data.classes`` when set."""
        if split not in self.splits:
            raise ConfigError(
                f"Dataset '{self.name}' has no '{split}' split; it has: {', '.join(self.splits)}."
            )
        dataset, labels = self.build_dataset(split)
        if self.requested_classes is not None:
            dataset = self._keep_classes(dataset, labels)
        if split == "train" and self.subset is not None:
            dataset = self._keep_subset(dataset)
        return dataset

    def _keep_subset(self, dataset: Dataset) -> Dataset:
        """The first ``data.subset`` samples of a fixed permutation (seed 0): the same images in every
        run, whatever the run's seed (data-efficiency studies: 10% of CIFAR-10 is ``subset=5000``)."""
        if self.subset > len(dataset):
            raise ConfigError(
                f"data.subset={self.subset} is more than the {len(dataset)} training samples; lower it or "
                "set data.subset=null (all)."
            )
        order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(0))
        return Subset(dataset, order[: self.subset].sort().values.tolist())

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
        if self.shuffle_seed is None:
            self.shuffle_seed = torch.initial_seed() % 2**31  # set by seed_everything when seed= is given

    def _keep_classes(self, dataset: Dataset, labels: torch.Tensor | None) -> Dataset:
        if labels is None or self.num_classes is None:
            raise ConfigError(
                f"data.classes={self.requested_classes} was given, but this dataset has no labels."
            )
        unknown = [c for c in self.requested_classes if not 0 <= c < self.num_classes]
        if unknown:
            raise ConfigError(f"data.classes has labels {unknown} outside 0..{self.num_classes - 1}.")
        keep = torch.isin(labels, torch.tensor(self.requested_classes)).nonzero().flatten()
        return Subset(dataset, keep.tolist())

    def training_batch_sizes(self) -> BatchSizes | None:
        """The batch size of every generator step when the attached model changes it in training
        (progressive growing's ``model.progressive.batch_sizes``, over ``data.batch_size``); ``None``
        when every batch has ``data.batch_size`` samples."""
        model = self.trainer.lightning_module if self.trainer is not None else None
        ask = getattr(model, "training_batch_sizes", None)
        return ask(self.batch_size) if ask is not None else None

    def train_dataloader(self) -> DataLoader:
        rank, world_size = (self.trainer.global_rank, self.trainer.world_size) if self.trainer else (0, 1)
        order = EpochShuffle(len(self.train_set), self.shuffle_seed, rank, world_size)
        batches_per_epoch = len(order) // self.batch_size  # a loader epoch, whatever the batch sizes
        if batches_per_epoch == 0:
            raise ConfigError(
                f"Each of the {world_size} processes gets {len(order)} samples, fewer than "
                f"data.batch_size={self.batch_size}. Lower data.batch_size or use fewer devices."
            )
        sizes = self.training_batch_sizes() or BatchSizes.constant(self.batch_size)
        return self._scheduled_loader(order, sizes, batches_per_epoch, world_size)

    def _scheduled_loader(
        self, order: EpochShuffle, sizes: BatchSizes, batches_per_epoch: int, world_size: int
    ) -> DataLoader:
        """The loader of the run's batches: batch ``k`` (the run's, from ``batches_seen``) has the size of
        generator step ``k`` (:class:`ScheduledBatches`); each loader epoch starts where the run is."""
        for name, size in zip(sizes.names, sizes.sizes, strict=True):
            if size > len(order):
                share = f" each of the {world_size} processes gets" if world_size > 1 else ""
                raise ConfigError(
                    f"{name}={size} is more than the {len(order)} training samples{share}. Lower it, add "
                    "data or use fewer devices."
                )
        batches = ScheduledBatches(order, sizes, batches_per_epoch, next_batch=lambda: self.batches_seen)
        if self.on_device:
            return DataLoader(self._tensors_on_device(), batch_sampler=batches, collate_fn=keep_batch)
        return DataLoader(self.train_set, batch_sampler=batches, **self._workers())

    def _workers(self) -> dict:
        """The training loader's options for its worker processes."""
        return {
            "num_workers": self.num_workers,
            "pin_memory": self.pin_memory,
            "persistent_workers": self.num_workers > 0,
            "generator": torch.Generator().manual_seed(self.shuffle_seed),  # worker seeds, not the global RNG
        }

    def _tensors_on_device(self) -> TensorBatches:
        if self._device_set is None:
            device = self.trainer.strategy.root_device if self.trainer else torch.device("cpu")
            self._device_set = TensorBatches(*as_tensors(self.train_set), device=device)
        return self._device_set

    def on_after_batch_transfer(self, batch, dataloader_idx: int):
        if self.trainer is not None and self.trainer.training:
            self.batches_seen += 1
        return batch

    def state_dict(self) -> dict[str, int]:
        return {"shuffle_seed": self.shuffle_seed, "batches_seen": self.batches_seen}

    def load_state_dict(self, state_dict: dict[str, int]) -> None:
        self.shuffle_seed = state_dict["shuffle_seed"]
        self.batches_seen = state_dict["batches_seen"]
