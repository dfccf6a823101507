"""Loading trained models back from the checkpoints that training writes."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch
from omegaconf import OmegaConf

from gan_lightning.config import build, family_options
from gan_lightning.errors import ConfigError
from gan_lightning.models import family_for_checkpoint

log = logging.getLogger(__name__)


def read_checkpoint(path: str | Path, key: str = "ckpt") -> dict[str, Any]:
    """The checkpoint's contents (on the CPU), or a clear error when it is not one of ours.

    ``key`` is the option the user gave the path with, named in the messages.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{key}={path}: no such file.")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # truncated, corrupted or not a torch file at all
        raise ConfigError(
            f"{key}={path} is not a readable checkpoint, it may be truncated or corrupted "
            f"({type(err).__name__}: {str(err).splitlines()[0]})."
        ) from err
    if not isinstance(checkpoint, dict) or not {"state_dict", "hyper_parameters"} <= checkpoint.keys():
        raise ConfigError(
            f"{key}={path} is not a gan-lightning training checkpoint (no model state or hyperparameters)."
        )
    return checkpoint


def check_resumable(model: torch.nn.Module, path: str | Path) -> None:
    """Fail before training when ``path`` cannot resume ``model``: unreadable, not a training
    checkpoint, or written by a model of other shapes (other architecture, data or z_dim)."""
    checkpoint = read_checkpoint(path, key="ckpt_path")
    if "optimizer_states" not in checkpoint or "loops" not in checkpoint:
        raise ConfigError(
            f"ckpt_path={path} holds weights but no training state, so the run cannot be resumed from it. "
            f"Start a new run from its weights with init_from={path} instead."
        )
    # Empty buffers grow during training (the image pools of CycleGAN): only their presence must match.
    expected = {k: tuple(v.shape) if v.numel() else "growing" for k, v in model.state_dict().items()}
    found = {
        k: "growing" if expected.get(k) == "growing" else tuple(v.shape)
        for k, v in checkpoint["state_dict"].items()
    }
    if expected != found:
        differing = sorted(k for k in expected.keys() | found.keys() if expected.get(k) != found.get(k))
        raise ConfigError(
            f"ckpt_path={path} was written by a different model: {len(differing)} weights differ "
            f"(e.g. {differing[0]}: {found.get(differing[0])} in the checkpoint, "
            f"{expected.get(differing[0])} here). Resume with the same model=, data= and model.* options "
            "as the original run (its .hydra/config.yaml lists them)."
        )
    saved = checkpoint["hyper_parameters"]
    changed = sorted(k for k in model.hparams.keys() & saved.keys() if model.hparams[k] != saved[k])
    defaults = family_options(type(model))  # options newer than the checkpoint count at their default
    added = sorted(k for k in model.hparams.keys() - saved.keys() if model.hparams[k] != defaults.get(k))
    if changed or added:
        log.warning(
            "Resuming %s with other model options than it was trained with: %s. The run continues with "
            "today's values; pass the original ones (e.g. model.%s=...) to continue it unchanged.",
            path, ", ".join([f"{k} ({saved[k]!r} -> {model.hparams[k]!r})" for k in changed]
                            + [f"{k} (new: {model.hparams[k]!r})" for k in added]),
            (changed + added)[0],
        )  # fmt: skip


def load_model(path: str | Path, device: torch.device | str = "cpu"):
    """Rebuild the LightningModule saved in ``path`` with its weights, in eval mode on ``device``."""
    checkpoint = read_checkpoint(path)
    model_class, options = family_for_checkpoint(
        checkpoint.get("model_class"), checkpoint["hyper_parameters"]
    )
    try:
        model = model_class(**options)
        model.load_state_dict(checkpoint["state_dict"])
    except (TypeError, RuntimeError) as err:
        raise ConfigError(f"ckpt={path} does not fit {model_class.__name__}: {err}") from err
    return model.to(device).eval()


def resolve_device(device: str) -> torch.device:
    """``auto`` -> CUDA when available, else CPU."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def load_datamodule(model, data_root: str | None = None):
    """The datamodule the model was trained on (from the config recorded in its checkpoint)."""
    data = dict(model.hparams.get("data") or {})
    if not data:
        raise ConfigError(
            "This checkpoint records no data config; it was not written by `python -m gan_lightning`."
        )
    if data_root is not None:
        if data.get("path") == data.get("root"):
            data["path"] = data_root
        data["root"] = data_root
    return build(OmegaConf.create(data))
