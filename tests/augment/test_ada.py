"""Adaptive augmentation (ADA): the ops, and the feedback loop that tunes p."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf

from gan_lightning.augment import AdaptiveAugment, build_augment, matrices, ops
from gan_lightning.augment import ada as ada_ops
from gan_lightning.errors import ConfigError

SHAPES = [(4, 1, 28, 28), (4, 3, 32, 32), (2, 3, 64, 64)]
OP_NAMES = list(ada_ops.OPS)
OLD_SIX = ["xflip", "rotate90", "translation", "brightness", "contrast", "saturation"]
CONF = Path(__file__).resolve().parents[2] / "gan_lightning" / "conf" / "augment" / "ada.yaml"


def _images(shape: tuple[int, ...], seed: int = 0) -> torch.Tensor:
    return torch.rand(shape, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _with_p(p: float, **options) -> AdaptiveAugment:
    augment = AdaptiveAugment(**options)
    augment.p.fill_(p)
    return augment


# --- the ops ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
def test_p_zero_is_the_identity(shape) -> None:
    x = _images(shape)
    assert torch.equal(AdaptiveAugment()(x, _gen(0)), x)


def test_p_is_a_device_tensor_never_read_on_the_host() -> None:
    """The ops take p as the 0-d buffer itself: p = 1 flips every image, p = 0 none."""
    x = _images((4, 3, 8, 8))
    assert torch.equal(ada_ops.xflip(x, torch.tensor(1.0), _gen(0)), x.flip(3))
    assert torch.equal(ada_ops.xflip(x, torch.tensor(0.0), _gen(0)), x)


@pytest.mark.parametrize("shape", SHAPES)
def test_p_one_changes_every_image_and_keeps_the_shape(shape) -> None:
    x = _images(shape)
    out = _with_p(1.0)(x, _gen(0))
    assert out.shape == x.shape
    assert all(not torch.allclose(out[n], x[n]) for n in range(shape[0]))


@pytest.mark.parametrize("shape", SHAPES)
def test_same_seed_same_output_other_seed_other_output(shape) -> None:
    x = _images(shape)
    augment = _with_p(0.5)
    torch.testing.assert_close(augment(x, _gen(3)), augment(x, _gen(3)), rtol=0, atol=0)
    assert not torch.equal(augment(x, _gen(3)), augment(x, _gen(4)))


def test_global_rng_untouched_when_a_generator_is_given() -> None:
    torch.manual_seed(0)
    before = torch.get_rng_state()
    _with_p(0.7)(_images((2, 3, 32, 32)), _gen(0))
    assert torch.equal(torch.get_rng_state(), before)


@pytest.mark.parametrize("name", OP_NAMES)
@pytest.mark.parametrize("channels", [1, 3])
def test_every_op_is_differentiable(name: str, channels: int) -> None:
    x = _images((4, channels, 16, 16)).requires_grad_(True)
    out = _with_p(1.0, ops=[name])(x, _gen(0))
    (out * torch.linspace(-1, 1, out.numel()).view_as(out)).sum().backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_ops_apply_per_sample_with_probability_p() -> None:
    """With p = 0.5 some images are flipped and the others untouched."""
    x = _images((64, 1, 8, 8))
    out = ada_ops.xflip(x, 0.5, _gen(0))
    flipped = [torch.equal(out[n], x[n].flip(2)) for n in range(64)]
    kept = [torch.equal(out[n], x[n]) for n in range(64)]
    assert all(f or k for f, k in zip(flipped, kept, strict=True))
    assert 16 < sum(flipped) < 48


def test_rotate90_rotates_by_a_nonzero_multiple_of_90() -> None:
    x = _images((12, 3, 8, 8))
    out = ada_ops.rotate90(x, 1.0, _gen(1))
    ks = []
    for n in range(12):
        matches = [k for k in range(4) if torch.equal(out[n], x[n].rot90(k, (1, 2)))]
        assert len(matches) == 1 and matches[0] in (1, 2, 3)
        ks.append(matches[0])
    assert len(set(ks)) > 1


def test_rotate90_skips_non_square_images() -> None:
    x = _images((2, 3, 8, 12))
    assert ada_ops.rotate90(x, 1.0, _gen(0)) is x


def test_translation_is_a_reflect_padded_shift_within_an_eighth() -> None:
    """Each image is shifted by one (dy, dx) with |dy|, |dx| <= 4 for 32 px; no zeros enter."""
    x = _images((6, 1, 32, 32)) + 2.0
    out = ada_ops.translation(x, 1.0, _gen(0))
    assert (out != 0).all()
    shifts = []
    for n in range(6):
        found = [
            (dy, dx)
            for dy in range(-4, 5)
            for dx in range(-4, 5)
            if torch.equal(
                out[n : n + 1],
                ops.translate(x[n : n + 1], torch.tensor([dy]), torch.tensor([dx]), padding="reflect"),
            )
        ]
        assert len(found) == 1, n
        shifts.append(found[0])
    assert len(set(shifts)) > 1


def test_color_ops_by_hand() -> None:
    x = _images((3, 3, 4, 4))
    draws = _gen(5)
    mask = torch.rand(3, generator=draws) < 1.0
    b = 0.2 * torch.randn((3, 1, 1, 1), generator=draws)
    assert mask.all()
    torch.testing.assert_close(ada_ops.brightness(x, 1.0, _gen(5)), x + b)

    draws = _gen(6)
    torch.rand(3, generator=draws)
    c = (0.5 * math.log(2) * torch.randn((3, 1, 1, 1), generator=draws)).exp()
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    torch.testing.assert_close(ada_ops.contrast(x, 1.0, _gen(6)), mean + c * (x - mean))

    draws = _gen(7)
    torch.rand(3, generator=draws)
    s = (math.log(2) * torch.randn((3, 1, 1, 1), generator=draws)).exp()
    luma = x.mean(dim=1, keepdim=True)
    torch.testing.assert_close(ada_ops.saturation(x, 1.0, _gen(7)), luma + s * (x - luma))


def test_saturation_is_a_noop_for_one_channel() -> None:
    x = _images((2, 1, 8, 8))
    assert ada_ops.saturation(x, 1.0, _gen(0)) is x


# --- the full bgc pipeline ---------------------------------------------------------------------------


def _six_op_pipeline_of_before(
    x: torch.Tensor, p: torch.Tensor | float, draws: torch.Generator
) -> torch.Tensor:
    """A frozen copy of ADA before the full bgc set (xflip, rotate90, translation, brightness,
    contrast, saturation): the same draws in the same order, the same arithmetic."""
    n, c, h, w = x.shape

    def where(mask: torch.Tensor, changed: torch.Tensor, kept: torch.Tensor) -> torch.Tensor:
        return torch.where(mask.view(-1, 1, 1, 1), changed, kept)

    x = where(ops.bernoulli(n, p, x.device, draws), x.flip(3), x)
    if h == w:
        mask = ops.bernoulli(n, p, x.device, draws)
        k = ops.integers(n, 1, 3, x.device, draws).view(-1, 1, 1, 1)
        rotated = torch.where(k == 1, x.rot90(1, (2, 3)), x.rot90(2, (2, 3)))
        x = where(mask, torch.where(k == 3, x.rot90(3, (2, 3)), rotated), x)
    mask = ops.bernoulli(n, p, x.device, draws)
    sy, sx = ops.max_shift(h, 1 / 8), ops.max_shift(w, 1 / 8)
    dy, dx = ops.integers(n, -sy, sy, x.device, draws), ops.integers(n, -sx, sx, x.device, draws)
    x = where(mask, ops.translate(x, dy, dx, padding="reflect"), x)
    mask = ops.bernoulli(n, p, x.device, draws)
    x = where(mask, x + ops.normal(n, 0.2, x, draws), x)
    mask = ops.bernoulli(n, p, x.device, draws)
    factor = ops.normal(n, 0.5 * math.log(2), x, draws).exp()
    x = where(mask, ops.scale_around(x, x.mean(dim=(1, 2, 3), keepdim=True), factor), x)
    if c > 1:
        mask = ops.bernoulli(n, p, x.device, draws)
        factor = ops.normal(n, math.log(2), x, draws).exp()
        x = where(mask, ops.scale_around(x, x.mean(dim=1, keepdim=True), factor), x)
    return x


@pytest.mark.parametrize("shape", [(4, 1, 28, 28), (4, 3, 32, 32), (3, 3, 8, 12)])
@pytest.mark.parametrize("p", [0.3, 1.0])
def test_the_old_six_ops_are_bit_identical_to_the_pipeline_before(shape, p: float) -> None:
    """augment.ops=[xflip,rotate90,translation,brightness,contrast,saturation] gives exactly what ADA
    gave before the full bgc set, multipliers of 1 included."""
    x = _images(shape)
    for seed in range(3):
        expected = _six_op_pipeline_of_before(x, torch.tensor(p), _gen(seed))
        assert torch.equal(_with_p(p, ops=OLD_SIX)(x, _gen(seed)), expected)
        ones = {name: 1 for name in ada_ops.OPS}
        assert torch.equal(_with_p(p, ops=OLD_SIX, multipliers=ones)(x, _gen(seed)), expected)


def test_ops_are_the_reference_bgc_set_in_its_order() -> None:
    bgc = ("xflip", "rotate90", "translation", "scale", "rotate", "aniso", "xfrac")
    bgc += ("brightness", "contrast", "lumaflip", "hue", "saturation")
    assert bgc == ada_ops.OPS
    assert AdaptiveAugment().ops == ada_ops.OPS
    assert AdaptiveAugment()._stages == [
        *("xflip", "rotate90", "translation", ("scale", "rotate", "aniso", "xfrac")),
        *("brightness", "contrast", "lumaflip", "hue", "saturation"),
    ]


def test_conf_ada_yaml_builds_the_full_pipeline() -> None:
    augment = build_augment(**OmegaConf.to_container(OmegaConf.load(CONF)))
    assert augment.ops == ada_ops.OPS
    assert augment.multipliers == {name: 1.0 for name in ada_ops.OPS}


@pytest.mark.parametrize("name", OP_NAMES)
def test_every_op_at_p_zero_returns_the_images_exactly(name: str) -> None:
    """No blur at p = 0: a geometric op that did not fire is a torch.where, not a resampling."""
    x = _images((3, 3, 12, 12))
    assert torch.equal(_with_p(0.0, ops=[name])(x, _gen(0)), x)


def test_geometric_ops_keep_a_constant_image_constant() -> None:
    """Reflect padding: whatever the transform, nothing black enters at the borders."""
    x = torch.full((8, 3, 16, 12), 0.3)
    out = _with_p(1.0, ops=list(ada_ops.GEOMETRIC))(x, _gen(0))
    torch.testing.assert_close(out, x, rtol=0, atol=1e-6)
    torch.testing.assert_close(ada_ops.xfrac(x, 1.0, _gen(1)), x, rtol=0, atol=1e-6)


def test_resample_of_a_whole_pixel_shift_is_the_reflect_padded_translation() -> None:
    x = _images((2, 3, 8, 8))
    for dy, dx in [(0, 1), (3, -2)]:
        n = torch.ones(2)
        shifted = matrices.resample(x, matrices.translation(-dx * n, -dy * n))
        expected = ops.translate(x, torch.tensor([dy, dy]), torch.tensor([dx, dx]), padding="reflect")
        torch.testing.assert_close(shifted, expected, rtol=0, atol=1e-5)  # float rounding of the grid


@pytest.mark.parametrize("size", [7, 8])
def test_rotation_by_90_degrees_is_rot90(size: int) -> None:
    """pi / 2 turns the content clockwise on screen: torch.rot90(x, -1), up to interpolation."""
    x = _images((2, 3, size, size))
    turned = matrices.resample(x, matrices.rotation(torch.full((2,), -math.pi / 2)))  # the inverse
    torch.testing.assert_close(turned, x.rot90(-1, (2, 3)), rtol=0, atol=1e-5)


def test_isotropic_scale_2_doubles_distances_from_the_centre() -> None:
    x = _images((2, 3, 9, 9))
    out = matrices.resample(x, matrices.scaling(torch.full((2,), 0.5), torch.full((2,), 0.5)))
    for a in range(-2, 3):
        for b in range(-2, 3):
            torch.testing.assert_close(
                out[..., 4 + 2 * a, 4 + 2 * b], x[..., 4 + a, 4 + b], rtol=0, atol=1e-6
            )
    torch.testing.assert_close(out[..., 5, 4], (x[..., 4, 4] + x[..., 5, 4]) / 2, rtol=0, atol=1e-6)


def _lognormal(draws: torch.Generator, n: int, std: float) -> torch.Tensor:
    return (std * torch.randn((n, 1, 1, 1), generator=draws)).view(n).exp()


def _angle(draws: torch.Generator, n: int) -> torch.Tensor:
    return (-math.pi + 2 * math.pi * torch.rand((n, 1, 1, 1), generator=draws)).view(n)


def test_geometric_ops_by_hand() -> None:
    """Each op's draws (its mask, then its parameters) and the inverse matrix it resamples with."""
    x, n = _images((3, 3, 10, 10)), 3
    std = 0.2 * math.log(2)

    draws = _gen(1)
    torch.rand(n, generator=draws)
    s = _lognormal(draws, n, std)
    torch.testing.assert_close(
        ada_ops.scale(x, 1.0, _gen(1)), matrices.resample(x, matrices.scaling(1 / s, 1 / s))
    )

    draws = _gen(2)
    torch.rand(n, generator=draws)
    s = _lognormal(draws, n, std)
    torch.testing.assert_close(
        ada_ops.aniso(x, 1.0, _gen(2)), matrices.resample(x, matrices.scaling(1 / s, s))
    )

    draws = _gen(3)
    torch.rand(n, generator=draws)
    tx = 0.125 * 10 * torch.randn((n, 1, 1, 1), generator=draws).view(n)
    ty = 0.125 * 10 * torch.randn((n, 1, 1, 1), generator=draws).view(n)
    torch.testing.assert_close(
        ada_ops.xfrac(x, 1.0, _gen(3)), matrices.resample(x, matrices.translation(-tx, -ty))
    )

    draws = _gen(4)  # p = 1: p_rot = 1, both rotations
    torch.rand(n, generator=draws)
    first = _angle(draws, n)
    torch.rand(n, generator=draws)
    second = _angle(draws, n)
    inverse = matrices.rotation(-first) @ matrices.rotation(-second)
    torch.testing.assert_close(ada_ops.rotate(x, 1.0, _gen(4)), matrices.resample(x, inverse))


