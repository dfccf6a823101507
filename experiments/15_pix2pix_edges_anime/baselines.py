"""What study 15's numbers mean: the paired metrics (FID / KID in the targets' rotation-net space, L1,
PSNR) of two translators that learn nothing, on the same 1,200 test pairs as the pix2pix run.

- ``mean face``: every output is the mean of the training targets (the best constant under L2);
- ``edges as image``: the output is the source edge map itself, grey in three channels.

    python experiments/15_pix2pix_edges_anime/baselines.py [--path ../shared/datasets/anime-faces]

Uses GAN_CACHE_DIR's rotation net of the targets (trained by the pix2pix run, or here on first use).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import torch
from torch import Tensor, nn

from gan_lightning.data import PairedDataModule
from gan_lightning.metrics.paired import build_paired_evaluator


class Translator(nn.Module):
    """A stand-in for a PairedTranslation: ``translate(source)`` by a fixed function."""

    def __init__(self, function) -> None:
        super().__init__()
        self.function = function
        self.register_buffer("anchor", torch.zeros(()))  # gives the stand-in a device

    @property
    def device(self) -> torch.device:
        return self.anchor.device

    def translate(self, source: Tensor, ema: bool | None = None) -> Tensor:
        return self.function(source)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    data_root = os.environ.get("GAN_DATA_DIR", "../shared/datasets")
    parser.add_argument("--path", default=str(Path(data_root) / "anime-faces"))
    parser.add_argument("--image-size", type=int, default=64)
    args = parser.parse_args()
    datamodule = PairedDataModule(
        root=data_root, path=args.path, derive="edges", image_size=args.image_size, batch_size=1
    )
    evaluator, protocol = build_paired_evaluator(datamodule, accelerator="cpu")
    train = datamodule.pair_images("train")
    step = max(1, len(train) // 2000)  # the mean of 2,000 training targets
    mean = torch.stack([train[i][1] for i in range(0, len(train), step)]).mean(0)
    baselines = {
        "mean face": lambda source: mean.expand(len(source), -1, -1, -1),
        "edges as image": lambda source: source.expand(-1, 3, -1, -1),
    }
    print(f"protocol: {protocol}")
    print("| translator | FID | KID | L1 | PSNR (dB) |\n|---|---|---|---|---|")
    for name, function in baselines.items():
        v = evaluator.evaluate(Translator(function))
        print(f"| {name} | {v['fid']:.2f} | {v['kid']:.2f} | {v['l1']:.4f} | {v['psnr']:.2f} |")


if __name__ == "__main__":
    main()
