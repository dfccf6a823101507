"""The Inception Score of logits: known distributions (C for confident, balanced predictions over C
classes, 1 for constant ones), splits, and agreement with torchmetrics' InceptionScore."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torchmetrics.image.inception import InceptionScore

from gan_lightning.errors import ConfigError
from gan_lightning.metrics.inception_score import inception_score


def confident(classes: list[int], num_classes: int, margin: float = 60.0) -> torch.Tensor:
    """Logits (n, num_classes) that put all the probability (to 1e-26) on the given classes."""
    return margin * nn.functional.one_hot(torch.tensor(classes), num_classes).double()


def test_confident_balanced_predictions_score_the_number_of_classes():
    for c in (2, 7, 10):
        mean, std = inception_score(confident(list(range(c)) * 10, c), splits=10)  # each split: 0..c-1
        assert mean == pytest.approx(c, rel=1e-9) and std == pytest.approx(0.0, abs=1e-9)


def test_constant_predictions_score_one():
    mean, _ = inception_score(confident([3] * 50, 10), splits=5)
    assert mean == pytest.approx(1.0, abs=1e-12)
    mean, _ = inception_score(torch.randn(1, 10).repeat(40, 1), splits=4)  # unsure, but always the same
    assert mean == pytest.approx(1.0, abs=1e-12)


def test_uniform_predictions_score_one_and_partial_collapse_in_between():
    assert inception_score(torch.zeros(30, 10), splits=3)[0] == pytest.approx(1.0)
    # Confident over 5 of 10 classes, balanced: exp(log 5) = 5.
    assert inception_score(confident(list(range(5)) * 4, 10), splits=1)[0] == pytest.approx(5.0)


def test_splits_are_consecutive_and_std_has_ddof_0():
    # First half: two classes, confidently and evenly (IS 2); second half: one class (IS 1).
    logits = torch.cat([confident([0, 1] * 5, 4), confident([2] * 10, 4)])
    mean, std = inception_score(logits, splits=2)
    assert (mean, std) == (pytest.approx(1.5), pytest.approx(0.5))
    # One split: the marginal over all 20 is (1/4, 1/4, 1/2, 0): exp(H(y)) with confident p(y|x).
    expected = torch.exp(-(torch.tensor([0.25, 0.25, 0.5]) * torch.tensor([0.25, 0.25, 0.5]).log()).sum())
    assert inception_score(logits, splits=1)[0] == pytest.approx(float(expected))


@pytest.mark.filterwarnings("ignore:.*(save all extracted features|degrees of freedom)")
def test_matches_torchmetrics_on_random_logits():
    logits = 3 * torch.randn(64, 12, generator=torch.Generator().manual_seed(0))
    reference = InceptionScore(feature=nn.Identity(), splits=1)  # one split: its random order is moot
    reference.update(logits)
    expected, _ = reference.compute()
    assert inception_score(logits, splits=1)[0] == pytest.approx(float(expected), rel=1e-5)


def test_splits_must_fit_the_samples():
    with pytest.raises(ConfigError, match="metrics.is_splits=11"):
        inception_score(torch.zeros(10, 3), splits=11)
    with pytest.raises(ConfigError, match="metrics.is_splits=0"):
        inception_score(torch.zeros(10, 3), splits=0)
