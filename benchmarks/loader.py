"""Images per second the training data loader delivers, to set beside a step's images per second
(``benchmarks/plain_loops.py``): the step never starves while the loader is faster.

    python benchmarks/loader.py [--batches 200] -- data=image_folder data.path=DIR data.image_size=64

The datamodule is built from the training command's config (any ``data.*`` override, e.g.
``data.cache=true``, ``data.num_workers=2``, ``data.pin_memory=true``); the first batch (worker start,
building or loading the decode cache) is not timed. Prints images/s over ``--batches`` batches.
"""

from __future__ import annotations

import argparse
import time

from hydra import compose, initialize_config_module

from gan_lightning.config import build
from gan_lightning.steps import register_resolvers


def images_per_second(overrides: list[str], batches: int) -> tuple[float, str]:
    """(images per second, a description of the loader) of ``python -m gan_lightning <overrides>``."""
    register_resolvers()
    with initialize_config_module(config_module="gan_lightning.conf", version_base="1.3"):
        cfg = compose(config_name="train", overrides=overrides)
    datamodule = build(cfg.data)
    datamodule.prepare_data()
    datamodule.setup("fit")
    loader = datamodule.train_dataloader()
    batches_left = iter(loader)
    next(batches_left)
    start, images = time.perf_counter(), 0
    for _ in range(batches):
        try:
            batch = next(batches_left)
        except StopIteration:
            batches_left = iter(loader)
            batch = next(batches_left)
        images += batch[0].size(0)
    described = (
        f"{datamodule.name}, batch {datamodule.batch_size}, {datamodule.num_workers} workers, "
        f"pin_memory={datamodule.pin_memory}, decode cache={getattr(datamodule, 'use_cache', False)}"
    )
    return images / (time.perf_counter() - start), described


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("overrides", nargs="*", default=[])
    args = parser.parse_args()
    rate, described = images_per_second(args.overrides, args.batches)
    print(f"{described}: {rate:,.0f} images/s")


if __name__ == "__main__":
    main()
