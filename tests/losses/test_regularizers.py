"""R1, the WGAN-GP gradient penalty and the path-length penalty against hand computations."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from gan_lightning.losses import gradient_penalty, path_length_penalty, r1_penalty

# --- R1 ------------------------------------------------------------------------------------------


def test_r1_linear_critic_is_squared_norm_of_weights() -> None:
    """D(x) = <a, x> + b has gradient a everywhere: R1 = ||a||^2 whatever the batch."""
    a = torch.tensor([1.0, -2.0, 0.5, 3.0, 0.0, 1.0])  # ||a||^2 = 1 + 4 + 0.25 + 9 + 0 + 1 = 15.25
    real = torch.randn(5, 1, 2, 3)
    penalty = r1_penalty(lambda x: x.flatten(1) @ a + 7.0, real)
    assert penalty.item() == pytest.approx(15.25, rel=1e-6)


def test_r1_quadratic_critic() -> None:
    """D(x) = 1/2 ||x||^2 has gradient x: R1 = mean_n ||x_n||^2."""
    real = torch.tensor([[3.0, 4.0], [1.0, 0.0], [0.0, 2.0]])
    penalty = r1_penalty(lambda x: 0.5 * (x**2).sum(dim=1), real)
    assert penalty.item() == pytest.approx((25.0 + 1.0 + 4.0) / 3, rel=1e-6)


def test_r1_sums_over_all_non_batch_dims() -> None:
    """D(x) = sum(c * x^2) over (C, H, W): gradient 2 c x, so R1 = mean_n sum 4 c^2 x^2."""
    torch.manual_seed(0)
    real = torch.randn(3, 2, 2, 2)
    c = torch.rand(2, 2, 2)
    penalty = r1_penalty(lambda x: (c * x**2).flatten(1).sum(dim=1), real)
    expected = (4 * c**2 * real**2).flatten(1).sum(dim=1).mean()
    assert penalty.item() == pytest.approx(expected.item(), rel=1e-5)


def test_r1_backprop_reaches_discriminator_weights() -> None:
    """nn.Linear(6, 1): R1 = ||W||^2, so d R1 / dW = 2 W and the bias gets no gradient."""
    torch.manual_seed(0)
    critic = nn.Linear(6, 1)
    real = torch.randn(4, 6)
    penalty = r1_penalty(lambda x: critic(x).squeeze(1), real)
    assert penalty.item() == pytest.approx((critic.weight**2).sum().item(), rel=1e-6)
    penalty.backward()
    torch.testing.assert_close(critic.weight.grad, 2 * critic.weight.detach())
    assert critic.bias.grad is None or torch.all(critic.bias.grad == 0)


def test_r1_does_not_touch_the_input() -> None:
    """Works on inputs without grad, and never sends a gradient back into ``real``."""
    critic = nn.Linear(3, 1)
    source = torch.randn(2, 3, requires_grad=True)
    real = source * 2.0  # part of some graph
    r1_penalty(lambda x: critic(x).squeeze(1), real).backward()
    assert source.grad is None
    plain = torch.randn(2, 3)
    assert not plain.requires_grad
    assert torch.isfinite(r1_penalty(lambda x: critic(x).squeeze(1), plain))
    assert not plain.requires_grad


# --- the WGAN-GP gradient penalty (moved here from the adversarial losses) ------------------------


def test_gradient_penalty_linear_critic_layer() -> None:
    """A linear critic D(x) = <a, x> + b: (||a|| - 1)^2 for every interpolate."""
    torch.manual_seed(0)
    critic = nn.Linear(12, 1)
    real, fake = torch.randn(4, 3, 2, 2), torch.randn(4, 3, 2, 2)
    penalty = gradient_penalty(lambda x: critic(x.flatten(1)).squeeze(1), real, fake)
    expected = (critic.weight.norm().item() - 1.0) ** 2
    assert penalty.item() == pytest.approx(expected, rel=1e-5)
    penalty.backward()  # d/dW (||W|| - 1)^2 = 2 (||W|| - 1) W / ||W||
    norm = critic.weight.detach().norm()
    torch.testing.assert_close(critic.weight.grad, 2 * (norm - 1) * critic.weight.detach() / norm)


def test_gradient_penalty_uses_the_given_generator() -> None:
    """D(x) = 1/2 ||x||^2: the penalty depends on the interpolates, so on the drawn weights."""
    real, fake = torch.randn(6, 4), torch.randn(6, 4)

    def critic(x: torch.Tensor) -> torch.Tensor:
        return 0.5 * (x**2).sum(dim=1)

    first = gradient_penalty(critic, real, fake, rng=torch.Generator().manual_seed(3))
    again = gradient_penalty(critic, real, fake, rng=torch.Generator().manual_seed(3))
    other = gradient_penalty(critic, real, fake, rng=torch.Generator().manual_seed(4))
    assert first.item() == again.item()
    assert first.item() != other.item()
    eps = torch.rand(6, 1, generator=torch.Generator().manual_seed(3))
    mixed = eps * real + (1 - eps) * fake
    expected = ((mixed.norm(dim=1) - 1) ** 2).mean()
    assert first.item() == pytest.approx(expected.item(), rel=1e-5)


# --- the path-length penalty ------------------------------------------------------------------------

N, D, C, H, W = 4, 5, 2, 3, 3


def _noise(seed: int, shape: tuple[int, ...]) -> torch.Tensor:
    """The y the penalty draws: N(0, I) / sqrt(H * W) from a generator seeded with ``seed``."""
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed)) / math.sqrt(H * W)


def test_path_length_linear_generator_by_hand() -> None:
    """images = (w @ M) reshaped: J^T y = M y, so the lengths are ||M y_n||."""
    torch.manual_seed(0)
    m = torch.randn(D, C * H * W)
    w = torch.randn(N, D, requires_grad=True)
    images = (w @ m).view(N, C, H, W)
    mean = torch.tensor(0.7)
    penalty, new_mean, lengths = path_length_penalty(
        images, w, mean, decay=0.1, rng=torch.Generator().manual_seed(5)
    )
    y = _noise(5, (N, C, H, W)).flatten(1)  # (N, CHW)
    expected_lengths = (y @ m.T).norm(dim=1)  # M y_n for each n
    torch.testing.assert_close(lengths, expected_lengths)
    expected_mean = 0.7 + 0.1 * (expected_lengths.mean().item() - 0.7)
    assert new_mean.item() == pytest.approx(expected_mean, rel=1e-6)
    expected_penalty = ((expected_lengths - expected_mean) ** 2).mean()
    assert penalty.item() == pytest.approx(expected_penalty.item(), rel=1e-5)
    assert not new_mean.requires_grad
    assert mean.item() == pytest.approx(0.7)  # the caller stores the new mean


def test_path_length_per_layer_latents() -> None:
    """w (N, L, D) with images = sum_l w_l @ M_l: lengths = sqrt(mean_l ||M_l y||^2)."""
    torch.manual_seed(1)
    layers = 3
    ms = torch.randn(layers, D, C * H * W)
    w = torch.randn(N, layers, D, requires_grad=True)
    images = torch.einsum("nld,ldk->nk", w, ms).view(N, C, H, W)
    _, _, lengths = path_length_penalty(images, w, torch.tensor(0.0), rng=torch.Generator().manual_seed(2))
    y = _noise(2, (N, C, H, W)).flatten(1)
    squared = torch.stack([(y @ ms[layer].T).pow(2).sum(dim=1) for layer in range(layers)], dim=1)  # (N, L)
    torch.testing.assert_close(lengths, squared.mean(dim=1).sqrt())


def test_path_length_gradient_reaches_the_generator() -> None:
    """The penalty's gradient w.r.t. M equals that of the hand formula."""
    torch.manual_seed(2)
    m = torch.randn(D, C * H * W, requires_grad=True)
    w = torch.randn(N, D, requires_grad=True)
    penalty, new_mean, _ = path_length_penalty(
        (w @ m).view(N, C, H, W), w, torch.tensor(1.0), decay=0.01, rng=torch.Generator().manual_seed(9)
    )
    penalty.backward()
    grad = m.grad.clone()
    assert torch.isfinite(grad).all() and grad.abs().sum() > 0

    m.grad = None
    y = _noise(9, (N, C, H, W)).flatten(1)
    lengths = (y @ m.T).norm(dim=1)
    ((lengths - new_mean) ** 2).mean().backward()
    torch.testing.assert_close(grad, m.grad)


