"""Sanity check of the offline feature spaces: do the metrics move the right way on corrupted real data?

    python benchmarks/feature_sanity.py --folder ../shared/datasets/anime-faces --image-size 64 \\
        [--n 2000] [--epochs E] [--root DIR]
    GAN_DATA_DIR=../shared/datasets GAN_CACHE_DIR=/tmp/gan_cache \\
        python benchmarks/feature_sanity.py --data mnist [--n 2000]

``--folder``: the rotation net's feature space (unlabelled images), trained on the folder
(:mod:`gan_lightning.metrics.rotation_net`) or loaded from ``<cache root>/feature_nets``.
``--data mnist`` (or ``fashion_mnist``): the dataset classifier's (``<cache root>/classifiers``, trained
on first use, about 75 s for MNIST on 2 CPU cores); images from its train split.

Prints FID, KID, precision, recall (k = 3), density, coverage (k = 5) and, with a classifier, the
Inception Score of its predictions (``is_classifier``), between half A of the real images (n, fixed
permutation, seed 0) and:

- half B (the next n images): the floor, two samples of the same distribution;
- half B blurred (``gaussian_blur``, sigma 0.5, 1, 2; kernel 2*ceil(3 sigma)+1);
- half B with additive Gaussian noise (std 0.05, 0.1, 0.2, 0.4 in [-1, 1] units, clamped to [-1, 1]);
- labelled data only, mode collapse: n images (after the halves in the permutation) of classes 0-4
  only, and of class 1 only.

A useful feature space puts the halves close and the corrupted copies far, farther with the strength:
FID / KID up; precision (fidelity) and density down with blur and noise; recall and coverage (diversity)
down with mode collapse, while precision stays high (collapsed samples are still real images); the
classifier's IS down with collapse (to about 1 for one class).
Set ``GAN_CACHE_DIR`` when the data is read-only (decoded images and the nets are cached there).
"""

from __future__ import annotations

import argparse
import math
import os
import time

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, Subset
from torchvision.transforms.functional import gaussian_blur

from gan_lightning.data import FashionMNISTDataModule, ImageFolderDataModule, MNISTDataModule
from gan_lightning.metrics.classifier_net import classifier_path
from gan_lightning.metrics.classifier_training import fit_classifier
from gan_lightning.metrics.evaluator import SampleEvaluator
from gan_lightning.metrics.extractors import build_extractor
from gan_lightning.metrics.real_stats import extract_features
from gan_lightning.metrics.rotation_net import load_or_train_rotation_features, rotation_features_path

BLUR_SIGMAS = (0.5, 1.0, 2.0)
NOISE_STDS = (0.05, 0.1, 0.2, 0.4)
LABELLED = {"mnist": MNISTDataModule, "fashion_mnist": FashionMNISTDataModule}
# Mode collapse: (row name, the classes the "samples" keep).
COLLAPSES = (("classes 0-4", [0, 1, 2, 3, 4]), ("class 1 only", [1]))


def blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """(N, C, S, S) -> the same images blurred with a Gaussian of std ``sigma`` px."""
    kernel = 2 * math.ceil(3 * sigma) + 1
    return gaussian_blur(images, kernel_size=[kernel, kernel], sigma=[sigma, sigma])


def noise(images: torch.Tensor, std: float, seed: int = 0) -> torch.Tensor:
    """(N, C, S, S) in [-1, 1] -> plus N(0, std^2) per pixel (fixed seed), clamped to [-1, 1]."""
    generator = torch.Generator().manual_seed(seed)
    return (images + std * torch.randn(images.shape, generator=generator)).clamp(-1, 1)


def stack(dataset: Dataset) -> torch.Tensor:
    return torch.cat([images for images, _ in DataLoader(dataset, batch_size=500)])


def rotation_space(args: argparse.Namespace) -> tuple[nn.Module, Dataset, torch.Tensor | None, str]:
    """The rotation net of an image folder, its images (no labels) and a description."""
    datamodule = ImageFolderDataModule(
        root=args.root or args.folder, path=args.folder, image_size=args.image_size, cache=True
    )
    dataset = datamodule.load_split("train")
    path = rotation_features_path(datamodule.root, datamodule.stats_name)
    start = time.perf_counter()
    extractor, meta = load_or_train_rotation_features(
        dataset, datamodule.data_shape, path, datamodule.stats_name, epochs=args.epochs, progress=False
    )
    seconds = time.perf_counter() - start
    threads = torch.get_num_threads()
    how = f"trained in {seconds:.0f} s ({threads} threads)" if meta["trained_now"] else "from the cache"
    text = (
        f"folder: {args.folder} ({len(dataset):,} images, {args.image_size} px)\n"
        f"rotation net: {path} ({how}); held-out rotation accuracy {meta['test_accuracy']:.4f}; "
        f"input {meta['config']['in_shape']}, {extractor.num_features}-d features; tag {extractor.tag}"
    )
    return extractor, dataset, None, text


