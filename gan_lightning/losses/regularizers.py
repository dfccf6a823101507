"""Gradient regularizers: WGAN-GP, R1 and StyleGAN2's path-length penalty.

Each returns the raw penalty (a scalar with a graph, so it can be backpropagated); the training step
multiplies it by its weight. All three differentiate through a network's input with
``create_graph=True`` (a double backward), which is best done in float32. The network runs with
PyTorch's math attention kernel there: the fused (flash / memory-efficient) kernels of
``scaled_dot_product_attention`` have no double backward (transformer discriminators, TransGAN).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor
from torch.nn.attention import SDPBackend, sdpa_kernel

__all__ = ["gradient_penalty", "r1_penalty", "path_length_penalty"]


def gradient_penalty(
    critic: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor, rng: torch.Generator | None = None
) -> Tensor:
    """E[(||grad_x D(x_hat)||_2 - 1)^2] on random interpolates x_hat = e x + (1 - e) G(z), e ~ U[0, 1].

    WGAN-GP, Gulrajani et al. (2017).

    Args:
        critic: maps a batch shaped like ``real`` to logits (N,); labels, if any, already bound.
        real, fake: (N, ...) batches of equal shape; ``fake`` should be detached.
        rng: random source of the mixing weights e (default: torch's global one).
    """
    shape = (real.size(0), *([1] * (real.dim() - 1)))
    eps = torch.rand(shape, device=real.device, dtype=real.dtype, generator=rng)
    mixed = (eps * real + (1.0 - eps) * fake).requires_grad_(True)
    with sdpa_kernel(SDPBackend.MATH):  # twice differentiable attention
        scores = critic(mixed)
    (grads,) = torch.autograd.grad(scores.sum(), mixed, create_graph=True)
    return ((grads.flatten(1).norm(2, dim=1) - 1.0) ** 2).mean()


def r1_penalty(discriminator: Callable[[Tensor], Tensor], real: Tensor) -> Tensor:
    """R1 of Mescheder et al. (2018): E_x[||grad_x D(x)||_2^2] on real samples x.

    The squared gradient is summed over every non-batch dimension and averaged over the batch. The
    caller multiplies the result by gamma / 2 (R1 = gamma / 2 * E||grad D||^2; gamma = 10 is common).

    Args:
        discriminator: maps a batch shaped like ``real`` to logits (N,); labels, if any, already bound.
        real: (N, ...) real samples. They are used through a detached copy that requires grad, so
            ``real`` need not require grad, and nothing flows back into whatever produced it.

    Returns:
        A scalar with a graph (``create_graph=True``): its backward reaches D's parameters.
    """
    x = real.detach().requires_grad_(True)
    with sdpa_kernel(SDPBackend.MATH):  # twice differentiable attention
        scores = discriminator(x)
    (grads,) = torch.autograd.grad(scores.sum(), x, create_graph=True)
    return grads.pow(2).flatten(1).sum(dim=1).mean()


def path_length_penalty(
    images: Tensor,
    w: Tensor,
    mean: Tensor,
    decay: float = 0.01,
    rng: torch.Generator | None = None,
) -> tuple[Tensor, Tensor, Tensor]:
    """StyleGAN2's path-length regularizer (Karras et al. 2020): E[(||J_w^T y||_2 - a)^2].

    ``y ~ N(0, I) / sqrt(H * W)`` is image-shaped noise, ``J_w^T y`` the gradient of
    ``(images * y).sum()`` with respect to ``w``, and ``a`` the running mean of the lengths.

    Args:
        images: (N, C, H, W) = g(w), produced from ``w`` (which must require grad).
        w: (N, D) latents, or (N, L, D) with one latent per layer: then the squared gradient is
            summed over D and averaged over L before the square root.
        mean: scalar running mean ``a`` of the lengths (the caller keeps it as a buffer).
        decay: a_new = a + decay * (mean length of this batch - a).
        rng: random source of ``y``; it is drawn on the generator's device and then moved to
            the images' device (default: torch's global generator on the images' device).

    Returns:
        ``(penalty, new_mean, lengths)``: the scalar penalty E[(lengths - a_new)^2] with a graph (the
        caller multiplies it by its weight), the updated mean (no graph; store it back into the
        buffer), and the lengths (N,).
    """
    where = rng.device if rng is not None else images.device
    pixels = math.prod(images.shape[2:])
    y = torch.randn(images.shape, generator=rng, device=where)
    y = y.to(device=images.device, dtype=images.dtype) / math.sqrt(pixels)
    (grads,) = torch.autograd.grad((images * y).sum(), w, create_graph=True)
    squared = grads.pow(2).sum(dim=-1)
    if squared.dim() > 1:
        squared = squared.flatten(1).mean(dim=1)
    lengths = squared.sqrt()
    new_mean = mean + decay * (lengths.mean().detach() - mean)
    penalty = (lengths - new_mean).pow(2).mean()
    return penalty, new_mean.detach(), lengths
