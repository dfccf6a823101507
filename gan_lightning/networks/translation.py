"""Image-to-image translation networks: images (N, C, S, S) in [-1, 1] -> (N, C_out, S, S) or logits.

CycleGAN (Zhu et al., 2017), after Johnson et al. (2016):

- :class:`ResnetGenerator`: ``c7s1-64, d128, d256, R256 x n_blocks, u128, u64, c7s1-3``, tanh. ``c7s1-k``
  is a 7x7 stride-1 convolution, ``dk`` a 3x3 stride-2 one, ``uk`` a 3x3 stride-2 transposed one
  (output padding 1, so it exactly doubles the side) and ``Rk`` a residual block of two padded 3x3
  convolutions; all but the last are followed by the norm and ReLU. 6 blocks below 256 px, 9 from 256
  (:func:`default_resnet_blocks`).
- :class:`PatchDiscriminator`: the 70x70 PatchGAN, a fully convolutional D whose output is a map of
  logits, each judging one 70x70 patch of the input (:func:`receptive_field`); its side is
  :func:`patch_output_size` (30 at 256 px, 14 at 128, 6 at 64).

DiscoGAN (Kim et al., 2017), at 64 px and any multiple of 16:

- :class:`EncoderDecoderGenerator`: four stride-2 4x4 convolutions down to ``S / 16`` (LeakyReLU 0.2,
  BatchNorm on all but the first), then four stride-2 4x4 transposed convolutions back (BatchNorm +
  ReLU), tanh.
- :class:`DiscoDiscriminator`: the same encoder, then a convolution covering the whole ``S / 16`` map
  to one logit per image.

Both discriminators' ``forward(x, return_features=True)`` also returns the activations of their
normalised hidden layers (every hidden layer but the first), for DiscoGAN's feature-matching loss.

``norm``: ``instance`` (InstanceNorm without affine parameters or running statistics, as in
CycleGAN), ``batch`` or ``none``. As in the references, a convolution has a bias unless BatchNorm
follows it. ``init``: ``normal`` (default, :func:`init_normal_`: weights from N(0, 0.02), norm
scales from N(1, 0.02), as both references) or ``default`` (PyTorch's own initialisation).
"""

from __future__ import annotations

from torch import Tensor, nn

from gan_lightning.errors import ConfigError

NORMS = ("instance", "batch", "none")
PADDINGS = ("reflect", "replicate", "zero")
INITS = ("normal", "default")
DISCO_HALVINGS = 4


def check_choice(value: str, choices: tuple[str, ...], what: str) -> str:
    if value not in choices:
        raise ConfigError(f"Unknown {what} '{value}'. Choose one of: {', '.join(choices)}.")
    return value


def norm_layer(kind: str, channels: int) -> nn.Module:
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    return nn.Identity()


def init_normal_(module: nn.Module, std: float = 0.02) -> nn.Module:
    """Initialise ``module`` and all its submodules in place; return it.

    (Transposed) convolutions and dense layers: weights from N(0, std), biases 0. Norm layers with
    affine parameters (BatchNorm, affine InstanceNorm, GroupNorm): scales from N(1, std), shifts 0.
    """
    for m in module.modules():
        if isinstance(m, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.modules.batchnorm._NormBase | nn.GroupNorm) and m.weight is not None:
            nn.init.normal_(m.weight, 1.0, std)
            nn.init.zeros_(m.bias)
    return module


def initialise(module: nn.Module, init: str) -> None:
    if init == "normal":
        init_normal_(module)


def check_positive(value: int, what: str) -> None:
    if value < 1:
        raise ConfigError(f"{what} must be at least 1, got {value}.")


# --- CycleGAN: ResNet generator ------------------------------------------------------------------


def check_options(norm: str, init: str, base_channels: int) -> None:
    """The options every translation network takes: its norm, its initialisation, its first width."""
    check_choice(norm, NORMS, "norm")
    check_choice(init, INITS, "init")
    check_positive(base_channels, "base_channels")


def through_blocks(blocks: nn.ModuleList, x: Tensor) -> tuple[Tensor, list[Tensor]]:
    """A discriminator's hidden layers: (the last activation, the activations of every block but the
    first, for DiscoGAN's feature matching)."""
    features = []
    for i, block in enumerate(blocks):
        x = block(x)
        if i > 0:
            features.append(x)
    return x, features