def test_rotate_is_a_pre_and_a_post_rotation_around_aniso() -> None:
    steps = ada_ops._geometric_steps
    assert steps(ada_ops.GEOMETRIC) == ["scale", "rotate", "aniso", "rotate", "xfrac"]  # the reference's
    assert steps(("rotate",)) == ["rotate", "rotate"]
    assert steps(("aniso", "rotate", "xfrac")) == ["aniso", "rotate", "rotate", "xfrac"]


def test_rotation_probability_makes_one_of_two_rotations_happen_with_p() -> None:
    assert ada_ops.rotation_probability(0.19) == pytest.approx(0.1)
    assert ada_ops.rotation_probability(torch.tensor(0.0)).item() == 0.0
    assert ada_ops.rotation_probability(torch.tensor(1.0)).item() == 1.0
    x = _images((400, 1, 4, 4))
    out = ada_ops.rotate(x, torch.tensor(0.5), _gen(0))
    rotated = sum(not torch.equal(out[i], x[i]) for i in range(400))
    assert 160 < rotated < 240  # 200 expected


def test_luma_flip_of_a_known_colour() -> None:
    """(0.5, 0.2, -0.4) has luma 0.1: the reflection keeps the chroma and negates the luma."""
    x = torch.tensor([0.5, 0.2, -0.4]).view(1, 3, 1, 1).expand(2, 3, 2, 2)
    expected = torch.tensor([0.3, 0.0, -0.6]).view(1, 3, 1, 1).expand(2, 3, 2, 2)
    torch.testing.assert_close(ada_ops.lumaflip(x, 1.0, _gen(0)), expected)
    grey = _images((2, 1, 4, 4))
    torch.testing.assert_close(ada_ops.lumaflip(grey, 1.0, _gen(0)), -grey)
    torch.testing.assert_close(matrices.luma_flip(matrices.luma_flip(x)), x)  # a reflection


