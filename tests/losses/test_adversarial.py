"""Adversarial losses against hand computations from their formulas."""

from __future__ import annotations

import math

import pytest
import torch

from gan_lightning.errors import ConfigError
from gan_lightning.losses import LOSSES, AdversarialLoss, get_loss, gradient_penalty

REAL = [2.0, -1.0]
FAKE = [0.5, -3.0]


def _softplus(x: float) -> float:
    return math.log1p(math.exp(x))


def _log_sigmoid(x: float) -> float:
    return -math.log1p(math.exp(-x))


def _log_one_minus_sigmoid(x: float) -> float:
    return -math.log1p(math.exp(x))


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def _bce_d(real: list[float], fake: list[float], t: float = 1.0) -> float:
    real_term = _mean([-(t * _log_sigmoid(r) + (1 - t) * _log_one_minus_sigmoid(r)) for r in real])
    fake_term = _mean([-_log_one_minus_sigmoid(f) for f in fake])
    return real_term + fake_term


@pytest.fixture
def logits() -> tuple[torch.Tensor, torch.Tensor]:
    return torch.tensor(REAL), torch.tensor(FAKE)


def test_registry_names() -> None:
    assert set(LOSSES) == {"minimax", "non_saturating", "least_squares", "hinge", "wasserstein"}
    for name in LOSSES:
        loss = get_loss(name)
        assert isinstance(loss, AdversarialLoss)
        assert loss.name == name


def test_minimax(logits) -> None:
    real, fake = logits
    loss = get_loss("minimax")
    assert loss.discriminator(real, fake, 1.0).item() == pytest.approx(_bce_d(REAL, FAKE), rel=1e-6)
    # G minimises log(1 - sigma(f)).
    expected_g = _mean([_log_one_minus_sigmoid(f) for f in FAKE])
    assert loss.generator(fake).item() == pytest.approx(expected_g, rel=1e-6)
    assert loss.probabilistic is True
    assert loss.gradient_penalty_weight == 0.0


def test_minimax_hand_numbers(logits) -> None:
    """The same values written out once as plain numbers, independent of the helpers above."""
    real, fake = logits
    loss = get_loss("minimax")
    # -log sigma(2) = 0.126928, -log sigma(-1) = 1.313262, softplus(0.5) = 0.974077, softplus(-3) = 0.048587
    expected_d = (0.126928 + 1.313262) / 2 + (0.974077 + 0.048587) / 2
    assert loss.discriminator(real, fake, 1.0).item() == pytest.approx(expected_d, abs=1e-5)
    assert loss.generator(fake).item() == pytest.approx(-(0.974077 + 0.048587) / 2, abs=1e-5)


def test_non_saturating(logits) -> None:
    real, fake = logits
    loss = get_loss("non_saturating")
    assert loss.discriminator(real, fake, 1.0).item() == pytest.approx(_bce_d(REAL, FAKE), rel=1e-6)
    expected_g = _mean([-_log_sigmoid(f) for f in FAKE])
    assert loss.generator(fake).item() == pytest.approx(expected_g, rel=1e-6)
    assert loss.probabilistic is True


def test_least_squares_defaults(logits) -> None:
    real, fake = logits
    loss = get_loss("least_squares")
    expected_d = 0.5 * _mean([(r - 1.0) ** 2 for r in REAL]) + 0.5 * _mean([(f - 0.0) ** 2 for f in FAKE])
    expected_g = 0.5 * _mean([(f - 1.0) ** 2 for f in FAKE])
    assert loss.discriminator(real, fake, 1.0).item() == pytest.approx(expected_d, rel=1e-6)
    assert loss.generator(fake).item() == pytest.approx(expected_g, rel=1e-6)
    # 0.5 * (1 + 4) / 2 + 0.5 * (0.25 + 9) / 2 = 1.25 + 2.3125
    assert expected_d == pytest.approx(3.5625)
    assert loss.probabilistic is False


def test_least_squares_options(logits) -> None:
    real, fake = logits
    a, b, c = -1.0, 1.0, 0.0
    loss = get_loss("least_squares", a=a, b=b, c=c)
    expected_d = 0.5 * _mean([(r - b) ** 2 for r in REAL]) + 0.5 * _mean([(f - a) ** 2 for f in FAKE])
    expected_g = 0.5 * _mean([(f - c) ** 2 for f in FAKE])
    assert loss.discriminator(real, fake, 1.0).item() == pytest.approx(expected_d, rel=1e-6)
    assert loss.generator(fake).item() == pytest.approx(expected_g, rel=1e-6)


