"""Score a file of generated MNIST images with the framework's evaluation protocol.

    python benchmarks/score_samples.py samples.pt [--n 10000] [--extractor classifier]

``samples.pt`` holds {"images": N x 1 x 28 x 28 in [-1, 1]} (what ``benchmarks/tutorial_dcgan.py``
and ``python -m gan_lightning.sample ... out=samples.pt`` write). The first ``--n`` images are
compared with the MNIST test images by :func:`gan_lightning.scoring.score_samples`, the code of
``python -m gan_lightning.evaluate samples=samples.pt data=mnist`` (which takes any dataset, folders of
PNGs and .npz files too: prefer it). Prints one JSON line: FID, KID, the predicted-class histogram and
the protocol.
"""

from __future__ import annotations

import argparse
import json
import os

from omegaconf import OmegaConf

from gan_lightning.errors import exit_on_user_error
from gan_lightning.metrics.protocol import MetricOptions
from gan_lightning.scoring import score_samples


def score(path: str, n: int, extractor: str = "classifier", batch_size: int = 500) -> dict:
    """FID and KID of the first ``n`` images of ``path`` against MNIST's test images."""
    data = OmegaConf.create(
        {"_target_": "gan_lightning.data.MNISTDataModule", "root": os.environ.get("GAN_DATA_DIR", "./data"),
         "batch_size": batch_size}
    )  # fmt: skip
    options = MetricOptions(extractor=extractor, metrics=("fid", "kid"), n_samples=n, batch_size=batch_size)
    return score_samples(path, data, options, train_classifier=False)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("samples")
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--extractor", default="classifier")
    args = parser.parse_args()
    print(json.dumps(exit_on_user_error(score, args.samples, args.n, args.extractor)))


if __name__ == "__main__":
    main()