def test_hue_rotation_by_a_third_turn_cycles_the_channels() -> None:
    """Red (1, -1, -1) -> green (-1, 1, -1): (r, g, b) -> (b, r, g); the luma is kept at any angle."""
    x = _images((2, 3, 4, 4))
    third = matrices.hue_rotation(torch.full((2,), 2 * math.pi / 3))
    torch.testing.assert_close(matrices.color_transform(x, third), x[:, [2, 0, 1]], rtol=0, atol=1e-6)
    red = torch.tensor([1.0, -1.0, -1.0]).view(1, 3, 1, 1)
    green = matrices.color_transform(red, matrices.hue_rotation(torch.tensor([2 * math.pi / 3])))
    torch.testing.assert_close(green, torch.tensor([-1.0, 1.0, -1.0]).view(1, 3, 1, 1), rtol=0, atol=1e-6)

    draws = _gen(5)
    torch.rand(2, generator=draws)
    theta = _angle(draws, 2)
    out = ada_ops.hue(x, 1.0, _gen(5))
    torch.testing.assert_close(out, matrices.color_transform(x, matrices.hue_rotation(theta)))
    torch.testing.assert_close(out.mean(dim=1), x.mean(dim=1))
    torch.testing.assert_close(out.norm(dim=1), x.norm(dim=1))  # a rotation


