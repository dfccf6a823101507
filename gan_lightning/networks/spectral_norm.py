"""Spectral normalization of a network's weights (Miyato et al., 2018).

Every convolution, transposed convolution and dense layer gets its weight divided by its largest
singular value, estimated by one power iteration per training forward pass (PyTorch's
parametrization; the power-iteration vectors are buffers, so they are saved and resumed).
"""

from __future__ import annotations

from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

SPECTRAL_NORM_CHOICES = ("none", "discriminator", "both")
NORMALIZED_LAYERS = (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)


def apply_spectral_norm(network: nn.Module) -> nn.Module:
    """Spectral-normalize every conv / transposed conv / dense layer of ``network`` in place."""
    for module in list(network.modules()):
        if isinstance(module, NORMALIZED_LAYERS):
            spectral_norm(module)
    return network
