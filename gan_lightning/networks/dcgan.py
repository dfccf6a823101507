"""DCGAN networks (Radford et al., 2016) for square images of any side divisible by 4 (28, 32, 64, ...).

Generator: dense projection of z to a ``start x start`` map, then transposed convolutions (kernel 4,
stride 2) that double the side, BatchNorm + ReLU, tanh output. Discriminator: the mirror image with
strided convolutions, LeakyReLU 0.2 and BatchNorm on every layer but the first, then a dense logit.

Sizes follow ``plan`` (:func:`map_sides`). ``v1`` (the constructors' default, the architecture of
checkpoints written before ``plan`` existed) is :func:`conv_plan`: 28 -> 7x7 start and 2 doublings;
32 -> 2x2 and 4; 64 -> 4x4 and 4. ``v2`` (the default of ``conf/model/gan.yaml``) starts G at most
4x4 when the side allows: it prepends upsamplings that go from ceil(s/2) to s, with a kernel-3
transposed convolution when s is odd, so 28 -> 4, 7, 14, 28 (3 upsamplings, 3 strided convolutions
in D: 28 -> 14 -> 7 -> 3); it is ``v1`` at 8, 16, 32 and 64. Widths: in ``v1`` the last hidden map
of G and the first of D have ``base_channels`` channels, doubling towards G's start / D's end (512
for 32x32 with 64); ``v2`` keeps ``v1``'s widest map and halves once more per added layer, so at
28 px with 64: G 128 (4x4), 64 (7x7), 32 (14x14), D 32, 64, 128: the added depth costs no width.

``init``: ``dcgan`` (default) draws weights from N(0, 0.02) and BatchNorm scales from N(1, 0.02)
(Radford et al.); ``default`` keeps PyTorch's initialisation of every layer.

Conditioning (``num_classes``), chosen per network with ``conditioning``:

- generator ``channel``: the label embedding is projected to one extra ``start x start`` channel
  stacked on the first feature map; ``latent``: the embedding is concatenated to z (Mirza &
  Osindero, 2014).
- discriminator ``channel``: the embedding is projected to one extra full-size channel stacked on the
  input image; ``projection``: D(x, y) = w.h(x) + e(y).h(x), the inner product of the class
  embedding with D's features (Miyato & Koyama, 2018), which ties D's score to the label far more
  strongly.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from gan_lightning.errors import ConfigError

MAX_DOUBLINGS = 4
PLANS = ("v1", "v2")
INITS = ("dcgan", "default")


def conv_plan(side: int) -> tuple[int, int]:
    """Return ``(start, doublings)`` with ``start * 2**doublings == side``.

    Uses as many doublings as the side allows, at most 4, keeping ``start >= 2``.
    """
    if side < 8 or side % 4:
        raise ConfigError(
            f"Image size {side} is not supported by the convolutional networks: the side must be a "
            "multiple of 4 and at least 8 (e.g. 28, 32, 64). Set data.image_size accordingly."
        )
    doublings = 0
    while (
        doublings < MAX_DOUBLINGS and side % (2 ** (doublings + 1)) == 0 and side // 2 ** (doublings + 1) >= 2
    ):
        doublings += 1
    return side // 2**doublings, doublings


def map_sides(side: int, plan: str = "v1") -> list[int]:
    """Sides of G's feature maps, from the first (after the dense projection) to the image.

    ``v1``: :func:`conv_plan`'s start doubled to ``side``. ``v2``: ``v1``, then while the first side
    is larger than 4 (and fewer than 4 upsamplings), ceil(first / 2) is put in front of it:
    28 -> [4, 7, 14, 28]; 8, 16, 32 and 64 keep ``v1``'s sides.
    """
    if plan not in PLANS:
        raise ConfigError(
            f"Unknown conv plan '{plan}'. Choose one of: {', '.join(PLANS)} "
            "(model.networks.conv.generator.plan=... and model.networks.conv.discriminator.plan=...)."
        )
    start, doublings = conv_plan(side)
    sides = [start * 2**i for i in range(doublings + 1)]
    if plan == "v2":
        while sides[0] > 4 and len(sides) <= MAX_DOUBLINGS:
            sides.insert(0, (sides[0] + 1) // 2)
    return sides


def _widest(base_channels: int, side: int) -> int:
    """Channels of G's first and D's last feature map: ``v1``'s, whatever the plan.

    ``v1`` gives G's last hidden map and D's first ``base_channels`` channels, doubling towards G's
    start and D's end. The upsamplings (strided convolutions) that ``v2`` adds halve the channels
    further, so at 28 px G has 128, 64, 32 channels at 4x4, 7x7, 14x14 and D 32, 64, 128.
    """
    return base_channels * 2 ** (conv_plan(side)[1] - 1)


def _check_init(init: str) -> str:
    if init not in INITS:
        raise ConfigError(
            f"Unknown init '{init}'. Choose one of: {', '.join(INITS)} "
            "(model.networks.conv.generator.init=... and model.networks.conv.discriminator.init=...)."
        )
    return init


def _check_image_shape(shape: Sequence[int]) -> tuple[int, int]:
    if len(shape) != 3 or shape[1] != shape[2]:
        raise ConfigError(
            f"The convolutional networks need square images shaped (C, H, W), got data shape {tuple(shape)}. "
            "For 2-D toy data use an MLP model (model=gan, or model.arch=mlp)."
        )
    return shape[0], shape[1]


def _label_map(num_classes: int, embed_dim: int | None, side: int) -> nn.Sequential:
    """labels (N,) -> one (N, 1, side, side) channel."""
    dim = embed_dim or num_classes
    return nn.Sequential(
        nn.Embedding(num_classes, dim), nn.Linear(dim, side * side), nn.Unflatten(1, (1, side, side))
    )


def _check_conditioning(value: str, choices: tuple[str, ...], network: str) -> str:
    if value not in choices:
        raise ConfigError(
            f"Unknown {network} conditioning '{value}'. Choose one of: {', '.join(choices)} "
            f"(model.networks.conv.{network}.conditioning=...)."
        )
    return value


def init_dcgan_weights(module: nn.Module) -> None:
    """N(0, 0.02) for (transposed) convolutions and dense layers, N(1, 0.02) for BatchNorm scales."""
    if isinstance(module, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d | nn.BatchNorm1d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class DCGANGenerator(nn.Module):
    """z (N, z_dim) [+ labels (N,)] -> images (N, C, S, S) in [-1, 1]."""

    def __init__(
        self,
        z_dim: int,
        out_shape: Sequence[int],
        base_channels: int = 64,
        num_classes: int | None = None,
        embed_dim: int | None = None,
        conditioning: str = "channel",
        tanh_output: bool = True,
        plan: str = "v1",
        init: str = "dcgan",
    ) -> None:
        super().__init__()
        channels, side = _check_image_shape(out_shape)
        sides = map_sides(side, plan)
        _check_init(init)
        self.start, doublings = sides[0], len(sides) - 1
        width = _widest(base_channels, side)
        self.conditioning = _check_conditioning(conditioning, ("channel", "latent"), "generator")
        latent = num_classes is not None and conditioning == "latent"
        self.label_embedding = nn.Embedding(num_classes, embed_dim or num_classes) if latent else None
        in_dim = z_dim + (self.label_embedding.embedding_dim if latent else 0)
        self.project = nn.Sequential(
            nn.Linear(in_dim, width * self.start**2, bias=False),
            nn.Unflatten(1, (width, self.start, self.start)),
            nn.BatchNorm2d(width),
            nn.ReLU(True),
        )
        channel = num_classes is not None and conditioning == "channel"
        self.label_map = _label_map(num_classes, embed_dim, self.start) if channel else None
        in_ch = width + (1 if self.label_map is not None else 0)
        layers: list[nn.Module] = []
        for i in range(doublings):
            last = i == doublings - 1
            out_ch = channels if last else max(1, width // 2 ** (i + 1))
            kernel = 4 if sides[i + 1] == 2 * sides[i] else 3  # 3: s -> 2s - 1 (e.g. 4 -> 7)
            layers.append(nn.ConvTranspose2d(in_ch, out_ch, kernel, 2, 1, bias=last))
            if not last:
                layers += [nn.BatchNorm2d(out_ch), nn.ReLU(True)]
            in_ch = out_ch
        layers.append(nn.Tanh() if tanh_output else nn.Identity())
        self.upsample = nn.Sequential(*layers)
        if init == "dcgan":  # the label map keeps PyTorch's init: N(0, 0.02)
            self.project.apply(init_dcgan_weights)  # would shrink the label channel to almost nothing
            self.upsample.apply(init_dcgan_weights)

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        if self.label_embedding is not None:
            z = torch.cat([z, self.label_embedding(labels)], dim=1)
        h = self.project(z)
        if self.label_map is not None:
            h = torch.cat([h, self.label_map(labels)], dim=1)
        return self.upsample(h)


class DCGANDiscriminator(nn.Module):
    """images (N, C, S, S) [+ labels (N,)] -> logits (N,)."""

    def __init__(
        self,
        in_shape: Sequence[int],
        base_channels: int = 64,
        num_classes: int | None = None,
        embed_dim: int | None = None,
        conditioning: str = "channel",
        leaky_slope: float = 0.2,
        plan: str = "v1",
        init: str = "dcgan",
    ) -> None:
        super().__init__()
        channels, side = _check_image_shape(in_shape)
        doublings = len(map_sides(side, plan)) - 1
        _check_init(init)
        widest = _widest(base_channels, side)
        self.conditioning = _check_conditioning(conditioning, ("channel", "projection"), "discriminator")
        channel = num_classes is not None and conditioning == "channel"
        self.label_map = _label_map(num_classes, embed_dim, side) if channel else None
        in_ch = channels + (1 if self.label_map is not None else 0)
        layers: list[nn.Module] = []
        final = side
        for i in range(doublings):
            out_ch = max(1, widest // 2 ** (doublings - 1 - i))
            layers.append(nn.Conv2d(in_ch, out_ch, 4, 2, 1, bias=i == 0))  # s -> floor(s / 2)
            if i > 0:
                layers.append(nn.BatchNorm2d(out_ch))
            layers.append(nn.LeakyReLU(leaky_slope, True))
            in_ch, final = out_ch, final // 2
        self.features = nn.Sequential(*layers)
        features = in_ch * final * final
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(features, 1))
        projection = num_classes is not None and conditioning == "projection"
        self.class_embedding = nn.Embedding(num_classes, features) if projection else None
        if init == "dcgan":
            self.features.apply(init_dcgan_weights)
            self.head.apply(init_dcgan_weights)
        if self.class_embedding is not None:
            nn.init.normal_(self.class_embedding.weight, 0.0, 0.02)

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        if self.label_map is not None:
            x = torch.cat([x, self.label_map(labels)], dim=1)
        h = self.features(x).flatten(1)
        logits = self.head(h).squeeze(1)
        if self.class_embedding is not None:
            logits = logits + (self.class_embedding(labels) * h).sum(dim=1)
        return logits
