"""Paired images (pix2pix): batches ``(source, target)`` of aligned images, the same scene twice.

Where the pairs come from (``data=paired``):

- ``data.path=DIR`` holding ``A/`` (sources) and ``B/`` (targets), or ``trainA/`` and ``trainB/``, and
  optionally ``testA/`` and ``testB/``. Files are paired by their path below the folder without the
  extension: ``A/0001.png`` pairs ``B/0001.jpg`` (and ``A/x/7.png`` pairs ``B/x/7.png``; folders are
  searched recursively). Every file needs its partner and both images of a pair must have the same
  size (checked from the file headers), so that they are resized, cropped and flipped alike. Sources
  and targets are read as RGB: batches are (N, 3, S, S) on both sides.
- ``data.derive=edges`` or ``data.derive=grayscale`` with ``data.path=DIR`` of any images (searched
  recursively, as ``data=image_folder``): the image is the target and the source is derived from it by
  :func:`~gan_lightning.data.derive.derive_source` (one channel: the luma, or an edge map of dark lines
  on white; definitions in :mod:`gan_lightning.data.derive`). Sources are (N, 1, S, S).

Without test folders ``data.test_fraction`` (default 10%) of the pairs is held out as the test split,
fixed files (a permutation with seed 0, as ``data=unpaired``): the split never depends on the run's
seed. Unreadable files stop the run at construction, before any training, unless
``data.skip_broken=true``, which leaves out every pair with an unreadable side.

Random jitter (pix2pix): in training both images of a pair are resized (shorter side) and
centre-cropped to ``load_size`` (default ``image_size * 286 / 256``), then cropped at the SAME random
place to ``image_size`` and flipped horizontally (probability 1/2) or not, both alike. Test pairs are
centre-cropped and never flipped. ``crop=false`` resizes straight to ``image_size``. A derived source
is computed from the final target, after the crop and flip (a crop of the resized image, as
``translate`` derives from its centre-cropped input), so ``source == derive_source(target)`` holds
for every pair, in training and test.

Order and resume, as ``data=unpaired``: the pairs are one endless stream of epoch permutations
(:class:`~gan_lightning.data.order.EpochShuffle`, seed ``shuffle_seed``); the crop and flip of the
sample at position ``p`` of the run come from a generator seeded by ``(shuffle_seed, p)``, never from
the global RNG. A run resumed from ``state_dict`` (``shuffle_seed``, ``batches_seen``) sees exactly the
batches, crops and flips of the uninterrupted run, whatever the number of loader workers. Under DDP
each rank takes its interleaved share of every permutation.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from PIL import Image
from torch import Tensor
from torch.utils.data import Dataset

from gan_lightning.data.derive import DERIVE_KINDS, check_kind, derive_source
from gan_lightning.data.image_files import IMAGE_EXTENSIONS, find_images
from gan_lightning.data.image_set import ImageSet
from gan_lightning.data.image_to_image import (
    DomainSplit,
    EndlessOrder,
    ImageToImageDataModule,
    RunSamples,
    crop_flip,
)
from gan_lightning.data.order import EpochShuffle
from gan_lightning.errors import ConfigError, DatasetNotFoundError

__all__ = ["DERIVE_KINDS", "PairedDataModule", "derive_source", "match_pairs"]

log = logging.getLogger(__name__)

LAYOUT = "DIR/A/ and DIR/B/ (or DIR/trainA/ and DIR/trainB/), optionally DIR/testA/ and DIR/testB/"
DERIVE_HINT = "or data.derive=edges / data.derive=grayscale with data.path=DIR of any images"
SHOWN = 5  # file names shown in an error message


def pair_key(path: Path, folder: Path) -> str:
    """What pairs a file with its partner: its path below ``folder`` without the extension."""
    return path.relative_to(folder).with_suffix("").as_posix()


def _listed(names: Sequence[str]) -> str:
    shown = ", ".join(names[:SHOWN])
    return shown + (f", ... ({len(names) - SHOWN} more)" if len(names) > SHOWN else "")


def match_pairs(
    paths_a: list[Path], folder_a: Path, paths_b: list[Path], folder_b: Path
) -> list[tuple[Path, Path]]:
    """``(A file, B file)`` with the same :func:`pair_key`, sorted by key.

    Raises:
        ConfigError: two files of one folder share a key (``0001.png`` and ``0001.jpg``), or some file
            has no partner (the message counts them on each side and names a few).
    """
    keyed = []
    for paths, folder in ((paths_a, folder_a), (paths_b, folder_b)):
        by_key: dict[str, Path] = {}
        for path in paths:
            key = pair_key(path, folder)
            if key in by_key:
                raise ConfigError(
                    f"'{folder.resolve()}' holds two files named {key}: {by_key[key].name} and {path.name}. "
                    "Sources and targets are paired by file name without extension: keep one of them."
                )
            by_key[key] = path
        keyed.append(by_key)
    a, b = keyed
    only_a, only_b = sorted(a.keys() - b.keys()), sorted(b.keys() - a.keys())
    if only_a or only_b:
        sides = [
            f"{len(only)} of the {len(files)} files in {here.name}/ have no partner in {there.name}/ "
            f"({_listed(only)})"
            for only, files, here, there in ((only_a, a, folder_a, folder_b), (only_b, b, folder_b, folder_a))
            if only
        ]
        raise ConfigError(
            f"The source and target files of '{folder_a.parent.resolve()}' do not match: "
            + "; ".join(sides)
            + f". Pairs are matched by file name without extension ({folder_a.name}/0001.png pairs "
            f"{folder_b.name}/0001.jpg): rename or remove the unmatched files. (Two sets of images that "
            "are not pairs, such as horse2zebra, are data=unpaired.)"
        )
    return [(a[key], b[key]) for key in sorted(a)]


def image_size_of(path: Path) -> tuple[int, int]:
    """(width, height) from the file's header, without decoding the pixels."""
    with Image.open(path) as img:
        return img.size


