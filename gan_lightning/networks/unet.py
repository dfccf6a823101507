"""pix2pix's U-Net generator (Isola et al. 2017, after Ronneberger et al. 2015).

An encoder-decoder with skip connections: images (N, C_in, S, S) -> images (N, C_out, S, S) in [-1, 1].
The encoder halves the side ``depth`` times with 4x4 stride-2 convolutions (``C64-C128-C256-C512-C512
...``, channels doubling from ``base_channels`` up to ``8 x base_channels``), each preceded by
LeakyReLU 0.2 (but the first) and followed by the norm (but the first and the innermost); the decoder
mirrors it with 4x4 stride-2 transposed convolutions preceded by ReLU and followed by the norm, and
every decoder layer but the innermost sees its encoder twin's activations concatenated to its input
(after the LeakyReLU: the reference's in-place activation leaves its skip tensors activated too).
The last layer has no norm and ends in tanh. Dropout (0.5) after the norm of the decoder layers at the
widest depth but the innermost is the only noise: pix2pix gives G no z, and the dropout is its source
of stochasticity (the paper's "noise in the form of dropout").

At ``depth = log2(S)`` the innermost features are 1x1 (``unet_256`` at 256 px: 8 halvings; 6 at 64 px),
the reference's choice; a smaller ``depth`` stops earlier. Where this differs from junyanz's code: the
norm is chosen by name (``batch``, the reference's pix2pix default, ``instance`` or ``none``) and a
convolution keeps its bias unless BatchNorm follows it, as there.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_lightning.errors import ConfigError
from gan_lightning.networks.translation import check_options, initialise, norm_layer

MAX_WIDTH_FACTOR = 8  # channels stop doubling at 8 x base_channels (512 for 64)


class UNetGenerator(nn.Module):
    """pix2pix's generator: images (N, in_channels, S, S) -> images (N, out_channels, S, S) in [-1, 1].

    Args:
        in_channels, out_channels: channels of the source and the generated image.
        image_size: the side S; it must be divisible by ``2 ** depth``.
        base_channels: channels of the first encoder layer (64 in the paper).
        depth: stride-2 halvings; ``None``: ``log2(S)`` (1x1 innermost features; S a power of 2).
        norm: ``batch`` | ``instance`` | ``none``.
        dropout: dropout probability in the widest decoder layers (0.5 in the paper; 0: deterministic).
        init: ``normal`` (weights N(0, 0.02), as the reference) | ``default``.
    """

    def __init__(
        self,
        in_channels: int = 3,
        out_channels: int = 3,
        image_size: int = 256,
        base_channels: int = 64,
        depth: int | None = None,
        norm: str = "batch",
        dropout: float = 0.5,
        init: str = "normal",
    ) -> None:
        super().__init__()
        check_options(norm, init, base_channels)
        self.depth = _depth(image_size, depth)
        if not 0.0 <= dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {dropout}.")
        widths = [base_channels * min(2**i, MAX_WIDTH_FACTOR) for i in range(self.depth)]
        bias = norm != "batch"
        innermost = self.depth - 1
        self.down = nn.ModuleList()  # each layer after the first takes LeakyReLU(0.2) of the last one
        for i, width in enumerate(widths):
            layers: list[nn.Module] = [
                nn.Conv2d(in_channels if i == 0 else widths[i - 1], width, 4, 2, 1, bias=bias)
            ]
            if 0 < i < innermost:
                layers.append(norm_layer(norm, width))
            self.down.append(nn.Sequential(*layers))
        self.up = nn.ModuleList()
        for i in range(innermost, -1, -1):  # from the innermost outwards
            c_in = widths[i] if i == innermost else 2 * widths[i]  # with the skip from the encoder
            if i == 0:
                self.up.append(
                    nn.Sequential(nn.ReLU(True), nn.ConvTranspose2d(c_in, out_channels, 4, 2, 1), nn.Tanh())
                )
                continue
            layers = [nn.ReLU(True), nn.ConvTranspose2d(c_in, widths[i - 1], 4, 2, 1, bias=bias)]
            layers.append(norm_layer(norm, widths[i - 1]))
            # dropout where the reference has it: the decoder layers of the widest channels but the
            # innermost (num_downs - 5 of them at 1x1-deep U-Nets)
            if dropout > 0 and i < innermost and widths[i] == widths[-1] and widths[i - 1] == widths[-1]:
                layers.append(nn.Dropout(dropout))
            self.up.append(nn.Sequential(*layers))
        initialise(self, init)

    def forward(self, x: Tensor) -> Tensor:
        skips = []
        for layer in self.down[:-1]:
            x = F.leaky_relu(layer(x), 0.2)  # the next layer's input and the decoder's skip alike
            skips.append(x)
        x = self.down[-1](x)  # the innermost features go straight up
        for layer in self.up:
            x = layer(x)
            if skips:
                x = torch.cat([skips.pop(), x], dim=1)
        return x


def _depth(image_size: int, depth: int | None) -> int:
    if depth is None:
        if image_size < 2 or image_size & (image_size - 1):
            raise ConfigError(
                f"The U-Net generator halves the side down to 1x1 by default, which needs a power of two; "
                f"got data.image_size={image_size}. Use e.g. 64, 128 or 256, or set "
                "model.networks.generator.depth=N with the side divisible by 2 ** N."
            )
        return int(math.log2(image_size))
    if depth < 2 or image_size % 2**depth:
        raise ConfigError(
            f"model.networks.generator.depth={depth}: the U-Net needs at least 2 halvings and a side "
            f"divisible by 2 ** depth = {2 ** max(depth, 0)}; data.image_size is {image_size}."
        )
    return depth