def default_resnet_blocks(image_size: int) -> int:
    """CycleGAN's number of residual blocks: 6 below 256 px (e.g. 128x128), 9 from 256 px."""
    return 9 if image_size >= 256 else 6


class ResnetBlock(nn.Module):
    """``x + f(x)``, ``f`` = pad, 3x3 conv, norm, ReLU, [dropout], pad, 3x3 conv, norm."""

    def __init__(self, channels: int, norm: str = "instance", padding: str = "reflect", dropout: float = 0.0):
        super().__init__()
        mode = "zeros" if padding == "zero" else padding
        bias = norm != "batch"
        layers: list[nn.Module] = [
            nn.Conv2d(channels, channels, 3, padding=1, padding_mode=mode, bias=bias),
            norm_layer(norm, channels),
            nn.ReLU(True),
        ]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        layers += [
            nn.Conv2d(channels, channels, 3, padding=1, padding_mode=mode, bias=bias),
            norm_layer(norm, channels),
        ]
        self.body = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    """CycleGAN's generator: images (N, in_channels, S, S) -> images (N, out_channels, S, S) in [-1, 1].

    Args:
        in_channels, out_channels: channels of the input and output images.
        base_channels: channels of the first and last feature maps (64); each downsampling doubles them.
        n_blocks: residual blocks at the bottleneck; ``None``: :func:`default_resnet_blocks`.
        n_downsampling: stride-2 convolutions (and as many transposed ones back); the side must be
            divisible by ``2 ** n_downsampling``.
        norm: ``instance`` | ``batch`` | ``none``.
        padding: ``reflect`` | ``replicate`` | ``zero``, of every 7x7 and 3x3 stride-1 convolution.
        dropout: dropout probability inside the residual blocks (CycleGAN's ``--no_dropout`` is 0).
        image_size: the side S of the images.
        init: ``normal`` | ``default``.
    """

    def __init__(
        self,
        in_channels: int = 3,
        out_channels: int = 3,
        base_channels: int = 64,
        n_blocks: int | None = None,
        n_downsampling: int = 2,
        norm: str = "instance",
        padding: str = "reflect",
        dropout: float = 0.0,
        image_size: int = 256,
        init: str = "normal",
    ) -> None:
        super().__init__()
        check_options(norm, init, base_channels)
        check_choice(padding, PADDINGS, "padding")
        if n_downsampling < 0:
            raise ConfigError(f"n_downsampling must be at least 0, got {n_downsampling}.")
        divisor = 2**n_downsampling
        smallest = max(2 * divisor, 4)  # the padded convolutions need a side of 2 at the bottleneck
        if image_size < smallest or image_size % divisor:
            raise ConfigError(
                f"Image size {image_size} is not supported by the ResNet generator with {n_downsampling} "
                f"downsamplings: the side must be divisible by {divisor} (2 ** n_downsampling) and at "
                f"least {smallest}. Set e.g. data.image_size=64 (or 128, 256)."
            )
        if not 0.0 <= dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {dropout}.")
        self.n_blocks = default_resnet_blocks(image_size) if n_blocks is None else n_blocks
        if self.n_blocks < 0:
            raise ConfigError(f"n_blocks must be at least 0, got {self.n_blocks}.")
        self.image_size = image_size
        mode = "zeros" if padding == "zero" else padding
        bias = norm != "batch"
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, base_channels, 7, padding=3, padding_mode=mode, bias=bias),
            norm_layer(norm, base_channels),
            nn.ReLU(True),
        )
        down: list[nn.Module] = []
        for i in range(n_downsampling):
            c_in, c_out = base_channels * 2**i, base_channels * 2 ** (i + 1)
            down += [nn.Conv2d(c_in, c_out, 3, 2, 1, bias=bias), norm_layer(norm, c_out), nn.ReLU(True)]
        self.down = nn.Sequential(*down)
        width = base_channels * divisor
        self.blocks = nn.Sequential(
            *(ResnetBlock(width, norm, padding, dropout) for _ in range(self.n_blocks))
        )
        up: list[nn.Module] = []
        for i in range(n_downsampling, 0, -1):
            c_in, c_out = base_channels * 2**i, base_channels * 2 ** (i - 1)
            up += [
                nn.ConvTranspose2d(c_in, c_out, 3, 2, 1, output_padding=1, bias=bias),
                norm_layer(norm, c_out),
                nn.ReLU(True),
            ]
        self.up = nn.Sequential(*up)
        self.head = nn.Sequential(
            nn.Conv2d(base_channels, out_channels, 7, padding=3, padding_mode=mode), nn.Tanh()
        )
        initialise(self, init)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.up(self.blocks(self.down(self.stem(x)))))


