"""Score a file of generated MNIST images with the framework's evaluation protocol.

    python benchmarks/score_samples.py samples.pt [--n 10000] [--extractor classifier]

``samples.pt`` holds {"images": N x 1 x 28 x 28 in [-1, 1]} (what ``benchmarks/tutorial_dcgan.py``
and ``python -m gan_lightning.sample ... out=samples.pt`` write). The first ``--n`` images are
compared with the MNIST test images through :func:`gan_lightning.metrics.protocol.build_image_evaluator`,
the same code as ``python -m gan_lightning.evaluate`` (classifier features, cached real statistics
under $GAN_CACHE_DIR or the data root). Prints one JSON line: FID, KID, the predicted-class histogram
and the protocol.
"""

from __future__ import annotations

import argparse
import json
import os

import torch

from gan_lightning.data import MNISTDataModule
from gan_lightning.metrics.protocol import MetricOptions, build_image_evaluator


def score(images: torch.Tensor, n: int, extractor: str = "classifier", batch_size: int = 500) -> dict:
    if len(images) < n:
        raise SystemExit(f"The file holds {len(images)} images, fewer than --n {n}.")
    datamodule = MNISTDataModule(root=os.environ.get("GAN_DATA_DIR", "./data"), batch_size=batch_size)
    datamodule.prepare_data()
    options = MetricOptions(extractor=extractor, metrics=("fid", "kid"), n_samples=n, batch_size=batch_size)
    evaluator, protocol = build_image_evaluator(datamodule, conditional=False, options=options)
    evaluator.reset()
    for start in range(0, n, batch_size):
        evaluator.update(images[start : start + batch_size].float())
    return {**evaluator.compute(), "protocol": protocol.as_dict()}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("samples")
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--extractor", default="classifier")
    args = parser.parse_args()
    images = torch.load(args.samples, map_location="cpu")["images"]
    print(json.dumps({"samples": args.samples, **score(images, args.n, args.extractor)}))


if __name__ == "__main__":
    main()
