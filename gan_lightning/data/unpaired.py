"""Two unpaired image domains A and B (CycleGAN, DiscoGAN): batches ``(a, b)`` drawn independently.

Where the images come from (``data=unpaired``):

- ``data.path=DIR`` holding ``trainA/ trainB/`` and, optionally, ``testA/ testB/`` (the layout of every
  public CycleGAN dataset, e.g. horse2zebra). A domain without its test folder holds out
  ``data.test_fraction`` of its training folder instead;
- or ``data.path_a=DIR_A data.path_b=DIR_B``: one folder of images per domain (searched recursively),
  of which ``data.test_fraction`` (default 10%) is held out as the test split.

The held-out files are fixed by a permutation with seed 0, so the split never depends on the run's
seed. Images are read as RGB (grayscale files too); unreadable files stop the run at construction,
before any training, unless ``data.skip_broken=true``.

Labels: when every image of both domains lies in a class sub-folder of its domain folder
(``trainA/<class>/x.png``, ``testA/<class>/...``, ``trainB/<class>/...``; with ``path_a`` / ``path_b``,
``DIR_A/<class>/...``), there are two classes at least and both domains have the same class names, the
domains are labelled (:attr:`UnpairedDataModule.domain_classes`, :meth:`~UnpairedDataModule.domain_labels`):
the content-preservation metric (:mod:`gan_lightning.metrics.content_classifier`) asks whether a
translation keeps its source's class. Otherwise they are unlabelled (``unlabelled_because`` says why);
class folders whose names differ between the domains get a warning.

Training images are resized (shorter side) and centre-cropped to ``load_size`` (default
``image_size * 286 / 256``, the reference's 286 -> 256), then randomly cropped to ``image_size`` and
randomly flipped; test images are centre-cropped instead and never flipped. With ``crop=false`` images
are resized straight to ``image_size``.

Order and resume: each domain is an endless stream of its own epoch permutations
(:class:`~gan_lightning.data.order.EpochShuffle`, seeds ``shuffle_seed`` and ``shuffle_seed + 1``); the
sample at position ``p`` of the run pairs element ``p`` of the A stream with element ``p`` of the B
stream, so the smaller domain wraps around on its own. A loader epoch is ``len(larger domain) //
batch_size`` batches. Each sample's random crop and flip come from a generator seeded by
``(shuffle_seed, domain, global position)``, never from the global RNG. A run resumed from
``state_dict`` (``shuffle_seed``, ``batches_seen``) therefore sees exactly the batches, crops and flips
of the uninterrupted run, whatever the number of loader workers. Under DDP each rank takes its
interleaved share of every domain permutation.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from torch.utils.data import Dataset

from gan_lightning.data.image_files import IMAGE_EXTENSIONS, find_images
from gan_lightning.data.image_set import ImageSet
from gan_lightning.data.image_to_image import (
    DomainImages,
    DomainSplit,
    EndlessOrder,
    ImageToImageDataModule,
    RunSamples,
    crop_flip,
)
from gan_lightning.data.order import EpochShuffle
from gan_lightning.errors import ConfigError, DatasetNotFoundError

log = logging.getLogger(__name__)

DOMAINS = ("a", "b")
LAYOUT = "DIR/trainA/, DIR/trainB/ (and optionally DIR/testA/, DIR/testB/)"


class UnpairedPairs(RunSamples):
    """The training pairs of a run: item ``p`` (this rank's position ``p`` in the run) -> ``(a, b)``.

    Each domain is the endless concatenation of its epoch permutations (this rank's share of
    :class:`EpochShuffle` with seed ``seed + domain``); position ``p`` takes element ``p`` of both, so a
    domain of ``n`` images starts a new permutation every ``n // world_size`` positions, independently of
    the other. Random crops and flips are seeded by ``(seed, domain, p * world_size + rank)``.
    """

    def __init__(self, domains: tuple[DomainSplit, DomainSplit], *jitter: Any, **options: Any) -> None:
        super().__init__(*jitter, **options)
        self.domains = domains
        self.orders = [
            EndlessOrder(EpochShuffle(len(d), self.seed + i, self.rank, self.world_size))
            for i, d in enumerate(domains)
        ]

    def __len__(self) -> int:
        """Positions in one loader epoch (the larger domain's share); items go on beyond it."""
        return max(len(order) for order in self.orders)

    def index(self, domain: int, position: int) -> int:
        """The image of ``domain`` (index into its split) at this rank's ``position``."""
        return self.orders[domain][position]

    def __getitem__(self, position: int) -> tuple[torch.Tensor, torch.Tensor]:
        images = []
        for domain, split in enumerate(self.domains):
            image = split.image(self.index(domain, position))
            rng = self.jitter_rng(position, domain)
            images.append(crop_flip(image, self.image_size, self.random_crop, self.flip, rng))
        return images[0], images[1]


class UnpairedDataModule(ImageToImageDataModule):
    """Unpaired images of two domains; training batches ``(a, b)``, each float (N, 3, S, S) in [-1, 1].

    Args:
        path: folder with ``trainA/ trainB/`` (``testA/ testB/`` optional); default ``data.root``
            when neither ``path_a`` nor ``path_b`` is given.
        path_a, path_b: instead of ``path``: one folder of images per domain (both, or neither).
        image_size: side S of the images (the crop size).
        load_size: side the images are resized to before the random crop; ``None``: S * 286 / 256.
        crop: random crop in training (centre crop at test); ``False``: resize straight to S.
        flip: random horizontal flip in training.
        test_fraction: share of a domain's files held out as its test split when it has no test
            folder (fixed files, seed 0); 0 holds out nothing (no test split).
        cache: decode every image once (at ``load_size``) into ``<cache root>/image_cache``.
        skip_broken: leave unreadable image files out with a warning instead of stopping.
    """

    name = "unpaired"
    data_kind = "two_domains"  # batches (a, b), for translation models
    domain_names = ("A", "B")
    samples_are = "images of the larger domain"

    def __init__(
        self,
        *args,
        path: str | None = None,
        path_a: str | None = None,
        path_b: str | None = None,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.folders = self._domain_folders(path, path_a, path_b)
        files = {
            domain: [
                (folder, self._domain_files(folder, f"Domain {domain.upper()}{' test' * (i == 1)}"))
                for i, folder in enumerate(folders)
                if folder is not None
            ]
            for domain, folders in zip(DOMAINS, self.folders, strict=True)
        }
        #: the class names both domains share (sorted; label k is ``domain_classes[k]``), or None
        self.domain_classes, self.unlabelled_because = shared_classes(files)
        self.domains = {split: [] for split in ("train", "test")}
        for domain, found in files.items():
            train, test = self._scan_domain(domain, found)
            self.domains["train"].append(train)
            self.domains["test"].append(test)
        if any(len(test) == 0 for test in self.domains["test"]):
            self.splits = ("train",)
        larger = max(self.domain_sizes("train"))
        if larger < self.batch_size:
            raise ConfigError(
                f"The larger domain has {larger} training images, fewer than data.batch_size="
                f"{self.batch_size}. Lower data.batch_size or add images."
            )

    # --- finding the files ---------------------------------------------------------------------

    def _domain_folders(
        self, path: str | None, path_a: str | None, path_b: str | None
    ) -> list[tuple[Path, Path | None]]:
        """(training folder, test folder or ``None``) of each domain."""
        if path_a is not None or path_b is not None:
            if path is not None:
                raise ConfigError(
                    f"Both data.path={path} and data.path_a/data.path_b are given. Give either data.path "
                    f"(a folder with {LAYOUT}) or data.path_a and data.path_b (one folder per domain), "
                    "and set the other to null."
                )
            if path_a is None or path_b is None:
                given, missing = ("path_a", "path_b") if path_b is None else ("path_b", "path_a")
                raise ConfigError(
                    f"data.{given} is given but data.{missing} is not: unpaired data needs one folder per "
                    f"domain. Set data.{missing}=DIR too, or use data.path=DIR with {LAYOUT}."
                )
            folders = []
            for key, folder in (("path_a", path_a), ("path_b", path_b)):
                folder = Path(folder).expanduser()
                if not folder.is_dir():
                    raise DatasetNotFoundError(
                        f"Domain folder '{folder.resolve()}' (data.{key}) does not exist. Point data.{key} "
                        "at a folder of images (searched recursively)."
                    )
                folders.append((folder, None))
            return folders
        root = Path(path).expanduser() if path is not None else self.root
        if not root.is_dir():
            raise DatasetNotFoundError(
                f"Unpaired data folder '{root.resolve()}' does not exist. Point data.path at a folder with "
                f"{LAYOUT} (the layout of the CycleGAN datasets, e.g. horse2zebra), or give "
                "data.path_a=DIR_A data.path_b=DIR_B (one folder of images per domain)."
            )
        folders = []
        for name in ("A", "B"):
            train = root / f"train{name}"
            if not train.is_dir():
                found = sorted(p.name for p in root.iterdir() if p.is_dir())
                raise DatasetNotFoundError(
                    f"'{root.resolve()}' has no train{name}/ folder (sub-folders found: "
                    f"{', '.join(found) or 'none'}). data=unpaired expects {LAYOUT}; for two folders "
                    "laid out otherwise give data.path_a=DIR_A data.path_b=DIR_B (and data.path=null)."
                )
            test = root / f"test{name}"
            folders.append((train, test if test.is_dir() and find_images(test) else None))
        return folders

    def _domain_files(self, folder: Path, what: str) -> list[Path]:
        paths = find_images(folder)
        if not paths:
            raise ConfigError(
                f"{what} folder '{folder.resolve()}' holds no images (searched recursively for "
                f"{', '.join(IMAGE_EXTENSIONS)}). data=unpaired needs images in both domains: data.path=DIR "
                f"with {LAYOUT}, or data.path_a=DIR_A data.path_b=DIR_B."
            )
        return paths

    def _domain_image_set(self, folder: Path, paths: list[Path]) -> ImageSet:
        labels = None
        if self.domain_classes is not None:
            index = {name: k for k, name in enumerate(self.domain_classes)}
            labels = [index[p.relative_to(folder).parts[0]] for p in paths]
        image_set = self.image_set(folder, paths, labels)
        if not len(image_set):
            raise ConfigError(f"No image in '{folder.resolve()}' can be read (data.skip_broken=true).")
        return image_set

    def _scan_domain(
        self, domain: str, files: list[tuple[Path, list[Path]]]
    ) -> tuple[DomainSplit, DomainSplit]:
        """Check the domain's files (``[(training folder, its files), (test folder, its files)]``, the
        test folder optional) now, before training, and split them."""
        (train_folder, train_paths), *test_files = files
        images = self._domain_image_set(train_folder, train_paths)
        if test_files:
            return DomainSplit(images), DomainSplit(self._domain_image_set(*test_files[0]))
        train, test = self.hold_out(len(images), f"images of domain {domain.upper()}", train_folder)
        return DomainSplit(images, train), DomainSplit(images, test)

    # --- what the rest of the project asks -----------------------------------------------------

    @property
    def source(self) -> str:
        """``folders:<A training folder>|<B training folder>``."""
        return "folders:" + "|".join(str(train.resolve()) for train, _ in self.folders)

    @property
    def stats_name(self) -> str:
        """``unpaired-<digest of both domains' files and sizes>-<S>px``."""
        parts = [split.digest() for name in ("train", "test") for split in self.domains[name]]
        key = "\0".join([*parts, f"{self.image_size}/{self.load_size}/{self.crop}"])
        return f"{self.name}-{hashlib.sha256(key.encode()).hexdigest()[:10]}-{self.image_size}px"

    def _domain_split(self, domain: str, split: str) -> DomainSplit:
        if split not in self.splits:
            raise ConfigError(
                f"Dataset '{self.name}' has no '{split}' split; it has: {', '.join(self.splits)}."
            )
        if domain.lower() not in DOMAINS:
            raise ValueError(f"domain must be 'a' or 'b', got {domain!r}")
        return self.domains[split][DOMAINS.index(domain.lower())]

    def domain_images(self, domain: str, split: str = "test") -> Dataset:
        """One domain's split as single images float (3, S, S) in [-1, 1]: centre crop, no flip."""
        return DomainImages(self._domain_split(domain, split), self.image_size)

    def grid_inputs(self, n: int, rng: torch.Generator | None = None) -> dict[str, Tensor]:
        """``{"a": (n, 3, S, S), "b": (n, 3, S, S)}``: n test images of each domain (fewer if a domain
        has fewer), chosen with ``rng``: the fixed inputs of a translation model's sample grid."""
        inputs = {}
        for domain in DOMAINS:
            images = self.domain_images(domain, "test")
            chosen = torch.randperm(len(images), generator=rng)[: min(n, len(images))]
            inputs[domain] = torch.stack([images[int(i)] for i in chosen])
        return inputs

    def domain_labels(self, domain: str, split: str = "test") -> Tensor | None:
        """The class of each image of :meth:`domain_images` (long (N,), into :attr:`domain_classes`),
        or None when the domains are unlabelled."""
        labels = self._domain_split(domain, split).labels
        return None if labels is None else torch.tensor(labels, dtype=torch.long)

    def domain_paths(self, domain: str, split: str = "test") -> list[Path]:
        """The files of :meth:`domain_images`, in its order."""
        return self._domain_split(domain, split).paths

    def domain_sizes(self, split: str = "train") -> tuple[int, int]:
        """Number of images of A and B in ``split``."""
        a, b = self.domains[split]
        return len(a), len(b)

    def target_split(self, split: str) -> DomainSplit:
        """Domain B's images: what translations A -> B are compared with by the generic metrics
        (:meth:`domain_images` gives either domain)."""
        return self._domain_split("b", split)

    # --- training ------------------------------------------------------------------------------

    def train_samples(self, rank: int = 0, world_size: int = 1) -> UnpairedPairs:
        """The run's training pairs ``(a, b)`` as seen by ``rank`` of ``world_size``."""
        if self.shuffle_seed is None:
            self.setup("fit")
        for name, split in zip(self.domain_names, self.domains["train"], strict=True):
            if len(split) < world_size:
                raise ConfigError(
                    f"Domain {name} ('{split.folder}') has {len(split)} training images, fewer than the "
                    f"{world_size} processes. Add images or use fewer devices."
                )
        return UnpairedPairs(
            tuple(self.domains["train"]), self.image_size, self.crop, self.flip, self.shuffle_seed,
            rank, world_size,
        )  # fmt: skip


def shared_classes(files: dict[str, list[tuple[Path, list[Path]]]]) -> tuple[list[str] | None, str]:
    """The class names of two labelled domains, or ``(None, why they are unlabelled)``.

    ``files`` maps each domain to its folders and their image files (``[(trainA/, [...]), (testA/,
    [...])]``). The domains are labelled when every file lies in a first-level sub-folder of its folder
    (the class), there are two classes at least, and both domains have the same class names (over their
    training and test folders); label k is the k-th name in sorted order, the same on both sides. Class
    folders whose names differ between the domains are unlabelled with a warning (a likely mistake).
    """
    names: dict[str, set[str]] = {}
    for domain, folders in files.items():
        for folder, paths in folders:
            loose = next((p for p in paths if len(p.relative_to(folder).parts) < 2), None)
            if loose is not None:
                return None, (
                    f"'{loose}' is not in a class sub-folder of '{folder}' (labelled domains keep every "
                    "image in <domain folder>/<class>/)"
                )
        names[domain] = {p.relative_to(folder).parts[0] for folder, paths in folders for p in paths}
    a, b = names["a"], names["b"]
    if a != b:
        why = (
            f"the class sub-folders of the domains differ (only in A: {', '.join(sorted(a - b)) or '-'}; "
            f"only in B: {', '.join(sorted(b - a)) or '-'})"
        )
        log.warning("Unpaired data: %s; the domains are read as unlabelled (no content preservation).", why)
        return None, why
    if len(a) < 2:
        return None, f"all images are in one sub-folder ('{next(iter(a))}'), not in classes"
    return sorted(a), ""
