"""``python -m gan_lightning.sample ckpt=PATH n=64 out=grid.png``: samples from a trained generator.

``out=*.png`` writes a grid (a scatter plot for 2-D toy data); ``out=*.pt`` saves
``{"images": float (N, C, H, W) in [-1, 1], "labels": long (N,)}`` (no labels for unconditional
models); ``out=DIR/`` (a trailing slash, or an existing folder) writes one 8-bit PNG per sample,
``000000.png``, ``000001.png``, ... (grayscale or RGB), and for conditional models ``labels.txt`` (one
class id a line, in the files' order): what ``evaluate samples=DIR/`` reads. ``label=3`` samples one
class; ``interpolate=true`` writes rows of latent interpolations (in W for StyleGAN);
``truncation=0.5`` redraws latent coordinates beyond 0.5, or for StyleGAN truncates in W with psi 0.5;
``style_mixing=true`` draws StyleGAN's style-mixing figure; ``ema=false`` samples the trained generator
instead of its EMA; ``seed=`` makes it repeatable.
"""

from __future__ import annotations

import os
from pathlib import Path

import hydra
import torch
from omegaconf import DictConfig
from PIL import Image
from torchvision.utils import save_image

from gan_lightning.callbacks.sample_grid import scatter_figure
from gan_lightning.checkpoints import load_model, resolve_device
from gan_lightning.data.image_files import find_images
from gan_lightning.errors import ConfigError, exit_on_user_error
from gan_lightning.files import atomic_torch_save
from gan_lightning.sample_files import LABELS_FILE
from gan_lightning.sampling import cycle_labels, generate_batches
from gan_lightning.style_mixing import style_mixing_figure


def choose_labels(model, n: int, label: int | None) -> torch.Tensor | None:
    """Labels for ``n`` samples: all ``label``, or cycling through the model's classes.

    ``None`` for an unconditional model.
    """
    if label is None:
        return cycle_labels(model.classes, n) if model.conditional else None
    if not model.conditional:
        raise ConfigError("label= needs a conditional model (model=cgan); this checkpoint is unconditional.")
    if label not in model.classes:
        raise ConfigError(
            f"label={label} is not one of the classes this model was trained on: {model.classes}."
        )
    return torch.full((n,), label, dtype=torch.long)


@torch.no_grad()
def interpolations(
    model,
    rows: int,
    steps: int,
    labels: torch.Tensor | None,
    seed: int,
    ema: bool | None = None,
    truncation: float | None = None,
) -> torch.Tensor:
    """``rows`` x ``steps`` images: each row walks linearly from one latent vector to another."""
    rng = torch.Generator().manual_seed(seed)
    end_labels = labels[:rows].repeat_interleave(2) if labels is not None else None
    inputs = model.sample_inputs(2 * rows, rng, end_labels, truncation)
    if "z" not in inputs:
        raise ConfigError("interpolate=true walks between latent vectors; this model's input is not noise.")
    ends = inputs["z"].view(rows, 2, -1)
    weights = torch.linspace(0, 1, steps, device=ends.device).view(1, steps, 1)
    z = ((1 - weights) * ends[:, :1] + weights * ends[:, 1:]).reshape(rows * steps, -1)
    walk = {"z": z}
    if labels is not None:
        walk["labels"] = labels[:rows].repeat_interleave(steps).to(model.device)
    if getattr(model, "has_latent_w", False):  # StyleGAN: walk in W, between the ends' (truncated) w
        w_ends = model.latents_w(inputs, ema).view(rows, 2, -1)
        walk = {"w": ((1 - weights) * w_ends[:, :1] + weights * w_ends[:, 1:]).reshape(rows * steps, -1)}
    model.eval()
    return model.generate(walk, ema=ema).cpu()


def write_samples(cfg: DictConfig) -> Path:
    if cfg.n <= 0:
        raise ConfigError(f"n must be positive, got {cfg.n}.")
    out = Path(cfg.out)
    folder = str(cfg.out).endswith(("/", os.sep)) or out.is_dir()
    if not folder and out.suffix not in (".png", ".jpg", ".pt"):
        raise ConfigError(
            f"out={out}: use a .png/.jpg file for a grid, a .pt file for tensors, or DIR/ for one PNG per "
            "sample."
        )
    if folder and out.is_dir() and find_images(out):
        raise ConfigError(f"out={cfg.out} already holds images: choose an empty or new folder.")
    model = load_model(cfg.ckpt, resolve_device(cfg.device))
    if getattr(model, "data_kind", "samples") != "samples":
        raise ConfigError(
            f"ckpt={cfg.ckpt} is a translation model ({type(model).__name__}): it translates images instead "
            "of sampling them. Use python -m gan_lightning.translate ckpt=... input=DIR output=DIR "
            "(direction=a2b)."
        )
    if cfg.style_mixing:
        labels = choose_labels(model, 1, cfg.label)
        images, nrow = (
            style_mixing_figure(model, cfg.rows, cfg.columns, labels, cfg.seed, cfg.ema, cfg.truncation),
            cfg.columns + 1,
        )
        labels = None
    elif cfg.interpolate:
        labels = choose_labels(model, cfg.rows, cfg.label)
        images = interpolations(model, cfg.rows, cfg.steps, labels, cfg.seed, cfg.ema, cfg.truncation)
        labels, nrow = (labels.repeat_interleave(cfg.steps) if labels is not None else None), cfg.steps
    else:
        labels = choose_labels(model, cfg.n, cfg.label)
        batches = generate_batches(
            model, cfg.n, cfg.batch_size, labels, seed=cfg.seed, ema=cfg.ema, truncation=cfg.truncation
        )
        images, nrow = torch.cat([x.cpu() for x, _ in batches]), cfg.nrow
    out.parent.mkdir(parents=True, exist_ok=True)
    if folder:
        write_folder(images, labels, out)
    elif out.suffix == ".pt":
        payload = {"images": images.float()}
        if labels is not None:
            payload["labels"] = labels.long()
        atomic_torch_save(payload, out)
    elif images.dim() == 4:
        save_image(images, out, nrow=nrow, normalize=True, value_range=(-1, 1), pad_value=1.0)
    else:
        scatter_figure(images, None, int(model.generator_step)).savefig(out, dpi=100)
    print(f"Wrote {len(images)} samples to {out}{'/' if folder else ''}")
    return out


def write_folder(images: torch.Tensor, labels: torch.Tensor | None, out: Path) -> None:
    """One 8-bit PNG per image of (N, C, H, W) in [-1, 1] (rounded as ``save_image`` rounds), named by
    index, and ``labels.txt`` when there are labels."""
    if images.dim() != 4 or images.size(1) not in (1, 3):
        raise ConfigError("out=DIR/ writes images; this model's samples are points: use out=samples.pt.")
    out.mkdir(parents=True, exist_ok=True)
    pixels = images.clamp(-1, 1).add(1).div(2).mul(255).add(0.5).clamp(0, 255).to(torch.uint8)
    width = max(6, len(str(len(images) - 1)))
    for i, image in enumerate(pixels.permute(0, 2, 3, 1).numpy()):
        Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image).save(out / f"{i:0{width}d}.png")
    if labels is not None:
        (out / LABELS_FILE).write_text("".join(f"{int(y)}\n" for y in labels))


@hydra.main(version_base="1.3", config_path="tool_conf", config_name="sample")
def main(cfg: DictConfig) -> None:
    exit_on_user_error(write_samples, cfg)


if __name__ == "__main__":
    main()