def test_path_length_mean_converges_and_penalty_vanishes_for_an_isometry() -> None:
    """An orthogonal M and large images: ||M y|| ~ sqrt(C) for every y, so the mean tends to it."""
    torch.manual_seed(3)
    size = 16
    q, _ = torch.linalg.qr(torch.randn(size * size, size * size))
    w = torch.randn(2, size * size, requires_grad=True)
    mean = torch.tensor(0.0)
    generator = torch.Generator().manual_seed(0)
    for _ in range(300):
        images = (w @ q).view(2, 1, size, size)
        penalty, mean, lengths = path_length_penalty(images, w, mean, decay=0.05, rng=generator)
    assert mean.item() == pytest.approx(1.0, abs=0.05)  # E||y|| with y ~ N(0, I / (H W)), H W = 256
    assert penalty.item() < 0.01


def test_path_length_generator_reproducible() -> None:
    m = torch.randn(D, C * H * W)
    w = torch.randn(N, D, requires_grad=True)

    def run(seed: int) -> torch.Tensor:
        images = (w @ m).view(N, C, H, W)
        return path_length_penalty(images, w, torch.tensor(0.0), rng=torch.Generator().manual_seed(seed))[2]

    torch.testing.assert_close(run(1), run(1))
    assert not torch.allclose(run(1), run(2))