def test_least_squares_options_change_result(logits) -> None:
    real, fake = logits
    default = get_loss("least_squares")
    custom = get_loss("least_squares", a=-1.0, b=1.0, c=0.0)
    assert default.discriminator(real, fake, 1.0).item() != pytest.approx(
        custom.discriminator(real, fake, 1.0).item()
    )
    assert default.generator(fake).item() != pytest.approx(custom.generator(fake).item())
    # b alone moves the real term only.
    only_b = get_loss("least_squares", b=2.0)
    expected = 0.5 * _mean([(r - 2.0) ** 2 for r in REAL]) + 0.5 * _mean([f**2 for f in FAKE])
    assert only_b.discriminator(real, fake, 1.0).item() == pytest.approx(expected, rel=1e-6)


def test_hinge(logits) -> None:
    real, fake = logits
    loss = get_loss("hinge")
    expected_d = _mean([max(0.0, 1 - r) for r in REAL]) + _mean([max(0.0, 1 + f) for f in FAKE])
    assert expected_d == pytest.approx(1.75)  # (0 + 2)/2 + (1.5 + 0)/2
    assert loss.discriminator(real, fake, 1.0).item() == pytest.approx(expected_d, rel=1e-6)
    assert loss.generator(fake).item() == pytest.approx(-_mean(FAKE), rel=1e-6)
    assert loss.probabilistic is False
    assert loss.gradient_penalty_weight == 0.0


def test_wasserstein(logits) -> None:
    real, fake = logits
    loss = get_loss("wasserstein")
    expected_d = _mean(FAKE) - _mean(REAL)
    assert expected_d == pytest.approx(-1.75)
    assert loss.discriminator(real, fake, 1.0).item() == pytest.approx(expected_d, rel=1e-6)
    assert loss.generator(fake).item() == pytest.approx(1.25, rel=1e-6)
    assert loss.probabilistic is False
    assert loss.gradient_penalty_weight == 10.0
    assert get_loss("wasserstein", gp_weight=5.0).gradient_penalty_weight == 5.0


def test_wasserstein_drift(logits) -> None:
    """Progressive GAN's epsilon-drift: E[f] - E[r] + eps E[r^2]; the generator loss is unchanged."""
    real, fake = logits
    loss = get_loss("wasserstein", drift=0.001)
    expected_d = _mean(FAKE) - _mean(REAL) + 0.001 * _mean([r**2 for r in REAL])
    assert expected_d == pytest.approx(-1.75 + 0.001 * 2.5)
    assert loss.discriminator(real, fake, 1.0).item() == pytest.approx(expected_d, rel=1e-6)
    assert loss.generator(fake).item() == pytest.approx(1.25, rel=1e-6)
    assert loss.gradient_penalty_weight == 10.0
    # drift = 0 (the default) is the plain critic loss.
    plain = get_loss("wasserstein", drift=0.0).discriminator(real, fake, 1.0).item()
    assert plain == pytest.approx(-1.75, rel=1e-6)


def test_wasserstein_drift_gradient_pulls_real_scores_to_zero() -> None:
    real = torch.tensor([2.0, -1.0], requires_grad=True)
    get_loss("wasserstein", drift=0.5).discriminator(real, torch.zeros(2), 1.0).backward()
    # d/dr [-mean(r) + 0.5 mean(r^2)] = (-1 + r) / 2
    torch.testing.assert_close(real.grad, torch.tensor([0.5, -1.0]))


def test_wasserstein_negative_drift_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"model\.loss_kwargs\.drift"):
        get_loss("wasserstein", drift=-0.1)


def test_functions_importable_from_the_package() -> None:
    from gan_lightning import losses
    from gan_lightning.losses import adversarial, regularizers

    for name in (
        "bce_discriminator",
        "minimax_generator",
        "non_saturating_generator",
        "least_squares_discriminator",
        "least_squares_generator",
        "hinge_discriminator",
        "linear_generator",
        "wasserstein_discriminator",
    ):
        assert getattr(losses, name) is getattr(adversarial, name)
    assert losses.gradient_penalty is regularizers.gradient_penalty


@pytest.mark.parametrize("name", ["minimax", "non_saturating"])
def test_label_smoothing(name: str, logits) -> None:
    real, fake = logits
    loss = get_loss(name)
    smoothed = loss.discriminator(real, fake, 0.9).item()
    assert smoothed == pytest.approx(_bce_d(REAL, FAKE, t=0.9), rel=1e-6)
    assert smoothed != pytest.approx(loss.discriminator(real, fake, 1.0).item())


