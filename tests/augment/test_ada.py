"""Adaptive augmentation (ADA): the ops, and the feedback loop that tunes p."""

from __future__ import annotations

import math

import pytest
import torch

from gan_lightning.augment import AdaptiveAugment, build_augment, ops
from gan_lightning.augment import ada as ada_ops
from gan_lightning.errors import ConfigError

SHAPES = [(4, 1, 28, 28), (4, 3, 32, 32), (2, 3, 64, 64)]
OP_NAMES = ["xflip", "rotate90", "translation", "brightness", "contrast", "saturation"]


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