def test_hue_is_a_noop_without_three_channels() -> None:
    x = _images((2, 1, 8, 8))
    assert ada_ops.hue(x, 1.0, _gen(0)) is x


def test_gradients_of_gradients_pass_the_geometric_ops() -> None:
    """R1 differentiates D's gradient with respect to the augmented-from images."""
    x = _images((2, 3, 8, 8)).requires_grad_(True)
    weight = torch.randn(3, 3, 3, 3, requires_grad=True)
    out = torch.nn.functional.conv2d(_with_p(1.0)(x, _gen(0)), weight).square().sum()
    (grad,) = torch.autograd.grad(out, x, create_graph=True)
    grad.square().sum().backward()
    assert torch.isfinite(weight.grad).all() and weight.grad.abs().sum() > 0


# --- multipliers -------------------------------------------------------------------------------------


def test_multipliers_scale_each_ops_probability() -> None:
    x = _images((16, 3, 8, 8))
    assert torch.equal(_with_p(0.5, ops=["xflip"], multipliers={"xflip": 2})(x, _gen(0)), x.flip(3))
    draws = _gen(0)
    off = _with_p(1.0, ops=["xflip", "scale", "hue"], multipliers={"xflip": 0, "scale": 0, "hue": 0})
    assert off._stages == [] and torch.equal(off(x, draws), x)
    assert torch.equal(draws.get_state(), _gen(0).get_state())  # an op turned off draws nothing
    some = _with_p(0.5, ops=["scale", "rotate"], multipliers={"rotate": 0, "hue": 3})
    assert some._stages == [("scale",)]
    assert torch.equal(some(x, _gen(1)), _with_p(0.5, ops=["scale"])(x, _gen(1)))