# --- CycleGAN: PatchGAN discriminator ------------------------------------------------------------


def _patch_layers(n_layers: int) -> list[tuple[int, int, int]]:
    """(kernel, stride, padding) of the PatchGAN's convolutions."""
    return [(4, 2, 1)] * n_layers + [(4, 1, 1)] * 2


def patch_output_size(image_size: int, n_layers: int = 3) -> int:
    """Side of the PatchGAN's logit map for ``image_size`` inputs (0 when too small).

    Each stride-2 layer maps s to floor(s / 2), each of the two stride-1 ones s to s - 1: 256 -> 30,
    128 -> 14, 64 -> 6 with 3 layers.
    """
    side = image_size
    for kernel, stride, padding in _patch_layers(n_layers):
        if side <= 0:
            return 0
        side = (side + 2 * padding - kernel) // stride + 1
    return max(side, 0)


def receptive_field(n_layers: int = 3) -> int:
    """Side of the input patch that one PatchGAN logit sees: 16, 34, 70, 142 for 1, 2, 3, 4 layers."""
    field = 1
    for kernel, stride, _ in reversed(_patch_layers(n_layers)):
        field = (field - 1) * stride + kernel
    return field


class PatchDiscriminator(nn.Module):
    """CycleGAN's PatchGAN: images (N, C, S, S) -> logits (N, 1, S', S'), S' = :func:`patch_output_size`.

    ``C64`` (no norm) stride 2, ``n_layers - 1`` more stride-2 4x4 convolutions doubling the channels
    up to 8x ``base_channels``, a stride-1 4x4 one (``min(2 ** n_layers, 8) * base_channels``
    channels), norm and LeakyReLU 0.2 after each, then a stride-1 4x4 convolution to one channel.
    With ``return_features`` the forward also returns the ``n_layers`` normalised hidden activations.
    """

    def __init__(
        self,
        in_channels: int = 3,
        base_channels: int = 64,
        n_layers: int = 3,
        norm: str = "instance",
        image_size: int = 256,
        init: str = "normal",
    ) -> None:
        super().__init__()
        check_options(norm, init, base_channels)
        check_positive(n_layers, "n_layers")
        self.output_size = patch_output_size(image_size, n_layers)
        if self.output_size < 1:
            smallest = next(s for s in range(1, 2 ** (n_layers + 3)) if patch_output_size(s, n_layers) >= 1)
            raise ConfigError(
                f"Image size {image_size} is too small for a PatchGAN discriminator with {n_layers} "
                f"layers: the side must be at least {smallest}. Set e.g. data.image_size=64, or fewer "
                "n_layers."
            )
        bias = norm != "batch"
        blocks = [nn.Sequential(nn.Conv2d(in_channels, base_channels, 4, 2, 1), nn.LeakyReLU(0.2, True))]
        c_in = base_channels
        for n in range(1, n_layers + 1):
            c_out = base_channels * min(2**n, 8)
            stride = 2 if n < n_layers else 1
            blocks.append(
                nn.Sequential(
                    nn.Conv2d(c_in, c_out, 4, stride, 1, bias=bias),
                    norm_layer(norm, c_out),
                    nn.LeakyReLU(0.2, True),
                )
            )
            c_in = c_out
        self.blocks = nn.ModuleList(blocks)
        self.head = nn.Conv2d(c_in, 1, 4, 1, 1)
        initialise(self, init)

    def forward(self, x: Tensor, return_features: bool = False) -> Tensor | tuple[Tensor, list[Tensor]]:
        h, features = through_blocks(self.blocks, x)
        logits = self.head(h)
        return (logits, features) if return_features else logits


