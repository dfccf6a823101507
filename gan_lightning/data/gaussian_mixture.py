"""2-D toy data: a mixture of isotropic Gaussians, generated in memory (no download).

``ring``: 8 centres at angles 2*pi*k/8, k = 0..7, on a circle of radius 1, sigma 0.01.
``grid``: 25 centres on {-4, -2, 0, 2, 4}^2, sigma 0.05.
These are the benchmarks of VEEGAN (Srivastava et al., 2017) and PacGAN (Lin et al., 2018).
Each sample's label is the index of the mode it was drawn from.
"""

from __future__ import annotations

import math

import torch
from torch.utils.data import Dataset, TensorDataset

from gan_lightning.data.base import GANDataModule
from gan_lightning.errors import ConfigError

DEFAULT_STD = {"ring": 0.01, "grid": 0.05}


def mixture_centres(kind: str, n_modes: int = 8, radius: float = 1.0) -> torch.Tensor:
    """Centres of the mixture, shape (K, 2)."""
    if kind == "ring":
        angles = torch.arange(n_modes, dtype=torch.float64) * 2 * math.pi / n_modes
        return (radius * torch.stack([angles.cos(), angles.sin()], dim=1)).float()
    if kind == "grid":
        axis = torch.tensor([-4.0, -2.0, 0.0, 2.0, 4.0])
        return torch.cartesian_prod(axis, axis)
    raise ConfigError(f"Unknown mixture '{kind}'. Choose 'ring' or 'grid' (data.kind=...).")


def sample_mixture(
    centres: torch.Tensor, std: float, n: int, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` points (n, 2) drawn uniformly over the modes, and their mode indices (n,)."""
    modes = torch.randint(len(centres), (n,), generator=generator)
    points = centres[modes] + std * torch.randn(n, 2, generator=generator)
    return points, modes


class GaussianMixtureDataModule(GANDataModule):
    """``data.n_samples`` points of a ``ring`` or ``grid`` mixture, fixed by ``data.seed``."""

    name = "gaussian_mixture"
    data_shape = (2,)
    is_image = False

    def __init__(
        self,
        *args,
        kind: str = "ring",
        n_samples: int = 100_000,
        std: float | None = None,
        n_modes: int = 8,
        radius: float = 1.0,
        seed: int = 0,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.centres = mixture_centres(kind, n_modes, radius)
        self.kind = kind
        self.std = DEFAULT_STD[kind] if std is None else std
        if n_samples <= 0 or self.std <= 0:
            raise ConfigError(
                f"data.n_samples and data.std must be positive, got {n_samples} and {self.std}."
            )
        self.n_samples = n_samples
        self.seed = seed
        self.num_classes = len(self.centres)
        self.class_names = [f"mode {k}" for k in range(self.num_classes)]

    def build_dataset(self, split: str) -> tuple[Dataset, torch.Tensor]:
        points, modes = sample_mixture(
            self.centres, self.std, self.n_samples, torch.Generator().manual_seed(self.seed)
        )
        return TensorDataset(points, modes), modes