@pytest.mark.parametrize(
    ("multipliers", "message"),
    [
        ({"cutout": 1}, r"Unknown augment\.multipliers entries \['cutout'\]\. Valid names: xflip"),
        ({"scale": -1}, r"augment\.multipliers\.scale must be a number >= 0"),
        ({"hue": "big"}, r"augment\.multipliers\.hue must be a number >= 0"),
        ({"hue": True}, r"augment\.multipliers\.hue must be a number >= 0"),
        ({"rotate": float("nan")}, r"augment\.multipliers\.rotate must be a number >= 0"),
        ({"rotate": float("inf")}, r"augment\.multipliers\.rotate must be a number >= 0"),
        ([1.0, 2.0], r"augment\.multipliers must map op names to probability multipliers"),
        ({"xint": 1}, r"augment\.multipliers: the reference's xint .* write translation"),
    ],
)
def test_bad_multipliers_are_config_errors(multipliers, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build_augment("ada", multipliers=multipliers)


def test_xint_is_pointed_to_translation() -> None:
    with pytest.raises(ConfigError, match=r"augment\.ops: the reference's xint .* write translation"):
        build_augment("ada", ops="xflip,xint")


# --- the feedback loop -----------------------------------------------------------------------------


def test_p_moves_up_when_d_overfits_only_every_interval_steps() -> None:
    augment = AdaptiveAugment(target=0.6, interval=4, speed_kimg=0.5)
    step = 32 * 4 / (0.5 * 1000)  # images * interval / (speed_kimg * 1000) = 0.256
    for call in range(1, 9):
        augment.accumulate(torch.full((32,), 3.0))  # every real logit positive: r_t = 1 > 0.6
        updated = augment.update(32)
        assert updated == (call % 4 == 0)
        assert augment.p.item() == pytest.approx(step * (call // 4))
    assert augment.r_t.item() == 1.0
    assert augment.sign_sum.item() == 0 and augment.sign_count.item() == 0  # reset after an update


def test_p_moves_down_and_is_clamped_at_zero() -> None:
    augment = AdaptiveAugment(interval=2, speed_kimg=1.0, p_init=0.3)
    step = 16 * 2 / 1000.0
    for _ in range(2):
        augment.accumulate(-torch.ones(16))
        augment.update(16)
    assert augment.p.item() == pytest.approx(0.3 - step)
    assert augment.r_t.item() == -1.0
    for _ in range(40):
        augment.accumulate(-torch.ones(16))
        augment.update(16)
    assert augment.p.item() == 0.0


def test_p_is_clamped_at_one() -> None:
    augment = AdaptiveAugment(interval=1, speed_kimg=0.01, p_init=0.9)
    augment.accumulate(torch.ones(100))
    assert augment.update(100)
    assert augment.p.item() == 1.0


def test_r_t_is_the_mean_sign_and_steers_to_target() -> None:
    """r_t = 0.5 (3 of 4 positive) < 0.6: p goes down; r_t = 0.6 exactly: p stays."""
    augment = AdaptiveAugment(target=0.6, interval=1, speed_kimg=1.0, p_init=0.5)
    augment.accumulate(torch.tensor([1.0, 2.0, 0.5, -1.0]))
    augment.update(10)
    assert augment.r_t.item() == pytest.approx(0.5)
    assert augment.p.item() == pytest.approx(0.5 - 10 / 1000)
    augment.accumulate(torch.tensor([1.0] * 8 + [-1.0] * 2))  # r_t = 0.6
    augment.update(10)
    assert augment.p.item() == pytest.approx(0.49)


def test_images_of_the_interval_replace_steps_times_batch() -> None:
    """Batches that change size (progressive growing): the move is the interval's images / speed."""
    augment = AdaptiveAugment(target=0.6, interval=2, speed_kimg=1.0, p_init=0.5)
    augment.accumulate(torch.ones(4))
    augment.update(4, images_in_interval=20)
    augment.update(4, images_in_interval=20)  # 16 + 4 images in the last two steps
    assert augment.p.item() == pytest.approx(0.5 + 20 / 1000)


def test_no_update_without_statistics() -> None:
    augment = AdaptiveAugment(interval=1, p_init=0.4)
    augment.update(64)  # the interval has come, but nothing was accumulated: p and r_t stay
    assert augment.p.item() == pytest.approx(0.4)
    assert augment.r_t.item() == 0.0


def test_reduce_is_applied_to_sign_sum_and_count() -> None:
    """A fake two-process sum: the other rank saw 10 logits, all negative."""
    seen = []

    def reduce(stats: torch.Tensor) -> torch.Tensor:
        seen.append(stats.clone())
        return stats + torch.tensor([-10.0, 10.0])

    augment = AdaptiveAugment(target=0.6, interval=2, speed_kimg=1.0, p_init=0.5)
    augment.accumulate(torch.ones(10))
    assert augment.update(20, reduce=reduce) is False
    assert seen == []  # not between intervals
    augment.update(20, reduce=reduce)
    assert len(seen) == 1
    torch.testing.assert_close(seen[0], torch.tensor([10.0, 10.0]))
    assert augment.r_t.item() == 0.0  # (10 - 10) / 20
    assert augment.p.item() == pytest.approx(0.5 - 20 * 2 / 1000)


def test_buffers_survive_state_dict_round_trip() -> None:
    augment = AdaptiveAugment(interval=3, speed_kimg=1.0)
    for _ in range(4):
        augment.accumulate(torch.ones(8))
        augment.update(8)
    augment.accumulate(torch.tensor([1.0, -1.0, 1.0]))
    state = augment.state_dict()
    assert {"p", "sign_sum", "sign_count", "steps_since_update", "r_t"} <= set(state)

    restored = AdaptiveAugment(interval=3, speed_kimg=1.0)
    restored.load_state_dict(state)
    for name in ("p", "sign_sum", "sign_count", "steps_since_update", "r_t"):
        assert torch.equal(getattr(restored, name), getattr(augment, name)), name
    assert restored.p.item() > 0
    # Both continue identically.
    for module in (augment, restored):
        module.accumulate(torch.ones(8))
        module.update(8)
        module.update(8)
    assert restored.p.item() == augment.p.item()


def test_state_stays_float32_in_half_precision() -> None:
    augment = AdaptiveAugment(p_init=0.5).to(torch.bfloat16)
    assert augment.p.dtype == torch.float32
    assert augment.steps_since_update.dtype == torch.long


# --- options -----------------------------------------------------------------------------------------


def test_build_augment_ada_options() -> None:
    augment = build_augment("ada", target=0.7, interval=2, speed_kimg=100, p_init=0.2, ops=["xflip"])
    assert isinstance(augment, AdaptiveAugment)
    assert (augment.target, augment.interval, augment.speed_kimg, augment.ops) == (0.7, 2, 100.0, ("xflip",))
    assert augment.p.item() == pytest.approx(0.2)


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({"target": 0.0}, "augment.target"),
        ({"target": 1.5}, "augment.target"),
        ({"interval": 0}, "augment.interval"),
        ({"interval": 2.5}, "augment.interval"),
        ({"speed_kimg": -1.0}, "augment.speed_kimg"),
        ({"speed_kimg": 0.0}, "augment.speed_kimg"),
        ({"p_init": 1.5}, "augment.p_init"),
        ({"ops": ["xflip", "cutout"]}, "augment.ops"),
        ({"policy": "color"}, "augment.policy"),
    ],
)
def test_bad_options_are_config_errors(options: dict, key: str) -> None:
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        build_augment("ada", **options)
