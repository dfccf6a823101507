"""``python -m gan_lightning.translate ckpt=PATH input=DIR_OR_IMAGE output=DIR direction=a2b``: translate
images with a trained CycleGAN / DiscoGAN / pix2pix.

Every image below ``input`` (or the one file) is resized and centre-cropped to the model's training
size, translated by the EMA generator of the direction when the model has one (``ema=false``: the
trained one) and written to ``output`` as PNG under its own name (``zebra_001.jpg`` ->
``zebra_001.png``; sub-folders kept). ``direction=a2b`` uses G: A -> B (horses -> zebras for
horse2zebra); ``direction=b2a`` uses F: B -> A. A pix2pix model translates one way (source -> target);
when it was trained with ``data.derive=edges`` (or ``grayscale``) the given images are photos of the
target kind, and their edge maps (grayscale) are derived as in training and translated back into
images. Existing output files are never overwritten unless
``overwrite=true``; every input file is checked before anything is written.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import hydra
import torch
from omegaconf import DictConfig
from torchvision.utils import save_image
from tqdm import tqdm

from gan_lightning.checkpoints import load_model, resolve_device
from gan_lightning.data.broken_files import readable_indices
from gan_lightning.data.image_files import IMAGE_EXTENSIONS, ImageFiles, find_images, has_image_extension
from gan_lightning.data.paired import derive_source
from gan_lightning.errors import ConfigError, exit_on_user_error

DIRECTIONS = ("a2b", "b2a")


def input_files(source: Path) -> tuple[list[Path], Path]:
    """The image files of ``input`` (a file, or a folder searched recursively) and the folder their
    output names are relative to. Unreadable files stop the command before any output is written."""
    if source.is_file():
        if not has_image_extension(source):
            raise ConfigError(f"input={source} is not an image file ({', '.join(IMAGE_EXTENSIONS)}).")
        paths, folder = [source], source.parent
    elif source.is_dir():
        paths, folder = find_images(source), source
        if not paths:
            raise ConfigError(f"input={source} holds no images ({', '.join(IMAGE_EXTENSIONS)}, recursively).")
    else:
        raise ConfigError(f"input={source}: no such file or folder.")
    readable_indices(paths, folder)  # names the unreadable files, if any
    return paths, folder


def output_paths(paths: list[Path], folder: Path, output: Path, overwrite: bool) -> list[Path]:
    """``output/<relative path>.png`` for every input; refuses to overwrite unless asked to."""
    targets = [output / path.relative_to(folder).with_suffix(".png") for path in paths]
    if len(set(targets)) < len(targets):
        raise ConfigError(
            "Two input files would be written to the same output name (e.g. x.jpg and x.png); rename one."
        )
    existing = [t for t in targets if t.exists()]
    if existing and not overwrite:
        raise ConfigError(
            f"{len(existing)} output files already exist (e.g. {existing[0]}); nothing was written. "
            "Choose another output= folder or set overwrite=true."
        )
    return targets


def translator(model, cfg: DictConfig) -> Callable[[torch.Tensor], torch.Tensor]:
    """RGB images (N, 3, S, S) in [-1, 1] -> their translations by ``model`` as ``cfg`` asks: the
    generator of ``cfg.direction`` (CycleGAN, DiscoGAN), or pix2pix's G on the images themselves (one
    channel for a grayscale model) or, for a model trained with ``data.derive``, on the edge map /
    grayscale derived from them as in training."""
    kind = getattr(model, "data_kind", "samples")
    if kind not in ("two_domains", "paired"):
        raise ConfigError(
            f"ckpt={cfg.ckpt} is a {type(model).__name__}, which generates from noise; translate needs a "
            "translation model (model=cyclegan, discogan or pix2pix). Use python -m gan_lightning.sample."
        )
    if kind == "paired" and cfg.direction != "a2b":
        raise ConfigError(
            f"direction={cfg.direction}: pix2pix translates one way, source -> target (direction=a2b)."
        )
    if kind == "two_domains":
        gray = int(model.hparams.data_shape[0]) == 1
        return lambda images: model.translate(
            images.mean(1, keepdim=True) if gray else images, cfg.direction, ema=cfg.ema
        )
    derive = (model.hparams.get("data") or {}).get("derive")
    gray = int(model.hparams.source_shape[0]) == 1

    def translate(images: torch.Tensor) -> torch.Tensor:
        if derive:
            return model.translate(derive_source(images, derive), ema=cfg.ema)
        return model.translate(images.mean(1, keepdim=True) if gray else images, ema=cfg.ema)

    return translate


@torch.no_grad()
def translate_files(cfg: DictConfig) -> list[Path]:
    if cfg.direction not in DIRECTIONS:
        raise ConfigError(f"direction must be a2b (A -> B) or b2a (B -> A), got '{cfg.direction}'.")
    if cfg.batch_size <= 0:
        raise ConfigError(f"batch_size must be positive, got {cfg.batch_size}.")
    paths, folder = input_files(Path(cfg.input))
    targets = output_paths(paths, folder, Path(cfg.output), cfg.overwrite)
    model = load_model(cfg.ckpt, resolve_device(cfg.device))
    translate = translator(model, cfg)
    image_size = int(model.hparams.data_shape[-1])
    images = ImageFiles(paths, None, image_size)
    batches = range(0, len(paths), cfg.batch_size)
    for start in tqdm(batches, desc=f"Translating {len(paths)} images ({cfg.direction})", unit="batch"):
        end = min(start + cfg.batch_size, len(paths))
        batch = torch.stack([images[i][0] for i in range(start, end)]).to(model.device)
        translated = translate(batch).float().cpu()
        for image, target in zip(translated, targets[start:end], strict=True):
            target.parent.mkdir(parents=True, exist_ok=True)
            save_image(image, target, normalize=True, value_range=(-1, 1))
    return targets


@hydra.main(version_base="1.3", config_path="tool_conf", config_name="translate")
def main(cfg: DictConfig) -> None:
    written = exit_on_user_error(translate_files, cfg)
    print(f"Wrote {len(written)} translated images ({cfg.direction}) to {cfg.output}")


if __name__ == "__main__":
    main()
