"""Mode coverage on 2-D mixtures (VEEGAN, Srivastava et al., 2017; PacGAN, Lin et al., 2018).

A sample is *high quality* when it lies within 3 standard deviations of its nearest mode centre; a
mode is *covered* when at least ``min_per_mode`` high-quality samples fall on it (1 in VEEGAN).
The papers use 2,500 samples (:data:`TOY_SAMPLES`).
"""

from __future__ import annotations

import torch
from torch import Tensor

TOY_SAMPLES = 2500


def mode_coverage(samples: Tensor, centres: Tensor, std: float, min_per_mode: int = 1) -> dict[str, float]:
    """Coverage of ``centres`` (K, 2) by ``samples`` (N, 2).

    Returns ``modes_covered`` (count), ``modes_total`` (K), ``high_quality`` (fraction in [0, 1]) and
    ``samples_per_mode`` (list of K high-quality counts).
    """
    distances = torch.cdist(samples.double(), centres.double())  # (N, K)
    nearest_distance, nearest = distances.min(dim=1)
    good = nearest_distance <= 3 * std
    per_mode = torch.bincount(nearest[good], minlength=len(centres))
    return {
        "modes_covered": int((per_mode >= min_per_mode).sum()),
        "modes_total": len(centres),
        "high_quality": float(good.double().mean()) if len(samples) else 0.0,
        "samples_per_mode": per_mode.tolist(),
    }