# --- DiscoGAN -------------------------------------------------------------------------------------


def _check_disco_size(image_size: int, network: str, norm: str) -> None:
    divisor = 2**DISCO_HALVINGS
    smallest = 2 * divisor if norm == "instance" else divisor  # InstanceNorm needs 2x2 maps at least
    if image_size < smallest or image_size % divisor:
        raise ConfigError(
            f"Image size {image_size} is not supported by the DiscoGAN {network}: its {DISCO_HALVINGS} "
            f"halvings need a side divisible by {divisor} (and at least {smallest} with norm={norm}). "
            "Set e.g. data.image_size=64."
        )


def _disco_encoder(in_channels: int, base_channels: int, norm: str) -> nn.ModuleList:
    """Four stride-2 4x4 convolutions, base x 1, 2, 4, 8 channels, LeakyReLU 0.2, no norm on the first."""
    blocks = []
    c_in = in_channels
    for i in range(DISCO_HALVINGS):
        c_out = base_channels * 2**i
        normed = i > 0 and norm != "none"
        layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, 4, 2, 1, bias=not (normed and norm == "batch"))]
        if normed:
            layers.append(norm_layer(norm, c_out))
        layers.append(nn.LeakyReLU(0.2, True))
        blocks.append(nn.Sequential(*layers))
        c_in = c_out
    return nn.ModuleList(blocks)


class EncoderDecoderGenerator(nn.Module):
    """DiscoGAN's generator: images (N, in_channels, S, S) -> images (N, out_channels, S, S) in [-1, 1].

    Encoder: four stride-2 4x4 convolutions (base x 1, 2, 4, 8 channels; LeakyReLU 0.2, norm on all
    but the first) down to ``S / 16`` (4x4 at 64 px). Decoder: four stride-2 4x4 transposed
    convolutions back (base x 4, 2, 1 channels with norm + ReLU, then ``out_channels``), tanh.
    """

    def __init__(
        self,
        in_channels: int = 3,
        out_channels: int = 3,
        base_channels: int = 64,
        image_size: int = 64,
        norm: str = "batch",
        init: str = "normal",
    ) -> None:
        super().__init__()
        check_options(norm, init, base_channels)
        _check_disco_size(image_size, "generator", norm)
        self.encoder = nn.Sequential(*_disco_encoder(in_channels, base_channels, norm))
        bias = norm != "batch"
        layers: list[nn.Module] = []
        for i in range(DISCO_HALVINGS - 1, 0, -1):
            c_in, c_out = base_channels * 2**i, base_channels * 2 ** (i - 1)
            layers += [
                nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=bias),
                norm_layer(norm, c_out),
                nn.ReLU(True),
            ]
        layers += [nn.ConvTranspose2d(base_channels, out_channels, 4, 2, 1), nn.Tanh()]
        self.decoder = nn.Sequential(*layers)
        initialise(self, init)

    def forward(self, x: Tensor) -> Tensor:
        return self.decoder(self.encoder(x))


class DiscoDiscriminator(nn.Module):
    """DiscoGAN's discriminator: images (N, C, S, S) -> logits (N,).

    The generator's encoder (four stride-2 4x4 convolutions, LeakyReLU 0.2, norm on all but the
    first) then a convolution over the whole ``S / 16`` map to one logit. With ``return_features``
    the forward also returns the activations of layers 2, 3 and 4, for the feature-matching loss.
    """

    def __init__(
        self,
        in_channels: int = 3,
        base_channels: int = 64,
        image_size: int = 64,
        norm: str = "batch",
        init: str = "normal",
    ) -> None:
        super().__init__()
        check_options(norm, init, base_channels)
        _check_disco_size(image_size, "discriminator", norm)
        self.blocks = _disco_encoder(in_channels, base_channels, norm)
        final = image_size // 2**DISCO_HALVINGS
        self.head = nn.Conv2d(base_channels * 2 ** (DISCO_HALVINGS - 1), 1, final)
        initialise(self, init)

    def forward(self, x: Tensor, return_features: bool = False) -> Tensor | tuple[Tensor, list[Tensor]]:
        h, features = through_blocks(self.blocks, x)
        logits = self.head(h).flatten(1).squeeze(1)
        return (logits, features) if return_features else logits
