"""Build a labelled two-domain pair from MNIST (or Fashion-MNIST) for content preservation.

    python experiments/17_content_preservation/make_pair.py OUT [--dataset mnist] [--train-per-class 200]

Both domains hold the same ten classes, from disjoint halves of the dataset (no image, and no digit
drawing, is in both domains):

- A: the digits as they are, white strokes on black;
- B: other digits of the same classes restyled: strokes thickened (a 3x3 dilation), drawn in dark blue
  on a cream background (dark on light, coloured).

A translation A -> B must change polarity, colour and stroke width and keep the digit; a generator that
draws any convincing B digit scores well on domain accuracy and FID but not on content preservation
(``val/content_acc_a2b``). Written as ``OUT/{trainA,trainB,testA,testB}/<class>/NNNNN.png`` (RGB,
32x32: the 28 px digits padded by 2 px), ``--train-per-class`` and ``--test-per-class`` images per class
and domain (default 200 and 50: 2,000 training and 500 test images per domain). The raw files are read
with torchvision (``download=False``) from ``--root``, default ``$GAN_DATA_DIR`` or ``../shared/datasets``.
Then, e.g.:

    python -m gan_lightning model=cyclegan data=unpaired data.path=OUT data.image_size=32
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torchvision import datasets

DATASETS = {"mnist": datasets.MNIST, "fashion_mnist": datasets.FashionMNIST}
INK = np.array([20, 40, 120], dtype=np.float32)  # B's strokes: dark blue
PAPER = np.array([245, 235, 200], dtype=np.float32)  # B's background: cream


def pick(labels: torch.Tensor, half: int, per_class: int) -> list[int]:
    """Indices of ``per_class`` images of each class from one half (0: even positions, 1: odd) of the
    split, the first ones in the dataset's order: the two halves never share an image."""
    chosen = []
    for label in range(int(labels.max()) + 1):
        found = torch.nonzero(labels == label).flatten()
        found = found[half::2][:per_class]
        if len(found) < per_class:
            raise SystemExit(f"class {label} has only {len(found)} images in half {half}; lower the counts")
        chosen += found.tolist()
    return chosen


def style_a(digits: torch.Tensor) -> np.ndarray:
    """uint8 (N, 28, 28) -> (N, 32, 32, 3): white on black, padded."""
    padded = F.pad(digits, (2, 2, 2, 2))
    return padded[..., None].expand(-1, -1, -1, 3).numpy().astype(np.uint8)


def style_b(digits: torch.Tensor) -> np.ndarray:
    """uint8 (N, 28, 28) -> (N, 32, 32, 3): strokes dilated 3x3, dark blue ink on cream paper, padded."""
    ink = F.max_pool2d(digits.float()[:, None] / 255, 3, stride=1, padding=1)[:, 0]
    ink = F.pad(ink, (2, 2, 2, 2)).numpy()[..., None]
    return (ink * INK + (1 - ink) * PAPER).round().astype(np.uint8)


def write(images: np.ndarray, labels: torch.Tensor, folder: Path, names: list[str]) -> None:
    for k, (image, label) in enumerate(zip(images, labels.tolist(), strict=True)):
        target = folder / names[label]
        target.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(target / f"{k:05d}.png")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="the folder to write trainA/ trainB/ testA/ testB/ into")
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="mnist")
    parser.add_argument("--root", type=Path, help="the folder holding MNIST/raw (or FashionMNIST/raw)")
    parser.add_argument("--train-per-class", type=int, default=200)
    parser.add_argument("--test-per-class", type=int, default=50)
    parser.add_argument("--overwrite", action="store_true", help="write into an OUT that has the folders")
    args = parser.parse_args(argv)
    root = args.root or Path(os.environ.get("GAN_DATA_DIR") or "../shared/datasets")
    existing = [p for p in ("trainA", "trainB", "testA", "testB") if (args.out / p).exists()]
    if existing and not args.overwrite:
        parser.error(f"{args.out} already has {', '.join(existing)}: choose another OUT or pass --overwrite")
    splits = (("train", True, args.train_per_class), ("test", False, args.test_per_class))
    for split, train, per_class in splits:
        try:
            data = DATASETS[args.dataset](str(root), train=train, download=False)
        except RuntimeError as err:
            parser.error(f"cannot read {args.dataset} under {root} ({err}); give --root or set GAN_DATA_DIR")
        names = [str(k) for k in range(len(data.classes))] if args.dataset == "mnist" else data.classes
        names = [n.replace("/", "-") for n in names]  # Fashion-MNIST's "T-shirt/top"
        for domain, half, style in (("A", 0, style_a), ("B", 1, style_b)):
            index = pick(data.targets, half, per_class)
            write(style(data.data[index]), data.targets[index], args.out / f"{split}{domain}", names)
    total = 2 * 10 * (args.train_per_class + args.test_per_class)
    print(f"{args.out}: {total} images ({args.dataset}; per domain {10 * args.train_per_class} train, "
          f"{10 * args.test_per_class} test)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
