"""Exponential moving average of network weights (Karras et al. 2018; StyleGAN2-ADA's half-life form).

After every generator step each averaged weight moves towards the trained one,
``w_ema <- beta * w_ema + (1 - beta) * w`` with ``beta = 0.5 ** (batch / (half_life_kimg * 1000))``:
the average forgets half of its past every ``half_life_kimg`` thousand images. With ``rampup`` the
half-life is at most ``rampup`` times the images seen so far, so early averages do not drag along
the random initial weights. Buffers (BatchNorm statistics, spectral-norm vectors) are copied, not
averaged.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


class NetworkEMA(nn.Module):
    """Averaged copies of some networks, in ``self.networks[name]`` (saved in checkpoints).

    Args:
        networks: the trained networks to average, by name; each is copied once here.
        half_life_kimg: half-life in thousands of images (StyleGAN2-ADA uses 10; 500 for CIFAR).
        rampup: ``None``, or the largest half-life as a fraction of the images seen (e.g. 0.05).
    """

    def __init__(
        self, networks: dict[str, nn.Module], half_life_kimg: float, rampup: float | None = None
    ) -> None:
        super().__init__()
        self.half_life_kimg = half_life_kimg
        self.rampup = rampup
        self.networks = nn.ModuleDict({name: copy.deepcopy(net) for name, net in networks.items()})
        self.networks.requires_grad_(False)

    def beta(self, batch_images: int, images_seen: int) -> float:
        """The decay for a step of ``batch_images`` images after ``images_seen`` images."""
        half_life = self.half_life_kimg * 1000.0
        if self.rampup is not None:
            half_life = min(half_life, images_seen * self.rampup)
        return 0.5 ** (batch_images / max(half_life, 1e-8))

    @torch.no_grad()
    def update(self, networks: dict[str, nn.Module], batch_images: int, images_seen: int) -> float:
        """Move every average towards its trained network; return the beta used."""
        beta = self.beta(batch_images, images_seen)
        for name, trained in networks.items():
            average = self.networks[name]
            # One multi-tensor kernel per list on an accelerator (on the CPU the same per-tensor ops).
            averaged, weights = list(average.parameters()), [p.detach() for p in trained.parameters()]
            _check_same_length(averaged, weights, name)
            torch._foreach_lerp_(averaged, weights, 1.0 - beta)
            copies, buffers = list(average.buffers()), list(trained.buffers())
            _check_same_length(copies, buffers, name)
            if copies:
                torch._foreach_copy_(copies, buffers)
        return beta

    @torch.no_grad()
    def reset_to(self, networks: dict[str, nn.Module]) -> None:
        """Make the averages equal to the trained networks (after loading new weights)."""
        for name, trained in networks.items():
            self.networks[name].load_state_dict(trained.state_dict())


def _check_same_length(averages: list, trained: list, name: str) -> None:
    if len(averages) != len(trained):
        raise ValueError(f"The EMA copy of {name} has {len(averages)} tensors, the network {len(trained)}.")
