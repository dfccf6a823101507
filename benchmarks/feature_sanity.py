"""Sanity check of the rotation-feature space (offline FID / KID of unlabelled image folders).

    python benchmarks/feature_sanity.py --folder /work/shared/datasets/anime-faces --image-size 64 \\
        [--n 2000] [--epochs E] [--root DIR]

Trains the rotation-prediction net on the folder (:mod:`gan_lightning.metrics.rotation_net`), or
loads it from ``<cache root>/feature_nets``, then prints FID and KID in its feature space between
half A of the real images (n, fixed permutation, seed 0) and:

- half B (the next n images): the floor, two samples of the same distribution;
- half B blurred (``gaussian_blur``, sigma 0.5, 1, 2; kernel 2*ceil(3 sigma)+1);
- half B with additive Gaussian noise (std 0.05, 0.1, 0.2, 0.4 in [-1, 1] units, clamped to [-1, 1]).

A useful feature space puts the halves close and the corrupted copies far, farther with the strength.
Set ``GAN_CACHE_DIR`` when the folder is read-only (decoded images and the net are cached there).
"""

from __future__ import annotations

import argparse
import math
import time

import torch
from torch.utils.data import DataLoader, Subset
from torchvision.transforms.functional import gaussian_blur

from gan_lightning.data import ImageFolderDataModule
from gan_lightning.metrics.evaluator import SampleEvaluator
from gan_lightning.metrics.real_stats import extract_features
from gan_lightning.metrics.rotation_net import load_or_train_rotation_features, rotation_features_path

BLUR_SIGMAS = (0.5, 1.0, 2.0)
NOISE_STDS = (0.05, 0.1, 0.2, 0.4)


def blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """(N, C, S, S) -> the same images blurred with a Gaussian of std ``sigma`` px."""
    kernel = 2 * math.ceil(3 * sigma) + 1
    return gaussian_blur(images, kernel_size=[kernel, kernel], sigma=[sigma, sigma])


def noise(images: torch.Tensor, std: float, seed: int = 0) -> torch.Tensor:
    """(N, C, S, S) in [-1, 1] -> plus N(0, std^2) per pixel (fixed seed), clamped to [-1, 1]."""
    generator = torch.Generator().manual_seed(seed)
    return (images + std * torch.randn(images.shape, generator=generator)).clamp(-1, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--folder", required=True, help="folder of images (searched recursively)")
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--n", type=int, default=2000, help="images per half (at most half the folder)")
    parser.add_argument("--epochs", type=int, default=None, help="rotation-net epochs (default: auto)")
    parser.add_argument("--root", default=None, help="data root for caches (default: the folder)")
    args = parser.parse_args()

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
    n = min(args.n, len(dataset) // 2)
    order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(0)).tolist()
    half_a, half_b = Subset(dataset, order[:n]), Subset(dataset, order[n : 2 * n])
    images_b = torch.cat([images for images, _ in DataLoader(half_b, batch_size=500)])

    print(f"folder: {args.folder} ({len(dataset):,} images, {args.image_size} px); n = {n} per side")
    print(
        f"rotation net: {path} ({how}); held-out rotation accuracy {meta['test_accuracy']:.4f}; "
        f"input {meta['config']['in_shape']}, {extractor.num_features}-d features; tag {extractor.tag}"
    )
    real = extract_features(extractor, half_a, n)
    kid_subset = min(1000, n // 2)  # subsets smaller than n, so that KID's std says something
    evaluator = SampleEvaluator(extractor, real, n, metrics=("fid", "kid"), kid_subset_size=kid_subset)
    rows = [("real half B", "-", images_b)]
    rows += [("gaussian blur", f"sigma {s}", blur(images_b, s)) for s in BLUR_SIGMAS]
    rows += [("gaussian noise", f"std {s}", noise(images_b, s)) for s in NOISE_STDS]
    print(f"KID: polynomial kernel, 100 subsets of {kid_subset}, mean ± std (x1e3; unbiased, can be < 0)")
    print(f"\n| {'half A vs':<15} | {'strength':<10} | {'FID':>9} | {'KID (x1e3)':>18} |")
    print(f"|{'-' * 17}|{'-' * 12}|{'-' * 11}|{'-' * 20}|")
    for name, strength, images in rows:
        evaluator.reset()
        for chunk in images.split(500):
            evaluator.update(chunk)
        values = evaluator.compute()
        kid = f"{1e3 * values['kid']:.2f} ± {1e3 * values['kid_std']:.2f}"
        print(f"| {name:<15} | {strength:<10} | {values['fid']:>9.3f} | {kid:>18} |", flush=True)


if __name__ == "__main__":
    main()