def classifier_space(args: argparse.Namespace) -> tuple[nn.Module, Dataset, torch.Tensor, str]:
    """The dataset classifier of MNIST / Fashion-MNIST, the train split and its labels, a description."""
    datamodule = LABELLED[args.data](root=args.root or os.environ.get("GAN_DATA_DIR", "./data"))
    datamodule.prepare_data()
    path = classifier_path(datamodule.root, datamodule.name)
    how = "from the cache"
    if not path.is_file():
        start = time.perf_counter()
        _, accuracy = fit_classifier(datamodule, path, accelerator="cpu", progress=False)
        how = f"trained in {time.perf_counter() - start:.0f} s, test accuracy {accuracy:.4f}"
    extractor = build_extractor("classifier", datamodule.root, datamodule.name)
    dataset, labels = datamodule.build_dataset("train")
    text = (
        f"data: {datamodule.name} train split ({len(dataset):,} images)\n"
        f"classifier: {path} ({how}); {extractor.num_features}-d features; tag {extractor.tag}"
    )
    return extractor, dataset, labels, text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--folder", help="folder of images (searched recursively): rotation features")
    source.add_argument("--data", choices=sorted(LABELLED), help="labelled dataset: classifier features")
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--n", type=int, default=2000, help="images per half (at most half the data)")
    parser.add_argument("--epochs", type=int, default=None, help="rotation-net epochs (default: auto)")
    parser.add_argument("--root", default=None, help="data root (default: the folder, or GAN_DATA_DIR)")
    args = parser.parse_args()

    extractor, dataset, labels, description = classifier_space(args) if args.data else rotation_space(args)
    n = min(args.n, len(dataset) // 2)
    order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(0))
    half_a, half_b = Subset(dataset, order[:n].tolist()), Subset(dataset, order[n : 2 * n].tolist())
    images_b = stack(half_b)
    print(f"{description}\nn = {n} per side")
    real = extract_features(extractor, half_a, n)
    kid_subset = min(1000, n // 2)  # subsets smaller than n, so that KID's std says something
    metrics = ("fid", "kid", "precision", "recall", "density", "coverage")
    metrics += ("is",) if labels is not None else ()
    evaluator = SampleEvaluator(extractor, real, n, metrics=metrics, kid_subset_size=kid_subset)
    rows = [("real half B", "-", images_b)]
    rows += [("gaussian blur", f"sigma {s}", blur(images_b, s)) for s in BLUR_SIGMAS]
    rows += [("gaussian noise", f"std {s}", noise(images_b, s)) for s in NOISE_STDS]
    if labels is not None:
        rest = order[2 * n :]
        for name, classes in COLLAPSES:
            chosen = rest[torch.isin(labels[rest], torch.tensor(classes))][:n]
            rows.append(("mode collapse", name, stack(Subset(dataset, chosen.tolist()))))
    print(f"KID: polynomial kernel, 100 subsets of {kid_subset}, mean (x1e3; unbiased, can be < 0)")
    print("precision / recall: k = 3 (Kynkaenniemi et al. 2019); density / coverage: k = 5 (Naeem et al.)")
    columns = ["FID", "KID x1e3", "precision", "recall", "density", "coverage"]
    columns += ["IS (classifier)"] if labels is not None else []
    print("\n| half A vs | strength | " + " | ".join(columns) + " |")
    print("|---|---|" + "---:|" * len(columns))
    for name, strength, images in rows:
        evaluator.reset()
        for chunk in images.split(500):
            evaluator.update(chunk)
        values = evaluator.compute()
        cells = [f"{values['fid']:.3f}", f"{1e3 * values['kid']:.2f}"]
        cells += [f"{values[m]:.3f}" for m in ("precision", "recall", "density", "coverage")]
        if labels is not None:
            cells.append(f"{values['is_classifier']:.2f}")
        print(f"| {name} | {strength} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
