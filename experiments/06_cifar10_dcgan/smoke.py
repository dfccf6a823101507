"""Smoke run of ``experiment=cifar10_dcgan`` on a synthetic CIFAR-10 (no real CIFAR-10 needed).

    python experiments/06_cifar10_dcgan/smoke.py                  # 50 generator steps, no metrics
    python experiments/06_cifar10_dcgan/smoke.py --root /tmp/fake_cifar trainer.max_steps=20 ...

Writes a few hundred random "blob" images (the label decides the blob's colour and position) in
torchvision's on-disk CIFAR-10 format (``cifar-10-batches-py/``: five ``data_batch_N`` pickles,
``test_batch``, ``batches.meta``) and trains on them through the normal training command. It shows
that the pipeline runs at 3x32x32; the images are not CIFAR-10 and no quality number is claimed.

torchvision checks the MD5 sum of every CIFAR-10 file, which made-up files cannot match, so the
training runs in this process with that check replaced by "the file exists" (:func:`accept_any_cifar`).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pickle
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import numpy as np

FOLDER = "cifar-10-batches-py"
LABEL_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
SMOKE_OVERRIDES = [
    "experiment=cifar10_dcgan",
    "trainer.max_steps=50",
    # metrics=none alone leaves the experiment's metrics.* keys behind (a node without _target_):
    # delete them too, so that no metrics callback is built.
    "metrics=none",
    "~metrics.extractor",
    "~metrics.metrics",
    "~metrics.every_n_steps",
    "trainer.enable_progress_bar=false",
    "~callbacks.progress_bar",
]


def _images(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """uint8 images, N x 3 x 32 x 32: dim noise plus an 8x8 blob whose colour and place code the label."""
    images = (rng.random((len(labels), 3, 32, 32)) * 60).astype(np.uint8)
    for i, label in enumerate(labels):
        colour = np.array([(label * 97) % 256, (label * 53 + 80) % 256, (label * 29 + 160) % 256], np.uint8)
        r, c = 2 + 2 * label, 4 + 2 * label
        images[i, :, r : r + 8, c : c + 8] = colour[:, None, None]
    return images


def write_synthetic_cifar(root: Path | str, n_train: int = 500, n_test: int = 100, seed: int = 0) -> Path:
    """Write a synthetic CIFAR-10 under ``root/cifar-10-batches-py`` (torchvision's layout); return root.

    ``n_train`` images are split over the five training batches, ``n_test`` go to ``test_batch``.
    """
    root = Path(root)
    folder = root / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    per_batch = [len(part) for part in np.array_split(np.arange(n_train), 5)]
    files = [(f"data_batch_{i + 1}", n, f"training batch {i + 1} of 5") for i, n in enumerate(per_batch)]
    files.append(("test_batch", n_test, "testing batch 1 of 1"))
    for name, n, batch_label in files:
        labels = np.arange(n) % 10
        entry = {
            "batch_label": batch_label,
            "labels": labels.tolist(),
            "data": _images(labels, rng).reshape(n, 3 * 32 * 32),  # rows: R plane, G plane, B plane
            "filenames": [f"synthetic_{name}_{i:05d}.png" for i in range(n)],
        }
        with open(folder / name, "wb") as f:
            pickle.dump(entry, f)
    meta = {"num_cases_per_batch": max(per_batch), "label_names": LABEL_NAMES, "num_vis": 3 * 32 * 32}
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump(meta, f)
    return root


@contextlib.contextmanager
def accept_any_cifar() -> Iterator[None]:
    """Within the block, torchvision accepts CIFAR-10 files that exist, whatever their MD5 sum."""
    with mock.patch(
        "torchvision.datasets.cifar.check_integrity", lambda path, md5=None: os.path.isfile(path)
    ):
        yield


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", help="where to write the synthetic dataset (default: a temporary folder)")
    parser.add_argument("overrides", nargs="*", help="more Hydra overrides (e.g. hydra.run.dir=...)")
    args = parser.parse_args(argv)
    root = Path(args.root or tempfile.mkdtemp(prefix="synthetic_cifar_"))
    write_synthetic_cifar(root)
    print(f"Synthetic CIFAR-10 (500 train, 100 test images) written to {root / FOLDER}", flush=True)

    from gan_lightning.train import main as train_main

    sys.argv = ["gan_lightning", *SMOKE_OVERRIDES, f"data.root={root}", *args.overrides]
    with accept_any_cifar():
        train_main()


if __name__ == "__main__":
    main()