def test_bce_real_target_zero_swaps_real_term() -> None:
    """With t = 0 the real term is -log(1 - sigma(r)) = softplus(r)."""
    loss = get_loss("minimax")
    real, fake = torch.tensor([0.7]), torch.tensor([0.0])
    assert loss.discriminator(real, fake, 0.0).item() == pytest.approx(_softplus(0.7) + math.log(2), rel=1e-6)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_huge_logits_are_finite(name: str) -> None:
    loss = get_loss(name)
    big = torch.tensor([1e4, -1e4])
    for real, fake in [(big, big), (big, -big), (-big, big)]:
        d = loss.discriminator(real, fake, 1.0)
        g = loss.generator(fake)
        assert torch.isfinite(d), (name, real, fake, d)
        assert torch.isfinite(g), (name, fake, g)
    if loss.probabilistic:
        d_smoothed = loss.discriminator(big, -big, 0.9)
        assert torch.isfinite(d_smoothed)


def test_huge_logits_bce_values() -> None:
    loss = get_loss("non_saturating")
    # A perfect discriminator: loss ~ 0; a perfectly wrong one: loss ~ |logit|.
    perfect = loss.discriminator(torch.tensor([1e4]), torch.tensor([-1e4]), 1.0).item()
    wrong = loss.discriminator(torch.tensor([-1e4]), torch.tensor([1e4]), 1.0).item()
    assert perfect == pytest.approx(0.0, abs=1e-6)
    assert wrong == pytest.approx(2e4, rel=1e-4)
    assert loss.generator(torch.tensor([-1e4])).item() == pytest.approx(1e4, rel=1e-4)
    assert get_loss("minimax").generator(torch.tensor([-1e4])).item() == pytest.approx(0.0, abs=1e-6)


def test_unknown_loss_lists_names() -> None:
    with pytest.raises(ConfigError) as info:
        get_loss("nope")
    message = str(info.value)
    assert "nope" in message
    for name in LOSSES:
        assert name in message


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [("hinge", {"a": 1.0}), ("least_squares", {"gp_weight": 1.0}), ("minimax", {"c": 0.0})],
)
def test_bad_kwargs(name: str, kwargs: dict) -> None:
    with pytest.raises(ConfigError, match=name):
        get_loss(name, **kwargs)


def _linear_critic(w: torch.Tensor):
    return lambda x: x.flatten(1) @ w


def test_gradient_penalty_linear_critic() -> None:
    torch.manual_seed(0)
    real = torch.randn(4, 3, 2, 2)
    fake = torch.randn(4, 3, 2, 2)
    w = torch.zeros(12)
    w[0], w[1] = 3.0, 4.0  # ||w|| = 5
    penalty = gradient_penalty(_linear_critic(w), real, fake)
    assert penalty.item() == pytest.approx((5.0 - 1.0) ** 2, rel=1e-5)

    w_rand = torch.randn(12)
    expected = (w_rand.norm().item() - 1.0) ** 2
    assert gradient_penalty(_linear_critic(w_rand), real, fake).item() == pytest.approx(expected, rel=1e-5)


def test_gradient_penalty_unit_norm_is_zero() -> None:
    torch.manual_seed(1)
    real, fake = torch.randn(8, 5), torch.randn(8, 5)
    w = torch.randn(5)
    w = w / w.norm()
    assert gradient_penalty(_linear_critic(w), real, fake).item() == pytest.approx(0.0, abs=1e-10)


def test_gradient_penalty_is_differentiable_wrt_critic() -> None:
    """d/dw (||w|| - 1)^2 = 2 (||w|| - 1) w / ||w||: the penalty must train the critic."""
    real, fake = torch.randn(4, 6), torch.randn(4, 6)
    w = torch.tensor([1.0, 2.0, 2.0, 0.0, 0.0, 0.0], requires_grad=True)  # ||w|| = 3
    gradient_penalty(_linear_critic(w), real, fake).backward()
    expected = 2 * (3.0 - 1.0) * w.detach() / 3.0
    torch.testing.assert_close(w.grad, expected)


def test_gradient_penalty_point_dependent_critic() -> None:
    """D(x) = ||x||^2 / 2 has gradient x; with real == fake the interpolate is x for every eps."""
    x = torch.tensor([[3.0, 4.0], [0.6, 0.8], [0.0, 2.0]])
    penalty = gradient_penalty(lambda t: 0.5 * (t**2).sum(dim=1), x, x.clone())
    expected = _mean([(5.0 - 1) ** 2, (1.0 - 1) ** 2, (2.0 - 1) ** 2])
    assert penalty.item() == pytest.approx(expected, rel=1e-5)


def test_score() -> None:
    logits = torch.tensor([-2.0, 0.0, 3.0])
    for name in ("minimax", "non_saturating"):
        torch.testing.assert_close(get_loss(name).score(logits), torch.sigmoid(logits))
        assert get_loss(name).score(torch.tensor([0.0])).item() == pytest.approx(0.5)
    for name in ("least_squares", "hinge", "wasserstein"):
        torch.testing.assert_close(get_loss(name).score(logits), logits)
