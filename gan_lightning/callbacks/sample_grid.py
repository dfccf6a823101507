"""Sample grids from fixed noise: to TensorBoard and as PNG files in the run directory.

The fixed inputs (noise and, for conditional models, labels, from the model's ``sample_inputs``;
test images of the datamodule's ``grid_inputs`` for translation models) are drawn once from their own seeded
generator and saved in checkpoints, so grids stay comparable across a resume. Grids come from the
EMA generator when the model has one. Conditional models get one row
per class, in class order. 2-D toy data gets a scatter plot of samples over the real data instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytorch_lightning as pl  # noqa: E402
import torch  # noqa: E402
from pytorch_lightning.loggers import TensorBoardLogger  # noqa: E402
from pytorch_lightning.utilities import rank_zero_only  # noqa: E402
from torchvision.utils import make_grid, save_image  # noqa: E402

from gan_lightning.callbacks.periodic import PeriodicEvaluation  # noqa: E402
from gan_lightning.errors import ConfigError  # noqa: E402
from gan_lightning.rng import untouched_global_rng


class SampleGrid(PeriodicEvaluation):
    """Every ``every_n_steps`` generator steps (and at the end), draw G(fixed z) and save it (the
    schedule of :class:`~gan_lightning.callbacks.periodic.PeriodicEvaluation`).

    Args:
        every_n_steps: period in generator steps; 0 disables periodic grids (the final one stays).
        n_samples: images in an unconditional grid (points in a toy scatter plot: ``n_points``).
        nrow: images per row (for conditional models: samples per class).
        n_points: generated points in a toy-data scatter plot.
        dirname: sub-folder of the run directory for the PNG files.
        seed: seed of the fixed noise.
        truncation: the truncation of the grids' inputs (StyleGAN: psi in W; others: the |z|
            threshold); ``None``: none. What the grids show (EMA or trained generator, truncation) is
            stated once in TensorBoard's text tab (``samples/protocol``).
    """

    def __init__(
        self,
        every_n_steps: int = 500,
        n_samples: int = 64,
        nrow: int = 8,
        n_points: int = 2000,
        dirname: str = "samples",
        seed: int = 1234,
        truncation: float | None = None,
    ) -> None:
        self.every_n_steps = every_n_steps
        self.n_samples = n_samples
        self.nrow = nrow
        self.n_points = n_points
        self.dirname = dirname
        self.seed = seed
        self.truncation = truncation
        self.inputs: dict[str, torch.Tensor] | None = None

    # --- fixed noise, saved in checkpoints ----------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        return dict(self.inputs or {})  # e.g. {"z": ..., "labels": ...}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        inputs = {name: value for name, value in state_dict.items() if value is not None}
        self.inputs = inputs or None

    def _fixed_inputs(self, pl_module: pl.LightningModule, trainer: pl.Trainer) -> None:
        if self.inputs is not None:
            return
        rng = torch.Generator().manual_seed(self.seed)
        image_data = getattr(trainer.datamodule, "is_image", True)
        labels = None
        if pl_module.conditional:
            classes = torch.tensor(pl_module.classes)
            per_class = self.nrow if image_data else max(1, self.n_points // len(classes))
            labels = classes.repeat_interleave(per_class)
        n = len(labels) if labels is not None else (self.n_samples if image_data else self.n_points)
        if pl_module.data_kind == "samples":  # noise families draw their inputs
            inputs = pl_module.sample_inputs(n, rng, labels, self.truncation)
        elif self.truncation is not None:
            raise ConfigError(
                "callbacks.sample_grid.truncation applies to noise-to-image models, not to translation."
            )
        else:  # image-to-image families translate fixed test images of their data
            inputs = trainer.datamodule.grid_inputs(n, rng)
        self.inputs = {name: value.cpu() for name, value in inputs.items()}

    # --- hooks --------------------------------------------------------------------------------------

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        with untouched_global_rng():  # test images read here leave the training's random streams alone
            self._fixed_inputs(pl_module, trainer)
        if not trainer.is_global_zero:
            return
        ema = getattr(pl_module, "ema", None) is not None
        truncation = f"truncation {self.truncation}" if self.truncation is not None else "no truncation"
        text = f"Grids from the {'EMA ' if ema else ''}generator, {truncation}."
        for logger in trainer.loggers:
            if isinstance(logger, TensorBoardLogger):
                logger.experiment.add_text("samples/protocol", text, 0)

    def run(self, trainer: pl.Trainer, pl_module: pl.LightningModule, step: int) -> None:
        self.write(trainer, pl_module, step)

    # --- drawing ------------------------------------------------------------------------------------

    @torch.no_grad()
    def generate(self, pl_module: pl.LightningModule) -> torch.Tensor:
        """Samples of the fixed inputs in eval mode, on the CPU."""
        was_training = pl_module.training
        pl_module.eval()
        inputs = {name: value.to(pl_module.device) for name, value in self.inputs.items()}
        samples = pl_module.generate(inputs).float().cpu()
        pl_module.train(was_training)
        return samples

    @rank_zero_only
    def write(self, trainer: pl.Trainer, pl_module: pl.LightningModule, step: int) -> Path:
        """Save the grid (or scatter plot) as ``<run dir>/samples/step_XXXXXX.png`` and log it."""
        self.last_step = step
        out_dir = Path(trainer.default_root_dir) / self.dirname
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / f"step_{step:07d}.png"
        samples = self.generate(pl_module)
        tensorboard = next(
            (lg.experiment for lg in trainer.loggers if isinstance(lg, TensorBoardLogger)), None
        )
        if samples.dim() == 4:
            nrow = pl_module.grid_columns or self.nrow  # translation: a | G(a) | F(G(a))
            grid = make_grid(samples, nrow=nrow, normalize=True, value_range=(-1, 1), pad_value=1.0)
            save_image(grid, path)
            if tensorboard is not None:
                tensorboard.add_image("samples", grid, global_step=step)
        else:
            figure = scatter_figure(samples, real_points(trainer, len(samples)), step)
            figure.savefig(path, dpi=100)
            if tensorboard is not None:
                tensorboard.add_figure("samples", figure, global_step=step)
            plt.close(figure)
        return path


def real_points(trainer: pl.Trainer, n: int) -> torch.Tensor | None:
    """Up to ``n`` real 2-D points from the training set, for the scatter plot's background."""
    dataset = getattr(trainer.datamodule, "train_set", None)
    if dataset is None:
        return None
    idx = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(0))[:n]
    return torch.stack([dataset[int(i)][0] for i in idx])


def scatter_figure(fake: torch.Tensor, real: torch.Tensor | None, step: int) -> plt.Figure:
    """Generated points (N, 2) in orange over real points in grey."""
    figure, ax = plt.subplots(figsize=(5, 5))
    if real is not None:
        ax.scatter(real[:, 0], real[:, 1], s=4, c="0.6", alpha=0.5, label="real")
    ax.scatter(fake[:, 0], fake[:, 1], s=4, c="tab:orange", alpha=0.6, label="generated")
    ax.set_title(f"generator step {step}")
    ax.set_aspect("equal")
    ax.legend(loc="upper right")
    figure.tight_layout()
    return figure
