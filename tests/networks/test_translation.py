"""Translation networks: CycleGAN's ResNet G and PatchGAN D, DiscoGAN's G and D; shapes, sizes, init."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gan_lightning.errors import ConfigError
from gan_lightning.networks.translation import (
    DiscoDiscriminator,
    EncoderDecoderGenerator,
    PatchDiscriminator,
    ResnetBlock,
    ResnetGenerator,
    default_resnet_blocks,
    init_normal_,
    patch_output_size,
    receptive_field,
)

BASE = 8


def _n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _n_blocks(module: nn.Module) -> int:
    return sum(isinstance(m, ResnetBlock) for m in module.modules())


# --- ResNet generator ---------------------------------------------------------------------------


@pytest.mark.parametrize("side", [64, 128, 256])
def test_resnet_generator_shape_and_range(side: int) -> None:
    gen = ResnetGenerator(base_channels=BASE, n_blocks=1, image_size=side)
    x = torch.rand(2, 3, side, side) * 2 - 1
    y = gen(x)
    assert y.shape == x.shape
    assert y.abs().max().item() <= 1.0
    assert y.std().item() > 0
    assert isinstance(gen.head[-1], nn.Tanh)


def test_resnet_generator_other_channels_and_options() -> None:
    gen = ResnetGenerator(
        1, 3, BASE, n_blocks=2, n_downsampling=3, norm="batch", padding="zero", dropout=0.5, image_size=32
    )
    assert gen(torch.randn(2, 1, 32, 32)).shape == (2, 3, 32, 32)
    assert sum(isinstance(m, nn.Dropout) for m in gen.modules()) == 2
    assert sum(isinstance(m, nn.BatchNorm2d) for m in gen.modules()) == 1 + 3 + 2 * 2 + 3
    widths = [m.out_channels for m in gen.down if isinstance(m, nn.Conv2d)]
    assert widths == [2 * BASE, 4 * BASE, 8 * BASE]
    gen = ResnetGenerator(base_channels=BASE, n_blocks=1, norm="none", padding="replicate", image_size=16)
    assert gen(torch.randn(1, 3, 16, 16)).shape == (1, 3, 16, 16)


@pytest.mark.parametrize(("side", "blocks"), [(64, 6), (128, 6), (200, 6), (256, 9), (512, 9)])
def test_default_number_of_residual_blocks(side: int, blocks: int) -> None:
    assert default_resnet_blocks(side) == blocks
    gen = ResnetGenerator(base_channels=BASE, image_size=side)
    assert gen.n_blocks == blocks
    assert _n_blocks(gen) == blocks
    assert _n_blocks(ResnetGenerator(base_channels=BASE, n_blocks=2, image_size=side)) == 2


def test_resnet_generator_layers_follow_the_paper() -> None:
    """c7s1-64, d128, d256, R256 x 6, u128, u64, c7s1-3; instance norm without affine or running stats."""
    gen = ResnetGenerator(n_blocks=6, image_size=128)
    convs = [m for m in gen.modules() if isinstance(m, nn.Conv2d | nn.ConvTranspose2d)]
    assert [(m.in_channels, m.out_channels, m.kernel_size[0], m.stride[0]) for m in convs[:3]] == [
        (3, 64, 7, 1), (64, 128, 3, 2), (128, 256, 3, 2)
    ]  # fmt: skip
    assert [(m.in_channels, m.out_channels, m.kernel_size[0], m.stride[0]) for m in convs[-3:]] == [
        (256, 128, 3, 2), (128, 64, 3, 2), (64, 3, 7, 1)
    ]  # fmt: skip
    assert all(m.padding_mode == "reflect" for m in convs if m.kernel_size[0] in (3, 7) and m.stride[0] == 1)
    norms = [m for m in gen.modules() if isinstance(m, nn.InstanceNorm2d)]
    assert len(norms) == 3 + 2 * 6 + 2
    assert all(not m.affine and not m.track_running_stats for m in norms)
    assert _n_params(gen) == 7_837_699  # the reference's 7.838 M with 6 blocks
    assert _n_params(ResnetGenerator(image_size=256)) == 11_378_179  # and 11.378 M with 9


def test_residual_block_adds_its_input() -> None:
    block = ResnetBlock(BASE)
    with torch.no_grad():
        block.body[-2].weight.zero_()
        block.body[-2].bias.zero_()
    x = torch.randn(2, BASE, 8, 8)
    torch.testing.assert_close(block(x), x)  # f(x) = 0 (the norm of a constant map is 0)


@pytest.mark.parametrize(("side", "n_down"), [(30, 2), (62, 2), (4, 2), (0, 2), (36, 3), (2, 0)])
def test_resnet_generator_bad_size(side: int, n_down: int) -> None:
    with pytest.raises(
        ConfigError, match=rf"Image size {side}.*divisible by {2**n_down}.*data.image_size=64"
    ):
        ResnetGenerator(base_channels=BASE, n_blocks=1, n_downsampling=n_down, image_size=side)


def test_resnet_generator_bad_options() -> None:
    with pytest.raises(ConfigError, match="norm 'group'"):
        ResnetGenerator(norm="group", image_size=64)
    with pytest.raises(ConfigError, match="padding 'circular'"):
        ResnetGenerator(padding="circular", image_size=64)
    with pytest.raises(ConfigError, match="init 'xavier'"):
        ResnetGenerator(init="xavier", image_size=64)
    with pytest.raises(ConfigError, match="dropout"):
        ResnetGenerator(dropout=1.0, image_size=64)


# --- PatchGAN -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("side", "out"), [(64, 6), (128, 14), (256, 30)])
def test_patch_discriminator_output_size(side: int, out: int) -> None:
    assert patch_output_size(side, 3) == out
    disc = PatchDiscriminator(base_channels=BASE, image_size=side)
    assert disc.output_size == out
    logits = disc(torch.rand(2, 3, side, side) * 2 - 1)
    assert logits.shape == (2, 1, out, out)
    assert torch.isfinite(logits).all()


@pytest.mark.parametrize("n_layers", [1, 2, 4])
def test_patch_discriminator_other_depths(n_layers: int) -> None:
    disc = PatchDiscriminator(1, BASE, n_layers=n_layers, norm="batch", image_size=64)
    out = patch_output_size(64, n_layers)
    assert out == 64 // 2**n_layers - 2
    assert disc(torch.randn(2, 1, 64, 64)).shape == (2, 1, out, out)
    logits, features = disc(torch.randn(2, 1, 64, 64), return_features=True)
    assert logits.shape == (2, 1, out, out)
    assert len(features) == n_layers


def test_patch_discriminator_layers_follow_the_paper() -> None:
    disc = PatchDiscriminator()
    convs = [m for m in disc.modules() if isinstance(m, nn.Conv2d)]
    assert [(m.in_channels, m.out_channels, m.stride[0]) for m in convs] == [
        (3, 64, 2), (64, 128, 2), (128, 256, 2), (256, 512, 1), (512, 1, 1)
    ]  # fmt: skip
    assert not any(isinstance(m, nn.InstanceNorm2d) for m in disc.blocks[0])
    assert _n_params(disc) == 2_764_737  # the reference's 2.765 M
    widths = [
        m.out_channels
        for m in PatchDiscriminator(base_channels=BASE, n_layers=5).modules()
        if isinstance(m, nn.Conv2d)
    ]
    assert widths == [BASE, 2 * BASE, 4 * BASE, 8 * BASE, 8 * BASE, 8 * BASE, 1]  # capped at 8x


def test_receptive_field() -> None:
    assert receptive_field(3) == 70
    assert [receptive_field(n) for n in (1, 2, 4)] == [16, 34, 142]


@pytest.mark.parametrize(("side", "n_layers"), [(256, 3), (64, 2)])
def test_receptive_field_empirically(side: int, n_layers: int) -> None:
    """One logit's gradient w.r.t. the input is nonzero exactly on a receptive_field-wide square.

    (Without norm: instance norm would spread every logit's gradient over the whole image.)
    """
    disc = PatchDiscriminator(base_channels=4, n_layers=n_layers, norm="none", image_size=side).double()
    x = torch.randn(1, 3, side, side, dtype=torch.float64, requires_grad=True)
    logits = disc(x)
    i = logits.shape[-1] // 2
    logits[0, 0, i, i].backward()
    rows, cols = x.grad[0].abs().sum(0).nonzero(as_tuple=True)
    field = receptive_field(n_layers)
    stride, offset = 2**n_layers, sum(2**k for k in range(n_layers)) + 2 * 2**n_layers
    assert (rows.min().item(), rows.max().item()) == (stride * i - offset, stride * i - offset + field - 1)
    assert (cols.min().item(), cols.max().item()) == (stride * i - offset, stride * i - offset + field - 1)
    assert rows.max().item() - rows.min().item() + 1 == field


@pytest.mark.parametrize(("side", "n_layers"), [(16, 3), (8, 2), (23, 3)])
def test_patch_discriminator_too_small(side: int, n_layers: int) -> None:
    with pytest.raises(ConfigError, match=rf"Image size {side} is too small.*{n_layers} layers.*at least"):
        PatchDiscriminator(image_size=side, n_layers=n_layers)
    assert patch_output_size(side, n_layers) < 1


def test_patch_discriminator_smallest_size_works() -> None:
    disc = PatchDiscriminator(base_channels=BASE, image_size=24)
    assert disc(torch.randn(2, 3, 24, 24)).shape == (2, 1, 1, 1)
    with pytest.raises(ConfigError, match="at least 24"):
        PatchDiscriminator(image_size=23)


def test_patch_discriminator_features() -> None:
    disc = PatchDiscriminator(base_channels=BASE, image_size=64)
    x = torch.randn(2, 3, 64, 64)
    logits, features = disc(x, return_features=True)
    torch.testing.assert_close(logits, disc(x))
    assert [tuple(f.shape) for f in features] == [
        (2, 2 * BASE, 16, 16),
        (2, 4 * BASE, 8, 8),
        (2, 8 * BASE, 7, 7),
    ]
    sum(f.mean() for f in features).backward()
    assert disc.blocks[0][0].weight.grad is not None


# --- DiscoGAN -----------------------------------------------------------------------------------


def test_disco_generator_shape_and_range() -> None:
    gen = EncoderDecoderGenerator(base_channels=BASE)
    x = torch.rand(4, 3, 64, 64) * 2 - 1
    assert gen.encoder(x).shape == (4, 8 * BASE, 4, 4)
    y = gen(x)
    assert y.shape == x.shape
    assert y.abs().max().item() <= 1.0
    assert y.std().item() > 0
    assert isinstance(gen.decoder[-1], nn.Tanh)
    convs = [m for m in gen.modules() if isinstance(m, nn.Conv2d | nn.ConvTranspose2d)]
    assert [(m.in_channels, m.out_channels) for m in convs] == [
        (3, BASE), (BASE, 2 * BASE), (2 * BASE, 4 * BASE), (4 * BASE, 8 * BASE),
        (8 * BASE, 4 * BASE), (4 * BASE, 2 * BASE), (2 * BASE, BASE), (BASE, 3),
    ]  # fmt: skip
    assert sum(isinstance(m, nn.BatchNorm2d) for m in gen.modules()) == 3 + 3
    assert not any(isinstance(m, nn.BatchNorm2d) for m in gen.encoder[0])
    gen = EncoderDecoderGenerator(1, 3, BASE, image_size=32, norm="instance")
    assert gen(torch.randn(2, 1, 32, 32)).shape == (2, 3, 32, 32)


def test_disco_discriminator_logits_and_features() -> None:
    disc = DiscoDiscriminator(base_channels=BASE)
    x = torch.randn(4, 3, 64, 64)
    logits = disc(x)
    assert logits.shape == (4,)
    logits, features = disc(x, return_features=True)
    assert logits.shape == (4,)
    assert [tuple(f.shape) for f in features] == [
        (4, 2 * BASE, 16, 16),
        (4, 4 * BASE, 8, 8),
        (4, 8 * BASE, 4, 4),
    ]
    assert sum(isinstance(m, nn.BatchNorm2d) for m in disc.modules()) == 3
    assert DiscoDiscriminator(1, BASE, image_size=128, norm="none")(torch.randn(2, 1, 128, 128)).shape == (2,)
    assert DiscoDiscriminator(base_channels=BASE, image_size=16)(torch.randn(2, 3, 16, 16)).shape == (2,)
    assert DiscoDiscriminator(base_channels=BASE)(torch.randn(1, 3, 64, 64)).shape == (1,)


def test_disco_networks_train_together() -> None:
    gen, disc = EncoderDecoderGenerator(base_channels=BASE), DiscoDiscriminator(base_channels=BASE)
    logits, features = disc(gen(torch.randn(2, 3, 64, 64)), return_features=True)
    (logits.sum() + sum(f.pow(2).mean() for f in features)).backward()
    for module in (gen, disc):
        for name, param in module.named_parameters():
            assert param.grad is not None and torch.isfinite(param.grad).all(), name


@pytest.mark.parametrize(("side", "norm"), [(48 + 8, "batch"), (8, "batch"), (100, "none"), (16, "instance")])
def test_disco_bad_size(side: int, norm: str) -> None:
    with pytest.raises(
        ConfigError, match=rf"Image size {side}.*generator.*divisible by 16.*data.image_size=64"
    ):
        EncoderDecoderGenerator(image_size=side, norm=norm)
    with pytest.raises(ConfigError, match=rf"Image size {side}.*discriminator.*divisible by 16"):
        DiscoDiscriminator(image_size=side, norm=norm)


# --- init ---------------------------------------------------------------------------------------


def _check_normal(module: nn.Module) -> None:
    convs = [m for m in module.modules() if isinstance(m, nn.Conv2d | nn.ConvTranspose2d)]
    assert convs
    for conv in convs:
        weight = conv.weight.detach()
        tol = 0.2 if weight.numel() < 1000 else 0.05
        assert weight.std().item() == pytest.approx(0.02, rel=tol)
        assert weight.mean().item() == pytest.approx(0.0, abs=0.005)
        if conv.bias is not None:
            assert torch.count_nonzero(conv.bias) == 0
    for bn in (m for m in module.modules() if isinstance(m, nn.BatchNorm2d)):
        assert bn.weight.detach().mean().item() == pytest.approx(1.0, abs=0.02)
        assert bn.weight.detach().std().item() == pytest.approx(0.02, abs=0.015)
        assert torch.count_nonzero(bn.bias) == 0


NETWORKS = {
    "resnet": lambda **kw: ResnetGenerator(base_channels=16, n_blocks=2, image_size=64, **kw),
    "resnet-batch": lambda **kw: ResnetGenerator(
        base_channels=16, n_blocks=2, image_size=64, norm="batch", **kw
    ),
    "patch": lambda **kw: PatchDiscriminator(base_channels=16, image_size=64, **kw),
    "disco-g": lambda **kw: EncoderDecoderGenerator(base_channels=16, **kw),
    "disco-d": lambda **kw: DiscoDiscriminator(base_channels=16, **kw),
}


@pytest.mark.parametrize("name", NETWORKS)
def test_normal_init(name: str) -> None:
    _check_normal(NETWORKS[name]())
    default = NETWORKS[name](init="default")
    first = next(m for m in default.modules() if isinstance(m, nn.Conv2d))
    bound = 1 / first.weight[0].numel() ** 0.5  # PyTorch's kaiming-uniform(a = sqrt(5))
    assert first.weight.abs().max().item() <= bound
    assert first.weight.std().item() == pytest.approx(bound / 3**0.5, rel=0.25)
    with pytest.raises(ConfigError, match="init 'dcgan'"):
        NETWORKS[name](init="dcgan")


def test_init_normal_helper() -> None:
    net = nn.Sequential(
        nn.Conv2d(16, 32, 3),
        nn.BatchNorm2d(32),
        nn.InstanceNorm2d(32, affine=True),
        nn.InstanceNorm2d(32),
        nn.Linear(64, 64),
    )
    assert init_normal_(net) is net
    _check_normal(net)
    assert net[2].weight.mean().item() == pytest.approx(1.0, abs=0.02)
    assert net[4].weight.std().item() == pytest.approx(0.02, rel=0.05)
    assert torch.count_nonzero(net[4].bias) == 0
    init_normal_(net, std=0.1)
    assert net[0].weight.std().item() == pytest.approx(0.1, rel=0.1)
