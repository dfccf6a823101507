"""Inception Score (Salimans et al. 2016) of class logits: exp(E_x KL(p(y|x) || p(y))).

With Inception-v3's logits (``extractor=inception``) it is the IS of the papers (torch-fidelity's
unbiased logits, 10 splits); with the dataset classifier's (``extractor=classifier``) it is the same
formula in that classifier's label space, reported as ``is_classifier``: between 1 (every sample gets
the same prediction) and the number of classes (confident predictions, every class equally often).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from gan_lightning.errors import ConfigError


def inception_score(logits: Tensor, splits: int = 10) -> tuple[float, float]:
    """(mean, std) over ``splits`` consecutive, near-equal parts of ``logits`` (n, classes) of
    ``exp(mean_x KL(p(y|x) || p(y)))``, p(y) the part's mean prediction; std with ddof 0 (as the original
    code). Computed in float64."""
    if splits < 1 or splits > len(logits):
        raise ConfigError(
            f"metrics.is_splits={splits}: the Inception Score needs 1 <= splits <= the number of samples "
            f"({len(logits)})."
        )
    log_p = torch.log_softmax(logits.double(), dim=1)
    scores = []
    for part in log_p.tensor_split(splits):
        log_marginal = torch.logsumexp(part, dim=0) - math.log(len(part))  # log of the mean p(y|x)
        kl = (part.exp() * (part - log_marginal)).sum(dim=1)
        scores.append(kl.mean().exp())
    values = torch.stack(scores)
    return float(values.mean()), float(values.std(correction=0))
