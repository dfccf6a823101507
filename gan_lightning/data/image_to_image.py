"""What the two-image datamodules share (``data=unpaired``: CycleGAN, DiscoGAN; ``data=paired``: pix2pix).

Both read image folders and serve two images per sample: the reference implementations' random jitter
(resize to ``load_size``, a random crop to ``image_size``, a horizontal flip; centre crop at test),
a held-out test fraction when there are no test folders (fixed files, seed 0), the decode cache, and a
loader of *run positions*: sample ``p`` of the run is a pure function of (shuffle seed, ``p``) (its
images and its crop and flip), so a run resumed from ``state_dict`` (``shuffle_seed``,
``batches_seen``) sees exactly the batches of the uninterrupted run, whatever the loader workers.
:class:`ImageToImageDataModule` holds the options and the loader; a subclass finds its files and
says what a training sample is (:meth:`~ImageToImageDataModule.train_samples`).
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Callable, Iterator
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Dataset, Sampler
from torchvision.transforms import functional as TF

from gan_lightning import devices
from gan_lightning.data.base import GANDataModule
from gan_lightning.data.image_set import ImageSet
from gan_lightning.data.order import EpochShuffle
from gan_lightning.errors import ConfigError

log = logging.getLogger(__name__)

LOAD_RATIO = 286 / 256  # the reference CycleGAN / pix2pix load 286 px and crop 256
SPLIT_SEED = 0  # the held-out test files are the same in every run


def default_load_size(image_size: int) -> int:
    """``image_size * 286 / 256`` rounded half up: 64 -> 72, 128 -> 143, 256 -> 286."""
    return math.floor(image_size * LOAD_RATIO + 0.5)


def held_out(n: int, fraction: float) -> tuple[list[int], list[int]]:
    """(train, test) indices of ``n`` files: ``round(n * fraction)`` (at least 1) of a fixed permutation
    (seed 0) are held out, each list sorted. ``fraction == 0``: nothing is held out."""
    if fraction == 0:
        return list(range(n)), []
    n_test = min(max(1, round(n * fraction)), n - 1)
    order = torch.randperm(n, generator=torch.Generator().manual_seed(SPLIT_SEED))
    return sorted(order[n_test:].tolist()), sorted(order[:n_test].tolist())


def sample_seed(seed: int, domain: int, position: int) -> int:
    """The seed of one sample's augmentation: a hash of (shuffle seed, domain, global position)."""
    digest = hashlib.blake2b(f"{seed}/{domain}/{position}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1  # below 2**63


def crop_flip(
    image: torch.Tensor, size: int, random_crop: bool, flip: bool, generator: torch.Generator | None
) -> torch.Tensor:
    """(C, H, W) -> (C, size, size): a random crop (``random_crop``) or the centre crop, then a
    horizontal flip with probability 1/2 (``flip``); randomness drawn from ``generator`` only."""
    _, height, width = image.shape
    if random_crop:
        top = int(torch.randint(0, height - size + 1, (1,), generator=generator))
        left = int(torch.randint(0, width - size + 1, (1,), generator=generator))
        image = TF.crop(image, top, left, size, size)
    else:
        image = TF.center_crop(image, [size, size])
    if flip and float(torch.rand(1, generator=generator)) < 0.5:
        image = TF.hflip(image)
    return image


class DomainSplit:
    """The images of one domain in one split: files ``indices`` of a checked :class:`ImageSet`."""

    def __init__(self, image_set: ImageSet, indices: list[int] | None = None) -> None:
        self.image_set = image_set
        self.indices = list(range(len(image_set))) if indices is None else indices

    @property
    def folder(self) -> Path:
        return self.image_set.folder

    @property
    def paths(self) -> list[Path]:
        return [self.image_set.paths[i] for i in self.indices]

    @property
    def labels(self) -> list[int] | None:
        """The class of each image (into the datamodule's ``domain_classes``), or None (unlabelled)."""
        labels = self.image_set.labels
        return None if labels is None else [labels[i] for i in self.indices]

    def __len__(self) -> int:
        return len(self.indices)

    def image(self, index: int) -> torch.Tensor:
        """Image ``index`` of this split at the loaded size, float (3, L, L) in [-1, 1]."""
        return self.image_set.dataset()[self.indices[index]][0]

    def digest(self) -> str:
        return hashlib.sha256(f"{self.image_set.digest()}\0{self.indices}".encode()).hexdigest()


class DomainImages(Dataset):
    """One domain's split as single images: item -> float (3, S, S) in [-1, 1], centre crop, no flip."""

    def __init__(self, split: DomainSplit, image_size: int) -> None:
        self.split = split
        self.image_size = image_size

    def __len__(self) -> int:
        return len(self.split)

    def __getitem__(self, index: int) -> torch.Tensor:
        return crop_flip(self.split.image(index), self.image_size, False, False, None)


class Unlabelled(Dataset):
    """item -> (image, -1): a dataset of images in the ``(x, y)`` form of the other datamodules."""

    def __init__(self, images: Dataset) -> None:
        self.images = images

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self.images[index], -1


class RunSamples(Dataset):
    """Base of the training datasets of run positions: item ``p`` is this rank's sample at run position
    ``p``, cropped to ``image_size`` (randomly with ``random_crop``) and maybe flipped (``flip``) with
    the generator :meth:`jitter_rng` gives that position, never the global RNG."""

    def __init__(
        self, image_size: int, random_crop: bool, flip: bool, seed: int, rank: int = 0, world_size: int = 1
    ) -> None:
        self.image_size, self.random_crop, self.flip = image_size, random_crop, flip
        self.seed, self.rank, self.world_size = seed, rank, world_size

    def jitter_rng(self, position: int, stream: int = 0) -> torch.Generator:
        """The generator of the crop and flip at this rank's ``position`` (``stream``: e.g. the domain),
        seeded by (shuffle seed, stream, global position)."""
        global_position = position * self.world_size + self.rank
        return torch.Generator().manual_seed(sample_seed(self.seed, stream, global_position))


class EndlessOrder:
    """Run positions -> indices: the endless concatenation of an :class:`EpochShuffle`'s permutations
    (this rank's share); ``len`` is one permutation's length."""

    def __init__(self, order: EpochShuffle) -> None:
        self.order = order
        self._cached: tuple[int, list[int]] | None = None  # (epoch, its permutation)

    def __len__(self) -> int:
        return len(self.order)

    def __getitem__(self, position: int) -> int:
        epoch, offset = divmod(position, len(self.order))
        if self._cached is None or self._cached[0] != epoch:
            self._cached = (epoch, self.order.permutation(epoch).tolist())
        return self._cached[1][offset]


class RunPositions(Sampler[int]):
    """The run's positions from ``next_position()`` (where the run is when a loader epoch starts: the
    datamodule's ``batches_seen`` x batch size) to the end of that loader epoch, the next multiple of
    ``per_epoch``. Lightning's epoch number plays no part, so a run resumed from any checkpoint (also
    the last one of a finished run) continues with the uninterrupted run's positions."""

    def __init__(self, per_epoch: int, next_position: Callable[[], int]) -> None:
        self.per_epoch, self.next_position = per_epoch, next_position

    def __iter__(self) -> Iterator[int]:
        # A generator: the start is read at the pass's first item, once the batches before it are counted.
        first = self.next_position()
        yield from range(first, (first // self.per_epoch + 1) * self.per_epoch)

    def __len__(self) -> int:
        return self.per_epoch


class ImageToImageDataModule(GANDataModule):
    """Base of the datamodules whose samples are two images (see the module docstring).

    Args:
        image_size: side S of the images (the crop size).
        load_size: side the images are resized to before the random crop; ``None``: S * 286 / 256.
        crop: random crop in training (centre crop at test); ``False``: resize straight to S.
        flip: random horizontal flip in training.
        test_fraction: share of the files held out as the test split where there is no test folder
            (fixed files, seed 0); 0 holds out nothing (no test split).
        cache: decode every image once (at ``load_size``) into ``<cache root>/image_cache``.
        skip_broken: leave unreadable image files out with a warning instead of stopping.
    """

    splits = ("train", "test")
    is_image = True
    num_classes = None
    class_names = None
    #: what a training sample is, in messages ("training images of the larger domain", "training pairs")
    samples_are = "training samples"

    def __init__(
        self,
        *args,
        image_size: int = 64,
        load_size: int | None = None,
        crop: bool = True,
        flip: bool = True,
        test_fraction: float = 0.1,
        cache: bool | None = None,
        skip_broken: bool = False,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        if self.requested_classes is not None:
            raise ConfigError(f"data={self.name} has no labels: set data.classes=null.")
        if self.subset is not None:
            raise ConfigError(f"data={self.name} does not take data.subset: set data.subset=null.")
        if self.on_device:
            raise ConfigError(
                f"data={self.name} crops and flips every image as it is loaded: set data.on_device=false."
            )
        if image_size <= 0:
            raise ConfigError(f"data.image_size must be positive, got {image_size}.")
        if load_size is None:
            load_size = default_load_size(image_size)
        if load_size < image_size:
            raise ConfigError(
                f"data.load_size={load_size} is smaller than data.image_size={image_size}: images are "
                "resized to load_size and then cropped to image_size. Raise load_size or set it to null "
                f"(image_size * 286 / 256 = {default_load_size(image_size)})."
            )
        if not 0 <= test_fraction < 1:
            raise ConfigError(f"data.test_fraction must be in [0, 1), got {test_fraction}.")
        self.image_size, self.load_size = image_size, load_size
        self.crop, self.flip = crop, flip
        self.test_fraction = test_fraction
        self.use_cache = self.serves_from_memory = devices.decode_cache(cache)
        self.skip_broken = skip_broken
        self.data_shape = (3, image_size, image_size)

    def image_set(self, folder: Path, paths: list[Path], labels: list[int] | None = None) -> ImageSet:
        """The checked files ``paths`` of ``folder`` (with their ``labels``, or none), decoded at the
        loaded size (``load_size``, or ``image_size`` without cropping), through the decode cache when it
        is on."""
        cache_root = self.root if self.use_cache else None
        size = self.load_size if self.crop else self.image_size
        return ImageSet(folder, paths, labels, size, self.skip_broken, cache_root)

    def hold_out(self, n: int, what: str, where: Path) -> tuple[list[int], list[int]]:
        """(train, test) indices of ``n`` items of ``where`` (``what``: "pairs", "images of domain A"):
        ``data.test_fraction`` of them held out, fixed files (:func:`held_out`), said in the log."""
        if self.test_fraction > 0 and n < 2:
            raise ConfigError(
                f"'{where.resolve()}' has too few readable {what} ({n}) to hold out a test split: add "
                "images or set data.test_fraction=0."
            )
        train, test = held_out(n, self.test_fraction)
        if test:
            log.info(
                "%d of the %d %s in %s held out as the test split (data.test_fraction=%s)",
                len(test), n, what, where, self.test_fraction,
            )  # fmt: skip
        return train, test

    def target_split(self, split: str) -> DomainSplit:
        """The images of ``split`` that translations are compared with (the targets, domain B)."""
        raise NotImplementedError

    def build_dataset(self, split: str) -> tuple[Dataset, None]:
        """:meth:`target_split`'s images as ``(x, -1)``, centre-cropped: the real images of the generic
        code (feature nets, metrics)."""
        return Unlabelled(DomainImages(self.target_split(split), self.image_size)), None

    def train_samples(self, rank: int = 0, world_size: int = 1) -> Dataset:
        """The run's training samples as ``rank`` of ``world_size`` sees them: item ``p`` is the sample at
        this rank's run position ``p`` (items go on beyond ``len``, one loader epoch)."""
        raise NotImplementedError

    # --- training ------------------------------------------------------------------------------

    def setup(self, stage: str | None = None) -> None:
        if self.shuffle_seed is None:
            self.shuffle_seed = torch.initial_seed() % 2**31  # set by seed_everything when seed= is given

    def train_dataloader(self) -> DataLoader:
        rank, world_size = (self.trainer.global_rank, self.trainer.world_size) if self.trainer else (0, 1)
        if self.shuffle_seed is None:
            self.setup("fit")
        samples = self.train_samples(rank, world_size)
        batches_per_epoch = len(samples) // self.batch_size
        if batches_per_epoch == 0:
            raise ConfigError(
                f"Each of the {world_size} processes gets {len(samples)} {self.samples_are}, fewer than "
                f"data.batch_size={self.batch_size}. Lower data.batch_size or use fewer devices."
            )
        positions = RunPositions(
            batches_per_epoch * self.batch_size, next_position=lambda: self.batches_seen * self.batch_size
        )
        return DataLoader(
            samples,
            batch_size=self.batch_size,
            sampler=positions,
            drop_last=True,
            num_workers=self.num_workers,
            pin_memory=self.pin_memory,
            persistent_workers=self.num_workers > 0,
            generator=torch.Generator().manual_seed(self.shuffle_seed),  # worker seeds, not the global RNG
        )