def check_pair_sizes(pairs: Sequence[tuple[Path, Path]], folder_a: Path, folder_b: Path) -> None:
    """ConfigError naming the first pair whose images differ in size (and how many do)."""
    different = []
    for path_a, path_b in pairs:
        size_a, size_b = image_size_of(path_a), image_size_of(path_b)
        if size_a != size_b:
            different.append((path_a, path_b, size_a, size_b))
    if not different:
        return
    path_a, path_b, (wa, ha), (wb, hb) = different[0]
    raise ConfigError(
        f"{len(different)} of the {len(pairs)} pairs have images of different sizes; the first: "
        f"{folder_a.name}/{path_a.relative_to(folder_a).as_posix()} is {wa}x{ha} but "
        f"{folder_b.name}/{path_b.relative_to(folder_b).as_posix()} is {wb}x{hb} (width x height). "
        "Both images of a pair must be the same size so that they are resized, cropped and flipped alike: "
        "resize one side to match the other."
    )


class PairSplit:
    """The pairs of one split: items ``indices`` of aligned image sets (``sources[i]`` pairs
    ``targets[i]``), or of ``targets`` only when the sources are derived (``derive``)."""

    def __init__(
        self,
        targets: ImageSet,
        sources: ImageSet | None,
        derive: str | None,
        indices: list[int] | None = None,
    ) -> None:
        self.targets, self.sources, self.derive = targets, sources, derive
        self.indices = list(range(len(targets))) if indices is None else indices

    def __len__(self) -> int:
        return len(self.indices)

    @property
    def paths(self) -> list[tuple[Path | None, Path]]:
        """``(source file or None when derived, target file)`` of every pair, in order."""
        sources = self.sources.paths if self.sources is not None else [None] * len(self.targets)
        return [(sources[i], self.targets.paths[i]) for i in self.indices]

    def digest(self) -> str:
        parts = [self.targets.digest(), self.sources.digest() if self.sources else f"derive={self.derive}"]
        return hashlib.sha256("\0".join([*parts, str(self.indices)]).encode()).hexdigest()

    def pair(
        self, index: int, size: int, random_crop: bool, flip: bool, generator: torch.Generator | None
    ) -> tuple[Tensor, Tensor]:
        """Pair ``index`` of the split cropped (at one place) and flipped (or not) alike."""
        i = self.indices[index]
        target = self.targets.dataset()[i][0]
        if self.sources is None:
            target = crop_flip(target, size, random_crop, flip, generator)
            return derive_source(target.unsqueeze(0), self.derive)[0], target
        source = self.sources.dataset()[i][0]
        both = crop_flip(torch.cat([source, target]), size, random_crop, flip, generator)
        return both[: len(source)], both[len(source) :]


