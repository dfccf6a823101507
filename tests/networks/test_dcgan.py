"""DCGAN networks: size plans, shapes and ranges at every supported size, conditioning, init."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gan_lightning.errors import ConfigError
from gan_lightning.networks import DCGANDiscriminator, DCGANGenerator, build_networks
from gan_lightning.networks.dcgan import conv_plan, map_sides

Z_DIM = 16
SHAPES = [(1, 28, 28), (3, 32, 32), (3, 64, 64), (1, 16, 16), (3, 8, 8)]


@pytest.mark.parametrize(
    ("side", "plan"), [(28, (7, 2)), (32, (2, 4)), (64, (4, 4)), (16, (2, 3)), (8, (2, 2))]
)
def test_conv_plan(side: int, plan: tuple[int, int]) -> None:
    assert conv_plan(side) == plan
    start, doublings = plan
    assert start * 2**doublings == side


@pytest.mark.parametrize("side", [30, 4, 6, 0, 33])
def test_conv_plan_unsupported(side: int) -> None:
    with pytest.raises(ConfigError, match="multiple of 4"):
        conv_plan(side)


@pytest.mark.parametrize("side", [30, 4, 6])
def test_unsupported_size_in_networks(side: int) -> None:
    with pytest.raises(ConfigError, match="multiple of 4"):
        build_networks("conv", Z_DIM, (3, side, side))


@pytest.mark.parametrize("shape", [(2,), (28, 28), (1, 28, 32), (3, 32, 16)])
def test_non_square_or_2d_shape_mentions_mlp(shape: tuple[int, ...]) -> None:
    with pytest.raises(ConfigError, match="MLP"):
        DCGANGenerator(Z_DIM, shape)
    with pytest.raises(ConfigError, match="MLP"):
        DCGANDiscriminator(shape)


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("num_classes", [None, 10], ids=["uncond", "cond"])
def test_shapes_and_range(shape: tuple[int, int, int], num_classes: int | None) -> None:
    gen, disc = build_networks(
        "conv", Z_DIM, shape, num_classes=num_classes, generator_kwargs={"base_channels": 32}
    )
    assert isinstance(gen, DCGANGenerator)
    assert isinstance(disc, DCGANDiscriminator)
    n = 3
    labels = torch.tensor([0, 4, 9]) if num_classes else None
    x = gen(torch.randn(n, Z_DIM), labels)
    assert x.shape == (n, *shape)
    assert x.min().item() >= -1.0
    assert x.max().item() <= 1.0
    assert x.std().item() > 0
    logits = disc(x, labels)
    assert logits.shape == (n,)
    assert torch.isfinite(logits).all()
    # The discriminator also takes real-range images directly.
    assert disc(torch.rand(n, *shape) * 2 - 1, labels).shape == (n,)


@pytest.mark.parametrize(
    ("shape", "project_shape"),
    [((3, 32, 32), (512, 2, 2)), ((3, 64, 64), (512, 4, 4)), ((1, 28, 28), (128, 7, 7))],
)
def test_first_feature_map(shape: tuple[int, int, int], project_shape: tuple[int, int, int]) -> None:
    gen = DCGANGenerator(128, shape, base_channels=64)
    assert gen.project(torch.randn(2, 128)).shape == (2, *project_shape)


def test_cifar_generator_first_map_is_2x2x512() -> None:
    gen, _ = build_networks("conv", 128, (3, 32, 32))
    assert gen.start == 2
    assert gen.project(torch.randn(4, 128)).shape == (4, 512, 2, 2)
    assert gen(torch.randn(4, 128)).shape == (4, 3, 32, 32)


def test_tanh_bounds_even_large_activations() -> None:
    gen = DCGANGenerator(Z_DIM, (1, 16, 16), base_channels=8)
    assert isinstance(gen.upsample[-1], nn.Tanh)
    last_conv = [m for m in gen.upsample if isinstance(m, nn.ConvTranspose2d)][-1]
    with torch.no_grad():
        last_conv.weight.mul_(1e4)
        x = gen(torch.randn(4, Z_DIM))
    assert x.abs().max().item() <= 1.0
    assert x.abs().max().item() > 0.99


def test_tanh_output_false() -> None:
    gen = DCGANGenerator(Z_DIM, (1, 16, 16), base_channels=8, tanh_output=False)
    assert isinstance(gen.upsample[-1], nn.Identity)
    last_conv = [m for m in gen.upsample if isinstance(m, nn.ConvTranspose2d)][-1]
    with torch.no_grad():
        last_conv.weight.mul_(1e4)
    assert gen(torch.randn(4, Z_DIM)).abs().max().item() > 1.0


@pytest.mark.parametrize("shape", [(3, 32, 32), (1, 28, 28)])
def test_conditioning_changes_generator_output(shape: tuple[int, int, int]) -> None:
    gen = DCGANGenerator(Z_DIM, shape, base_channels=16, num_classes=10).eval()
    z = torch.randn(1, Z_DIM).repeat(10, 1)
    with torch.no_grad():
        x = gen(z, torch.arange(10))
        same = gen(z, torch.zeros(10, dtype=torch.long))
    for k in range(1, 10):
        assert (x[0] - x[k]).abs().max().item() > 1e-6, k
    torch.testing.assert_close(same[0], same[5])


def test_conditioning_changes_discriminator_output() -> None:
    disc = DCGANDiscriminator((1, 28, 28), base_channels=16, num_classes=10).eval()
    x = torch.randn(1, 1, 28, 28).repeat(10, 1, 1, 1)
    with torch.no_grad():
        logits = disc(x, torch.arange(10))
    assert len(set(logits.tolist())) == 10


def test_dcgan_init() -> None:
    gen, disc = build_networks("conv", 100, (3, 64, 64))
    convs = [m for net in (gen, disc) for m in net.modules() if isinstance(m, nn.Conv2d | nn.ConvTranspose2d)]
    assert len(convs) == 8
    for conv in convs:
        weight = conv.weight.detach()
        tol = 0.004 if weight.numel() < 10_000 else 0.001
        assert weight.std().item() == pytest.approx(0.02, abs=tol)
        assert weight.mean().item() == pytest.approx(0.0, abs=0.003)
        if conv.bias is not None:
            assert torch.count_nonzero(conv.bias) == 0
    linears = [m for net in (gen, disc) for m in net.modules() if isinstance(m, nn.Linear)]
    for linear in linears:
        assert linear.weight.detach().std().item() == pytest.approx(0.02, abs=0.002)
    norms = [m for net in (gen, disc) for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    assert norms
    for bn in norms:
        assert bn.weight.detach().mean().item() == pytest.approx(1.0, abs=0.01)
        assert bn.weight.detach().std().item() == pytest.approx(0.02, abs=0.01)
        assert torch.count_nonzero(bn.bias) == 0


def test_layer_structure_32() -> None:
    gen = DCGANGenerator(Z_DIM, (3, 32, 32))
    channels = [(m.in_channels, m.out_channels) for m in gen.upsample if isinstance(m, nn.ConvTranspose2d)]
    assert channels == [(512, 256), (256, 128), (128, 64), (64, 3)]
    disc = DCGANDiscriminator((3, 32, 32))
    channels = [(m.in_channels, m.out_channels) for m in disc.features if isinstance(m, nn.Conv2d)]
    assert channels == [(3, 64), (64, 128), (128, 256), (256, 512)]
    # BatchNorm on every discriminator layer but the first.
    assert not isinstance(disc.features[1], nn.BatchNorm2d)
    assert sum(isinstance(m, nn.BatchNorm2d) for m in disc.features) == 3
    assert disc.head[1].in_features == 512 * 2 * 2


def test_conditional_adds_one_channel() -> None:
    gen = DCGANGenerator(Z_DIM, (1, 28, 28), base_channels=16, num_classes=10)
    first = next(m for m in gen.upsample if isinstance(m, nn.ConvTranspose2d))
    assert first.in_channels == 32 + 1
    disc = DCGANDiscriminator((1, 28, 28), base_channels=16, num_classes=10)
    assert disc.features[0].in_channels == 2


@pytest.mark.parametrize("num_classes", [None, 10])
def test_gradients_flow(num_classes: int | None) -> None:
    gen, disc = build_networks(
        "conv",
        Z_DIM,
        (3, 32, 32),
        num_classes=num_classes,
        generator_kwargs={"base_channels": 16},
        discriminator_kwargs={"base_channels": 16},
    )
    labels = torch.tensor([1, 2, 3, 4]) if num_classes else None
    disc(gen(torch.randn(4, Z_DIM), labels), labels).sum().backward()
    for module in (gen, disc):
        for name, param in module.named_parameters():
            assert param.grad is not None, name
            assert torch.isfinite(param.grad).all(), name
        assert any(p.grad.abs().sum() > 0 for p in module.parameters())


def test_unknown_arch_lists_choices() -> None:
    with pytest.raises(ConfigError, match="dcgan") as info:
        build_networks("dcgan", Z_DIM, (3, 32, 32))
    assert "mlp" in str(info.value)
    assert "conv" in str(info.value)


@pytest.mark.parametrize(
    "kwargs",
    [{"generator_kwargs": {"hidden_dims": [8]}}, {"discriminator_kwargs": {"dropout": 0.1}}],
)
def test_bad_kwarg(kwargs: dict) -> None:
    with pytest.raises(ConfigError, match="conv"):
        build_networks("conv", Z_DIM, (1, 28, 28), **kwargs)


@pytest.mark.parametrize(("g_mode", "d_mode"), [("latent", "projection"), ("channel", "projection")])
def test_other_conditionings_use_the_label(g_mode: str, d_mode: str) -> None:
    torch.manual_seed(0)
    gen = DCGANGenerator(Z_DIM, (1, 28, 28), base_channels=8, num_classes=10, conditioning=g_mode)
    disc = DCGANDiscriminator((1, 28, 28), base_channels=8, num_classes=10, conditioning=d_mode)
    z = torch.randn(4, Z_DIM)
    zeros, threes = torch.zeros(4, dtype=torch.long), torch.full((4,), 3)
    images = gen(z, zeros)
    assert images.shape == (4, 1, 28, 28)
    assert not torch.allclose(images, gen(z, threes))  # the label changes the sample...
    assert not torch.allclose(disc(images, zeros), disc(images, threes))  # ...and D's score
    if d_mode == "projection":  # the label enters through the class embedding, not an input channel
        assert disc.features[0].in_channels == 1 and disc.class_embedding.weight.shape[0] == 10


def test_unknown_conditioning_is_refused() -> None:
    with pytest.raises(ConfigError, match="discriminator conditioning 'concat'"):
        DCGANDiscriminator((1, 28, 28), num_classes=10, conditioning="concat")


# --- plan (v1: the constructors' default, v2: the configs' default) and init ----------------------

V1_28_SHAPES = {  # today's 28x28 networks, as checkpoints written before `plan` existed hold them
    "generator": {
        "project.0.weight": (6272, 100),
        "project.2.weight": (128,),
        "project.2.bias": (128,),
        "project.2.running_mean": (128,),
        "project.2.running_var": (128,),
        "project.2.num_batches_tracked": (),
        "upsample.0.weight": (128, 64, 4, 4),
        "upsample.1.weight": (64,),
        "upsample.1.bias": (64,),
        "upsample.1.running_mean": (64,),
        "upsample.1.running_var": (64,),
        "upsample.1.num_batches_tracked": (),
        "upsample.3.weight": (64, 1, 4, 4),
        "upsample.3.bias": (1,),
    },
    "discriminator": {
        "features.0.weight": (64, 1, 4, 4),
        "features.0.bias": (64,),
        "features.2.weight": (128, 64, 4, 4),
        "features.3.weight": (128,),
        "features.3.bias": (128,),
        "features.3.running_mean": (128,),
        "features.3.running_var": (128,),
        "features.3.num_batches_tracked": (),
        "head.1.weight": (1, 6272),
        "head.1.bias": (1,),
    },
}


def _shapes(module: nn.Module) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


def test_constructor_default_is_todays_28px_architecture() -> None:
    """Without `plan` (old checkpoints' hyperparameters) the networks are exactly the v1 ones."""
    gen, disc = build_networks(
        "conv", 100, (1, 28, 28), generator_kwargs={"base_channels": 64, "conditioning": "channel"},
        discriminator_kwargs={"base_channels": 64, "conditioning": "channel"},
    )  # fmt: skip
    assert _shapes(gen) == V1_28_SHAPES["generator"]
    assert _shapes(disc) == V1_28_SHAPES["discriminator"]
    assert gen.start == 7
    assert _shapes(DCGANGenerator(100, (1, 28, 28), plan="v1")) == V1_28_SHAPES["generator"]
    assert _shapes(DCGANDiscriminator((1, 28, 28), plan="v1")) == V1_28_SHAPES["discriminator"]


@pytest.mark.parametrize(
    ("side", "v1", "v2"),
    [
        (28, [7, 14, 28], [4, 7, 14, 28]),
        (32, [2, 4, 8, 16, 32], [2, 4, 8, 16, 32]),
        (64, [4, 8, 16, 32, 64], [4, 8, 16, 32, 64]),
        (16, [2, 4, 8, 16], [2, 4, 8, 16]),
        (8, [2, 4, 8], [2, 4, 8]),
        (20, [5, 10, 20], [3, 5, 10, 20]),
        (60, [15, 30, 60], [4, 8, 15, 30, 60]),
    ],
)
def test_map_sides(side: int, v1: list[int], v2: list[int]) -> None:
    assert map_sides(side) == v1
    assert map_sides(side, "v1") == v1
    assert map_sides(side, "v2") == v2


def test_unknown_plan_and_init_are_refused() -> None:
    with pytest.raises(ConfigError, match="conv plan 'v3'"):
        DCGANGenerator(Z_DIM, (1, 28, 28), plan="v3")
    with pytest.raises(ConfigError, match="conv plan 'deep'"):
        DCGANDiscriminator((1, 28, 28), plan="deep")
    with pytest.raises(ConfigError, match="init 'xavier'"):
        DCGANGenerator(Z_DIM, (1, 28, 28), init="xavier")
    with pytest.raises(ConfigError, match="init 'normal'"):
        DCGANDiscriminator((1, 28, 28), init="normal")


def test_v2_layer_structure_28() -> None:
    """v2 at 28 px: three upsamplings (4 -> 7 -> 14 -> 28) that keep v1's widest map (128 with 64)."""
    gen = DCGANGenerator(Z_DIM, (1, 28, 28), base_channels=64, plan="v2")
    assert gen.start == 4
    assert gen.project(torch.randn(2, Z_DIM)).shape == (2, 128, 4, 4)
    convs = [m for m in gen.upsample if isinstance(m, nn.ConvTranspose2d)]
    assert [(m.in_channels, m.out_channels, m.kernel_size[0]) for m in convs] == [
        (128, 64, 3),  # 4 -> 7
        (64, 32, 4),  # 7 -> 14
        (32, 1, 4),  # 14 -> 28
    ]
    h = gen.project(torch.randn(2, Z_DIM))
    sides = []
    for module in gen.upsample:
        h = module(h)
        if isinstance(module, nn.ConvTranspose2d):
            sides.append(h.shape[-1])
    assert sides == [7, 14, 28]
    disc = DCGANDiscriminator((1, 28, 28), base_channels=64, plan="v2")
    convs = [m for m in disc.features if isinstance(m, nn.Conv2d)]
    assert [(m.in_channels, m.out_channels) for m in convs] == [(1, 32), (32, 64), (64, 128)]
    assert sum(isinstance(m, nn.BatchNorm2d) for m in disc.features) == 2
    assert disc.features(torch.randn(2, 1, 28, 28)).shape == (2, 128, 3, 3)
    assert disc.head[1].in_features == 128 * 3 * 3


@pytest.mark.parametrize("shape", [(3, 32, 32), (3, 64, 64), (1, 16, 16), (3, 8, 8)], ids=str)
def test_v2_is_v1_where_the_start_is_small(shape: tuple[int, int, int]) -> None:
    for plan_kwargs in ({"plan": "v2"}, {}):
        torch.manual_seed(0)
        gen, disc = DCGANGenerator(Z_DIM, shape, **plan_kwargs), DCGANDiscriminator(shape, **plan_kwargs)
        if plan_kwargs:
            v2 = (gen.state_dict(), disc.state_dict())
    for new, old in zip(v2, (gen.state_dict(), disc.state_dict()), strict=True):
        assert new.keys() == old.keys()
        for key in new:
            torch.testing.assert_close(new[key], old[key])


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize(
    ("num_classes", "g_mode", "d_mode"),
    [(None, "channel", "channel"), (10, "channel", "channel"), (10, "latent", "projection")],
    ids=["uncond", "channel", "latent-projection"],
)
@pytest.mark.parametrize("init", ["dcgan", "default"])
def test_v2_shapes_range_and_conditioning(
    shape: tuple[int, int, int], num_classes: int | None, g_mode: str, d_mode: str, init: str
) -> None:
    gen, disc = build_networks(
        "conv", Z_DIM, shape, num_classes=num_classes,
        generator_kwargs={"base_channels": 8, "plan": "v2", "conditioning": g_mode, "init": init},
        discriminator_kwargs={"base_channels": 8, "plan": "v2", "conditioning": d_mode, "init": init},
    )  # fmt: skip
    n = 4
    labels = torch.tensor([0, 3, 3, 9]) if num_classes else None
    x = gen(torch.randn(n, Z_DIM), labels)
    assert x.shape == (n, *shape)
    assert x.abs().max().item() <= 1.0
    assert x.std().item() > 0
    logits = disc(x, labels)
    assert logits.shape == (n,)
    assert torch.isfinite(logits).all()
    disc(x, labels).sum().backward()
    assert all(p.grad is not None for p in gen.parameters())
    if num_classes:  # the label still changes both networks' outputs
        gen.eval(), disc.eval()
        z = torch.randn(1, Z_DIM).repeat(2, 1)
        pair = torch.tensor([1, 7])
        with torch.no_grad():
            images = gen(z, pair)
            assert not torch.allclose(images[0], images[1])
            scores = disc(images[:1].repeat(2, 1, 1, 1), pair)
            assert not torch.allclose(scores[0], scores[1])


def test_v2_channel_conditioning_at_4x4() -> None:
    gen = DCGANGenerator(Z_DIM, (1, 28, 28), base_channels=16, num_classes=10, plan="v2")
    assert gen.label_map(torch.tensor([2])).shape == (1, 1, 4, 4)
    first = next(m for m in gen.upsample if isinstance(m, nn.ConvTranspose2d))
    assert first.in_channels == 32 + 1


@pytest.mark.parametrize("base", [16, 32, 96])
def test_v2_widths_follow_base_channels(base: int) -> None:
    gen = DCGANGenerator(Z_DIM, (1, 28, 28), base_channels=base, plan="v2")
    disc = DCGANDiscriminator((1, 28, 28), base_channels=base, plan="v2")
    g = [m.out_channels for m in gen.upsample if isinstance(m, nn.ConvTranspose2d)]
    d = [m.out_channels for m in disc.features if isinstance(m, nn.Conv2d)]
    assert gen.project[2].num_features == 2 * base
    assert g == [base, base // 2, 1]
    assert d == [base // 2, base, 2 * base]


@pytest.mark.parametrize("plan", ["v1", "v2"])
def test_init_choice(plan: str) -> None:
    """`dcgan`: N(0, 0.02) weights and N(1, 0.02) BatchNorm scales; `default`: PyTorch's own."""
    shape = (1, 28, 28)
    dcgan = [DCGANGenerator(100, shape, plan=plan), DCGANDiscriminator(shape, plan=plan)]
    default = [
        DCGANGenerator(100, shape, plan=plan, init="default"),
        DCGANDiscriminator(shape, plan=plan, init="default"),
    ]
    for dc_net, pt_net in zip(dcgan, default, strict=True):
        assert _shapes(dc_net) == _shapes(pt_net)
        for dc, pt in zip(dc_net.modules(), pt_net.modules(), strict=True):
            if isinstance(dc, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
                assert dc.weight.std().item() == pytest.approx(0.02, rel=0.25)
                # PyTorch: kaiming-uniform with a = sqrt(5), i.e. U(-b, b) with b = 1 / sqrt(fan_in), where
                # fan_in = weight[0].numel() (for a transposed convolution: out_channels x k x k)
                bound = 1 / pt.weight[0].numel() ** 0.5
                assert pt.weight.abs().max().item() <= bound
                assert pt.weight.std().item() == pytest.approx(bound / 3**0.5, rel=0.25)
                if pt.bias is not None:
                    assert torch.count_nonzero(pt.bias) > 0
                    assert torch.count_nonzero(dc.bias) == 0
            elif isinstance(dc, nn.BatchNorm2d):
                assert torch.equal(pt.weight, torch.ones_like(pt.weight))
                assert not torch.equal(dc.weight, torch.ones_like(dc.weight))


def test_model_config_selects_v2() -> None:
    """conf/model/gan.yaml (and so dcgan, lsgan) builds v2 networks; old checkpoints, whose
    hyperparameters hold no `plan`, get the constructors' v1."""
    from pathlib import Path

    from omegaconf import OmegaConf

    import gan_lightning

    conf = OmegaConf.load(Path(gan_lightning.__file__).parent / "conf" / "model" / "gan.yaml")
    conv = OmegaConf.to_container(conf.networks.conv)
    assert conv["generator"]["plan"] == "v2"
    assert conv["discriminator"]["plan"] == "v2"
    gen, disc = build_networks(
        "conv",
        100,
        (1, 28, 28),
        generator_kwargs=conv["generator"],
        discriminator_kwargs=conv["discriminator"],
    )
    assert gen.start == 4
    assert sum(isinstance(m, nn.Conv2d) for m in disc.features) == 3


def test_each_model_config_picks_its_plan(compose_cfg) -> None:
    """dcgan and lsgan build the deeper v2; the conv cGAN keeps v1, the networks it was measured on."""
    for model, plan in (("dcgan", "v2"), ("lsgan", "v2"), ("cgan", "v1")):
        conv = compose_cfg(f"model={model}").model.networks.conv
        assert (conv.generator.plan, conv.discriminator.plan) == (plan, plan), model
