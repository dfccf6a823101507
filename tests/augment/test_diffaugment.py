"""DiffAugment: shapes, seeded randomness, differentiability, and each op checked by hand."""

from __future__ import annotations

import pytest
import torch

from gan_lightning.augment import DiffAugment, build_augment, ops
from gan_lightning.augment import diffaugment as da
from gan_lightning.errors import ConfigError

SHAPES = [(4, 1, 28, 28), (4, 3, 32, 32), (2, 3, 64, 64), (3, 1, 32, 32)]


def _images(shape: tuple[int, ...], seed: int = 0) -> torch.Tensor:
    return torch.rand(shape, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("shape", SHAPES)
def test_shape_kept(shape) -> None:
    x = _images(shape)
    assert DiffAugment()(x, _gen(0)).shape == x.shape


@pytest.mark.parametrize("shape", SHAPES)
def test_same_seed_same_output_other_seed_other_output(shape) -> None:
    x = _images(shape)
    augment = DiffAugment()
    torch.testing.assert_close(augment(x, _gen(1)), augment(x, _gen(1)), rtol=0, atol=0)
    assert not torch.equal(augment(x, _gen(1)), augment(x, _gen(2)))


def test_global_rng_untouched_when_a_generator_is_given() -> None:
    torch.manual_seed(123)
    before = torch.get_rng_state()
    DiffAugment()(_images((2, 3, 32, 32)), _gen(0))
    assert torch.equal(torch.get_rng_state(), before)


@pytest.mark.parametrize("policy", ["color", "translation", "cutout", "color,translation,cutout"])
@pytest.mark.parametrize("channels", [1, 3])
def test_gradients_reach_the_input(policy: str, channels: int) -> None:
    x = _images((3, channels, 32, 32)).requires_grad_(True)
    out = DiffAugment(policy)(x, _gen(0))
    (out * torch.linspace(-1, 1, out.numel()).view_as(out)).sum().backward()
    assert x.grad is not None
    assert torch.isfinite(x.grad).all()
    assert x.grad.abs().sum() > 0


@pytest.mark.parametrize("op", [da.color, da.translation, da.cutout])
def test_each_op_differentiable(op) -> None:
    x = _images((2, 3, 28, 28)).requires_grad_(True)
    op(x, _gen(0)).sum().backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_color_by_hand() -> None:
    """Brightness b, saturation s, contrast c, drawn in this order from the generator."""
    x = _images((2, 3, 8, 8))
    draws = _gen(4)
    b = torch.rand((2, 1, 1, 1), generator=draws) - 0.5
    s = torch.rand((2, 1, 1, 1), generator=draws) * 2
    c = torch.rand((2, 1, 1, 1), generator=draws) + 0.5
    y = x + b
    y = y.mean(dim=1, keepdim=True) + s * (y - y.mean(dim=1, keepdim=True))
    y = y.mean(dim=(1, 2, 3), keepdim=True) + c * (y - y.mean(dim=(1, 2, 3), keepdim=True))
    torch.testing.assert_close(da.color(x, _gen(4)), y)


def test_color_one_channel_skips_saturation() -> None:
    x = _images((2, 1, 8, 8))
    draws = _gen(4)
    b = torch.rand((2, 1, 1, 1), generator=draws) - 0.5
    c = torch.rand((2, 1, 1, 1), generator=draws) + 0.5
    y = x + b
    y = y.mean(dim=(1, 2, 3), keepdim=True) + c * (y - y.mean(dim=(1, 2, 3), keepdim=True))
    torch.testing.assert_close(da.color(x, _gen(4)), y)


def test_translate_helper_moves_pixels_by_the_given_shift() -> None:
    x = torch.arange(2 * 1 * 5 * 6, dtype=torch.float32).view(2, 1, 5, 6)
    out = ops.translate(x, torch.tensor([2, -1]), torch.tensor([1, 0]), padding="zeros")
    # sample 0: down 2, right 1; zeros enter at the top two rows and the left column
    torch.testing.assert_close(out[0, 0, 2:, 1:], x[0, 0, :3, :5])
    assert (out[0, 0, :2] == 0).all() and (out[0, 0, :, 0] == 0).all()
    # sample 1: up 1
    torch.testing.assert_close(out[1, 0, :4], x[1, 0, 1:])
    assert (out[1, 0, 4] == 0).all()


def test_translate_helper_reflect_padding() -> None:
    row = torch.tensor([0.0, 1.0, 2.0, 3.0, 4.0]).view(1, 1, 1, 5)
    right = ops.translate(row, torch.tensor([0]), torch.tensor([2]), padding="reflect")
    left = ops.translate(row, torch.tensor([0]), torch.tensor([-2]), padding="reflect")
    assert right.flatten().tolist() == [2.0, 1.0, 0.0, 1.0, 2.0]
    assert left.flatten().tolist() == [2.0, 3.0, 4.0, 3.0, 2.0]


def test_translate_helper_zero_shift_is_identity() -> None:
    x = _images((3, 3, 8, 8))
    out = ops.translate(x, torch.zeros(3, dtype=torch.long), torch.zeros(3, dtype=torch.long))
    torch.testing.assert_close(out, x, rtol=0, atol=0)


def test_translation_is_an_integer_shift_within_an_eighth() -> None:
    """Each output is the input shifted by some (dy, dx) with |dy|, |dx| <= 4 for 32 px."""
    x = _images((6, 1, 32, 32)) + 2.0  # strictly positive: zeros only where padding entered
    out = da.translation(x, _gen(7))
    for n in range(6):
        found = [
            (dy, dx)
            for dy in range(-4, 5)
            for dx in range(-4, 5)
            if torch.equal(
                out[n : n + 1], ops.translate(x[n : n + 1], torch.tensor([dy]), torch.tensor([dx]))
            )
        ]
        assert len(found) == 1, n


@pytest.mark.parametrize(("size", "hole"), [(28, 14), (32, 16), (64, 32)])
def test_cutout_zeroes_exactly_a_half_size_square(size: int, hole: int) -> None:
    x = _images((5, 3, size, size)) + 2.0  # no zeros of its own
    out = da.cutout(x, _gen(0))
    for n in range(5):
        zero = (out[n] == 0).all(dim=0)  # (H, W): all channels zeroed
        assert int(zero.sum()) == hole * hole
        rows, cols = zero.nonzero(as_tuple=True)
        assert int(rows.max() - rows.min()) + 1 == hole and int(cols.max() - cols.min()) + 1 == hole
        torch.testing.assert_close(out[n][:, ~zero], x[n][:, ~zero])


def test_cutout_helper_position() -> None:
    x = torch.ones(1, 1, 4, 4)
    out = ops.cutout(x, torch.tensor([1]), torch.tensor([2]), (2, 2))
    expected = torch.ones(4, 4)
    expected[1:3, 2:4] = 0
    torch.testing.assert_close(out[0, 0], expected)


def test_policy_as_string_or_sequence() -> None:
    assert DiffAugment("color, cutout").policy == ("color", "cutout")
    assert DiffAugment(["translation"]).policy == ("translation",)
    assert DiffAugment().policy == ("color", "translation", "cutout")
    assert isinstance(build_augment("diffaugment", policy="color"), DiffAugment)


@pytest.mark.parametrize("policy", ["colour", "color,zoom", ""])
def test_bad_policy_is_a_config_error(policy: str) -> None:
    with pytest.raises(ConfigError, match=r"augment\.policy") as info:
        DiffAugment(policy)
    for name in ("color", "translation", "cutout"):
        assert name in str(info.value)


def test_build_augment_errors() -> None:
    assert build_augment() is None and build_augment("none") is None
    with pytest.raises(ConfigError, match="augment=") as info:
        build_augment("mixup")
    for kind in ("none", "diffaugment", "ada"):
        assert kind in str(info.value)
    with pytest.raises(ConfigError, match=r"augment\.target"):
        build_augment("diffaugment", target=0.6)
    with pytest.raises(ConfigError, match=r"augment\.policy"):
        build_augment("none", policy="color")