class PairImages(Dataset):
    """One split's pairs: item -> ``(source, target)``, float in [-1, 1], centre crop, no flip."""

    def __init__(self, split: PairSplit, image_size: int) -> None:
        self.split, self.image_size = split, image_size

    def __len__(self) -> int:
        return len(self.split)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        return self.split.pair(index, self.image_size, False, False, None)


class PairedTrain(RunSamples):
    """The training pairs of a run: item ``p`` (this rank's position ``p``) -> ``(source, target)``.

    The pairs are the endless concatenation of their epoch permutations (this rank's share of
    :class:`EpochShuffle` with seed ``seed``); the crop and flip of position ``p`` are seeded by
    ``(seed, p * world_size + rank)``.
    """

    def __init__(self, split: PairSplit, *jitter: Any, **options: Any) -> None:
        super().__init__(*jitter, **options)
        self.split = split
        self.order = EndlessOrder(EpochShuffle(len(split), self.seed, self.rank, self.world_size))

    def __len__(self) -> int:
        """Positions in one loader epoch (this rank's share of the pairs); items go on beyond it."""
        return len(self.order)

    def index(self, position: int) -> int:
        """The pair (index into the split) at this rank's ``position``."""
        return self.order[position]

    def __getitem__(self, position: int) -> tuple[Tensor, Tensor]:
        rng = self.jitter_rng(position)
        return self.split.pair(self.index(position), self.image_size, self.random_crop, self.flip, rng)


