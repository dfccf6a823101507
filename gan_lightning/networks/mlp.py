"""Fully connected generator and discriminator (Goodfellow et al., 2014), optionally label-conditioned.

Conditioning (cGAN, Mirza & Osindero, 2014): a learned label embedding is concatenated with z in the
generator and with the flattened sample in the discriminator.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn


def _hidden_stack(
    in_dim: int, widths: Sequence[int], slope: float, dropout: float, batch_norm: bool
) -> nn.Sequential:
    layers: list[nn.Module] = []
    for width in widths:
        layers.append(nn.Linear(in_dim, width))
        if batch_norm:
            layers.append(nn.BatchNorm1d(width))
        layers.append(nn.LeakyReLU(slope))
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        in_dim = width
    return nn.Sequential(*layers)


class MLPGenerator(nn.Module):
    """z (N, z_dim) [+ labels (N,)] -> samples (N, *out_shape), in [-1, 1] when ``tanh_output``."""

    def __init__(
        self,
        z_dim: int,
        out_shape: Sequence[int],
        hidden_dims: Sequence[int] = (256, 512, 1024),
        num_classes: int | None = None,
        embed_dim: int | None = None,
        leaky_slope: float = 0.2,
        dropout: float = 0.0,
        batch_norm: bool = False,
        tanh_output: bool = True,
    ) -> None:
        super().__init__()
        self.out_shape = tuple(out_shape)
        self.embed = nn.Embedding(num_classes, embed_dim or num_classes) if num_classes else None
        in_dim = z_dim + (self.embed.embedding_dim if self.embed is not None else 0)
        self.body = _hidden_stack(in_dim, hidden_dims, leaky_slope, dropout, batch_norm)
        last = hidden_dims[-1] if hidden_dims else in_dim
        self.head = nn.Linear(last, math.prod(self.out_shape))
        self.out_act = nn.Tanh() if tanh_output else nn.Identity()

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        if self.embed is not None:
            z = torch.cat([z, self.embed(labels)], dim=1)
        x = self.out_act(self.head(self.body(z)))
        return x.view(z.size(0), *self.out_shape)


class MLPDiscriminator(nn.Module):
    """samples (N, *in_shape) [+ labels (N,)] -> logits (N,)."""

    def __init__(
        self,
        in_shape: Sequence[int],
        hidden_dims: Sequence[int] = (1024, 512, 256),
        num_classes: int | None = None,
        embed_dim: int | None = None,
        leaky_slope: float = 0.2,
        dropout: float = 0.3,
    ) -> None:
        super().__init__()
        self.embed = nn.Embedding(num_classes, embed_dim or num_classes) if num_classes else None
        in_dim = math.prod(in_shape) + (self.embed.embedding_dim if self.embed is not None else 0)
        self.body = _hidden_stack(in_dim, hidden_dims, leaky_slope, dropout, batch_norm=False)
        self.head = nn.Linear(hidden_dims[-1] if hidden_dims else in_dim, 1)

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        h = x.flatten(1)
        if self.embed is not None:
            h = torch.cat([h, self.embed(labels)], dim=1)
        return self.head(self.body(h)).squeeze(1)
