"""Checkpoint writing for the Trainer: atomic, so a crash while saving never truncates ``last.ckpt``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pytorch_lightning.plugins.io import TorchCheckpointIO

from gan_lightning.errors import StorageError
from gan_lightning.files import atomic_torch_save


class AtomicCheckpointIO(TorchCheckpointIO):
    """Write each checkpoint to a temporary file beside its target, then rename it into place."""

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: str | Path, storage_options: Any = None
    ) -> None:
        try:
            atomic_torch_save(checkpoint, path)
        except OSError as err:
            raise StorageError(
                f"Could not write the checkpoint {path}: {err.strerror or err}. The checkpoints already in "
                f"{Path(path).parent} are intact. Free some space (or fix the permissions), then resume with "
                f"ckpt_path={Path(path).parent / 'last.ckpt'}."
            ) from err