class PairedDataModule(ImageToImageDataModule):
    """Aligned (source, target) image pairs; training batches ``(source, target)``, float (N, C_a, S, S)
    and (N, C_b, S, S) in [-1, 1] (C_b = 3; C_a = 3 for pairs read from folders, 1 when derived).

    Args:
        path: folder with ``A/ B/`` or ``trainA/ trainB/`` (``testA/ testB/`` optional), or with
            ``derive``: any folder of images (searched recursively); default ``data.root``.
        derive: ``None`` (pairs read from A/ and B/), ``edges`` or ``grayscale``: the sources are
            derived from the images (see :mod:`gan_lightning.data.derive`).
        image_size: side S of the images (the crop size).
        load_size: side the images are resized to before the random crop; ``None``: S * 286 / 256.
        crop: random crop in training (centre crop at test); ``False``: resize straight to S.
        flip: random horizontal flip in training (both images of a pair alike).
        test_fraction: share of the pairs held out as the test split when there are no test folders
            (fixed files, seed 0); 0 holds out nothing (no test split).
        cache: decode every image once (at ``load_size``) into ``<cache root>/image_cache``.
        skip_broken: leave pairs with an unreadable file out (with a warning) instead of stopping.

    Attributes:
        derive: the derivation of the sources, or ``None``.
        data_shape: one target (3, S, S); source_shape: one source (C_a, S, S).
        folder: the data folder; pair_folders: (source folder or ``None`` when derived, target folder)
            of the training split.
    """

    name = "paired"
    data_kind = "paired"  # batches (source, target), for paired translation models (pix2pix)
    samples_are = "training pairs"

    def __init__(self, *args, path: str | None = None, derive: str | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.derive = check_kind(derive) if derive is not None else None
        self.source_shape = (1 if self.derive else 3, self.image_size, self.image_size)
        self.folder = Path(path).expanduser() if path is not None else self.root
        self.pairs: dict[str, PairSplit] = {}
        if self.derive is not None:
            self._scan_derived()
        else:
            self._scan_folders()
        if not len(self.pairs["test"]):
            self.splits = ("train",)
        if len(self.pairs["train"]) < self.batch_size:
            raise ConfigError(
                f"There are {len(self.pairs['train'])} training pairs, fewer than data.batch_size="
                f"{self.batch_size}. Lower data.batch_size or add pairs."
            )

    # --- finding the files ---------------------------------------------------------------------

    def _missing(self, what: str) -> DatasetNotFoundError:
        return DatasetNotFoundError(
            f"{what} '{self.folder.resolve()}' does not exist. Point data.path at a folder with {LAYOUT} "
            f"(sources in A, targets in B, paired by file name), {DERIVE_HINT} (searched recursively)."
        )

    def _scan_derived(self) -> None:
        """Any folder of images: the targets; the sources are derived from them."""
        if not self.folder.is_dir():
            raise self._missing("Image folder")
        layout = [name for name in ("A", "B", "trainA", "trainB") if (self.folder / name).is_dir()]
        if layout:
            raise ConfigError(
                f"data.derive={self.derive} derives the sources from images, but '{self.folder.resolve()}' "
                f"holds {' and '.join(f'{name}/' for name in layout)}, the layout of ready-made pairs. For "
                "those set data.derive=null; to derive from images, point data.path at a folder of images."
            )
        paths = find_images(self.folder)
        if not paths:
            raise ConfigError(
                f"Image folder '{self.folder.resolve()}' holds no images (searched recursively for "
                f"{', '.join(IMAGE_EXTENSIONS)}). data.derive={self.derive} needs a folder of images."
            )
        targets = self.image_set(self.folder, paths)
        if not len(targets):
            raise ConfigError(f"No image in '{self.folder.resolve()}' can be read (data.skip_broken=true).")
        self.pair_folders = (None, self.folder)
        train, test = self.hold_out(len(targets), "pairs", self.folder)
        self.pairs = {
            "train": PairSplit(targets, None, self.derive, train),
            "test": PairSplit(targets, None, self.derive, test),
        }

    def _layout(self) -> tuple[Path, Path]:
        """The training folders (A, B) of ``data.path``."""
        if not self.folder.is_dir():
            raise self._missing("Paired data folder")
        found = sorted(p.name for p in self.folder.iterdir() if p.is_dir())
        for names in (("A", "B"), ("trainA", "trainB")):
            present = [name for name in names if name in found]
            if len(present) == 2:
                return self.folder / names[0], self.folder / names[1]
            if present:
                (have,), (lack,) = present, set(names) - set(present)
                raise DatasetNotFoundError(
                    f"'{self.folder.resolve()}' has {have}/ but no {lack}/ folder: paired data needs the "
                    f"sources in {names[0]}/ and the targets in {names[1]}/ ({LAYOUT})."
                )
        raise DatasetNotFoundError(
            f"'{self.folder.resolve()}' has no A/ and B/ folders (sub-folders found: "
            f"{', '.join(found) or 'none'}). data=paired expects {LAYOUT}, files paired by name; "
            f"{DERIVE_HINT}."
        )

    def _paired_sets(self, folder_a: Path, folder_b: Path) -> tuple[ImageSet, ImageSet]:
        """(sources, targets): the matched, readable, same-size pairs of two folders, aligned."""
        found = []
        for folder, what in ((folder_a, "Source"), (folder_b, "Target")):
            paths = find_images(folder)
            if not paths:
                raise ConfigError(
                    f"{what} folder '{folder.resolve()}' holds no images (searched recursively for "
                    f"{', '.join(IMAGE_EXTENSIONS)}). data=paired needs {LAYOUT}, files paired by name."
                )
            found.append(paths)
        pairs = match_pairs(found[0], folder_a, found[1], folder_b)
        sources = self.image_set(folder_a, [a for a, _ in pairs])  # unreadable files: named, or left out
        targets = self.image_set(folder_b, [b for _, b in pairs])
        if len(sources) < len(pairs) or len(targets) < len(pairs):  # data.skip_broken left files out
            readable = set(sources.paths), set(targets.paths)
            kept = [(a, b) for a, b in pairs if a in readable[0] and b in readable[1]]
            log.warning(
                "%d of the %d pairs of %s and %s left out: a side cannot be read (data.skip_broken=true)",
                len(pairs) - len(kept), len(pairs), folder_a, folder_b,
            )  # fmt: skip
            if not kept:
                raise ConfigError(
                    f"No pair of '{folder_a.resolve()}' and '{folder_b.resolve()}' can be read "
                    "(data.skip_broken=true)."
                )
            pairs = kept
            if len(sources) > len(pairs):
                sources = self.image_set(folder_a, [a for a, _ in pairs])
            if len(targets) > len(pairs):
                targets = self.image_set(folder_b, [b for _, b in pairs])
        check_pair_sizes(pairs, folder_a, folder_b)
        return sources, targets

    def _scan_folders(self) -> None:
        """Pairs read from A/ and B/ (or trainA/ and trainB/), with testA/ testB/ when present."""
        train_a, train_b = self._layout()
        tests = [self.folder / "testA", self.folder / "testB"]
        with_images = [folder.is_dir() and bool(find_images(folder)) for folder in tests]
        if with_images[0] != with_images[1]:
            have, lack = ("testA", "testB") if with_images[0] else ("testB", "testA")
            raise ConfigError(
                f"'{self.folder.resolve()}' has test images in {have}/ but none in {lack}/: test pairs need "
                f"both. Add {lack}/ (paired with {have}/ by file name), or remove {have}/ to hold out "
                "data.test_fraction of the training pairs instead."
            )
        sources, targets = self._paired_sets(train_a, train_b)
        self.pair_folders = (train_a, train_b)
        if all(with_images):
            test_sources, test_targets = self._paired_sets(*tests)
            self.pairs = {
                "train": PairSplit(targets, sources, None),
                "test": PairSplit(test_targets, test_sources, None),
            }
            return
        train, test = self.hold_out(len(targets), "pairs", train_b.parent)
        self.pairs = {
            "train": PairSplit(targets, sources, None, train),
            "test": PairSplit(targets, sources, None, test),
        }

    # --- what the rest of the project asks -----------------------------------------------------

    @property
    def source(self) -> str:
        """``folders:<source folder>|<target folder>``, or ``folder:<path>|derive=<kind>``."""
        source_folder, target_folder = self.pair_folders
        if source_folder is None:
            return f"folder:{target_folder.resolve()}|derive={self.derive}"
        return f"folders:{source_folder.resolve()}|{target_folder.resolve()}"

    @property
    def stats_name(self) -> str:
        """``paired-<digest of the pairs' files and sizes, and the derivation>-<S>px``."""
        parts = [self.pairs[split].digest() for split in ("train", "test")]
        key = "\0".join([*parts, f"{self.image_size}/{self.load_size}/{self.crop}/{self.derive}"])
        return f"{self.name}-{hashlib.sha256(key.encode()).hexdigest()[:10]}-{self.image_size}px"

    def _split(self, split: str) -> PairSplit:
        if split not in self.splits:
            raise ConfigError(
                f"Dataset '{self.name}' has no '{split}' split; it has: {', '.join(self.splits)}."
            )
        return self.pairs[split]

    def num_pairs(self, split: str = "train") -> int:
        """Number of pairs in ``split``."""
        return len(self._split(split))

    def pair_images(self, split: str = "test") -> Dataset:
        """The split's pairs, item -> ``(source (C_a, S, S), target (3, S, S))``: centre crop, no flip."""
        return PairImages(self._split(split), self.image_size)

    def pair_paths(self, split: str = "test") -> list[tuple[Path | None, Path]]:
        """The files of :meth:`pair_images`, in its order: ``(source or None when derived, target)``."""
        return self._split(split).paths

    def grid_inputs(self, n: int, rng: torch.Generator | None = None) -> dict[str, Tensor]:
        """``{"source": (n, C_a, S, S), "target": (n, 3, S, S)}``: n test pairs (fewer if there are fewer;
        training pairs when there is no test split), chosen with ``rng``: a sample grid's fixed inputs."""
        pairs = self.pair_images("test" if "test" in self.splits else "train")
        chosen = torch.randperm(len(pairs), generator=rng)[: min(n, len(pairs))]
        sources, targets = zip(*(pairs[int(i)] for i in chosen), strict=True)
        return {"source": torch.stack(sources), "target": torch.stack(targets)}

    def target_split(self, split: str) -> DomainSplit:
        """The targets of ``split`` (:meth:`pair_images` gives the pairs)."""
        pairs = self._split(split)
        return DomainSplit(pairs.targets, pairs.indices)

    # --- training ------------------------------------------------------------------------------

    def train_samples(self, rank: int = 0, world_size: int = 1) -> PairedTrain:
        """The run's training pairs ``(source, target)`` as seen by ``rank`` of ``world_size``."""
        if self.shuffle_seed is None:
            self.setup("fit")
        split = self.pairs["train"]
        if len(split) < world_size:
            raise ConfigError(
                f"There are {len(split)} training pairs, fewer than the {world_size} processes. Add pairs "
                "or use fewer devices."
            )
        return PairedTrain(split, self.image_size, self.crop, self.flip, self.shuffle_seed, rank, world_size)
