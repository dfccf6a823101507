"""TransGAN networks: stage plans, token utilities, windowed attention, positions, conditioning."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gan_lightning.errors import ConfigError
from gan_lightning.networks.transgan import (
    SelfAttention,
    TransformerBlock,
    TransGANDiscriminator,
    TransGANGenerator,
    grid_window,
    patchify,
    stage_sides,
    upsample_tokens,
    window_partition,
    window_reverse,
)

Z_DIM = 16
SMALL_G = {"width": 64, "depths": (1,), "heads": 1}  # 64 -> 16 -> 4 channels (3 stages)
SMALL_G_64 = {"width": 256, "depths": (1,), "heads": 2}  # 256 -> 64 -> 16 -> 4 channels (4 stages)
SMALL_D = {"width": 48, "depth": 1, "heads": 2}
SHAPES = [(1, 28, 28), (3, 32, 32), (3, 64, 64), (1, 16, 16)]


def _shape_id(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape))


# --- sizes -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("side", "sides"),
    [
        (28, [7, 14, 28]),
        (32, [8, 16, 32]),
        (64, [8, 16, 32, 64]),
        (16, [4, 8, 16]),
        (8, [4, 8]),
        (40, [5, 10, 20, 40]),
        (128, [8, 16, 32, 64, 128]),
    ],
)
def test_stage_sides(side: int, sides: list[int]) -> None:
    assert stage_sides(side) == sides


@pytest.mark.parametrize("side", [30, 31, 33, 36, 4, 6, 7, 0, -8])
def test_stage_sides_unsupported(side: int) -> None:
    with pytest.raises(ConfigError, match="not supported by the transformer networks") as info:
        stage_sides(side)
    assert "28, 32, 64" in str(info.value)
    assert "MLP" in str(info.value)


@pytest.mark.parametrize("side", [30, 6])
def test_unsupported_size_in_generator(side: int) -> None:
    with pytest.raises(ConfigError, match="is not supported"):
        TransGANGenerator(Z_DIM, (3, side, side), **SMALL_G)


@pytest.mark.parametrize("shape", [(2,), (28, 28), (1, 28, 32), (3, 32, 16)], ids=str)
def test_non_square_or_2d_shape_mentions_mlp(shape: tuple[int, ...]) -> None:
    with pytest.raises(ConfigError, match="MLP"):
        TransGANGenerator(Z_DIM, shape)
    with pytest.raises(ConfigError, match="MLP"):
        TransGANDiscriminator(shape)


@pytest.mark.parametrize(
    ("side", "window"), [(8, 8), (16, 16), (32, 16), (28, 14), (64, 16), (40, 10), (48, 16)]
)
def test_grid_window(side: int, window: int) -> None:
    assert grid_window(side, 16) == window
    assert side % window == 0


def test_windowed_stages_follow_window_size() -> None:
    gen = TransGANGenerator(Z_DIM, (3, 64, 64), **SMALL_G_64)
    assert [stage.blocks[0].window for stage in gen.stages] == [None, None, 16, 16]
    gen = TransGANGenerator(Z_DIM, (1, 28, 28), **SMALL_G)
    assert [stage.blocks[0].window for stage in gen.stages] == [None, None, 14]
    gen = TransGANGenerator(Z_DIM, (1, 28, 28), **SMALL_G, window_size=32)
    assert all(stage.blocks[0].window is None for stage in gen.stages)


# --- shapes and ranges -------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES, ids=_shape_id)
@pytest.mark.parametrize("num_classes", [None, 10], ids=["uncond", "cond"])
def test_shapes_and_range(shape: tuple[int, int, int], num_classes: int | None) -> None:
    gen = TransGANGenerator(Z_DIM, shape, num_classes, **(SMALL_G_64 if shape[-1] == 64 else SMALL_G))
    disc = TransGANDiscriminator(shape, num_classes, **SMALL_D)
    labels = torch.tensor([0, 3, 9]) if num_classes else None
    with torch.no_grad():
        images = gen(torch.randn(3, Z_DIM), labels)
        assert images.shape == (3, *shape)
        assert images.abs().max().item() <= 1.0
        assert images.std().item() > 0
        logits = disc(images, labels)
    assert logits.shape == (3,)
    assert torch.isfinite(logits).all()


def test_channels_per_stage_and_defaults_at_32px() -> None:
    gen = TransGANGenerator(100, (3, 32, 32))
    assert [stage.pos_embed.shape for stage in gen.stages] == [(1, 64, 256), (1, 256, 64), (1, 1024, 16)]
    assert [len(stage.blocks) for stage in gen.stages] == [2, 2, 2]
    assert gen.input.out_features == 8 * 8 * 256
    assert gen.to_pixels.in_features == 16 and gen.to_pixels.out_features == 3
    disc = TransGANDiscriminator((3, 32, 32))
    assert disc.num_tokens == 1 + 64
    assert disc.pos_embed.shape == (1, 65, 192)
    assert disc.patch_embed.in_features == 3 * 4 * 4
    assert len(disc.blocks) == 4
    with torch.no_grad():
        images = gen(torch.randn(2, 100))
        assert images.shape == (2, 3, 32, 32)
        assert disc(images).shape == (2,)


def test_tanh_output_off() -> None:
    torch.manual_seed(1)
    squashed = TransGANGenerator(Z_DIM, (1, 16, 16), **SMALL_G)
    torch.manual_seed(1)
    raw = TransGANGenerator(Z_DIM, (1, 16, 16), tanh_output=False, **SMALL_G)
    z = torch.randn(2, Z_DIM)
    with torch.no_grad():
        torch.testing.assert_close(torch.tanh(raw(z)), squashed(z))


def test_bf16_autocast() -> None:
    gen = TransGANGenerator(Z_DIM, (3, 32, 32), **SMALL_G)
    disc = TransGANDiscriminator((3, 32, 32), **SMALL_D)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        logits = disc(gen(torch.randn(2, Z_DIM)))
    assert logits.shape == (2,)
    assert torch.isfinite(logits.float()).all()


# --- token utilities and attention -------------------------------------------------------------------


def test_upsample_tokens_is_pixel_shuffle() -> None:
    x = torch.randn(2, 4 * 4, 32)
    up = upsample_tokens(x, 4)
    assert up.shape == (2, 4 * 4 * 4, 32 // 4)
    image = x.transpose(1, 2).reshape(2, 32, 4, 4)  # row-major token grid as a feature map
    expected = nn.PixelShuffle(2)(image)
    torch.testing.assert_close(up.transpose(1, 2).reshape(2, 8, 8, 8), expected)


def test_window_partition_roundtrip() -> None:
    side, window = 8, 4
    x = torch.arange(side * side, dtype=torch.float32).view(1, side * side, 1).repeat(2, 1, 3)
    windows = window_partition(x, side, window)
    assert windows.shape == (2 * 4, window * window, 3)
    # The first window holds the top-left 4 x 4 cells of the row-major grid.
    first = windows[0, :, 0].view(window, window)
    torch.testing.assert_close(first, torch.arange(side * side, dtype=torch.float32).view(side, side)[:4, :4])
    torch.testing.assert_close(window_reverse(windows, side, window), x)


def test_windowed_attention_equals_full_when_window_covers_the_map() -> None:
    attn = SelfAttention(16, 2).eval()
    x = torch.randn(2, 8 * 8, 16)
    with torch.no_grad():
        full = attn(x)
        assert torch.allclose(attn(x, side=8, window=8), full, atol=1e-5)
        block = TransformerBlock(16, 2, side=8, window_size=8).eval()
        assert block.window is None  # the window covers the map: full attention
        block.window = 8  # forced through the partition path: same result
        windowed = block(x)
        block.window = None
        assert torch.allclose(windowed, block(x), atol=1e-5)


def test_windowed_attention_attends_within_windows() -> None:
    attn = SelfAttention(16, 2).eval()
    x = torch.randn(2, 8 * 8, 16)
    with torch.no_grad():
        windowed = attn(x, side=8, window=4)
        assert not torch.allclose(windowed, attn(x), atol=1e-3)
        # Each window on its own through full attention gives the same tokens.
        manual = window_reverse(attn(window_partition(x, 8, 4)), 8, 4)
        assert torch.allclose(windowed, manual, atol=1e-5)
        # Changing a token of one window leaves every other window untouched.
        y = x.clone()
        y[:, 0] += 1.0  # cell (0, 0): first window
        changed = (attn(y, side=8, window=4) - windowed).abs().amax(dim=(0, 2)).view(8, 8) > 0
        assert changed[:4, :4].all()
        assert not changed[4:, :].any() and not changed[:, 4:].any()


# --- positional embeddings ---------------------------------------------------------------------------


def test_generator_stage_uses_positions() -> None:
    """Without positional embedding a full-attention stage is permutation equivariant; with it, not."""
    gen = TransGANGenerator(Z_DIM, (3, 32, 32), **SMALL_G).eval()
    stage = gen.stages[0]
    assert stage.blocks[0].window is None
    x = torch.randn(2, 64, 64)
    perm = torch.randperm(64)
    with torch.no_grad():
        assert not torch.allclose(stage(x[:, perm]), stage(x)[:, perm], atol=1e-4)
        stage.pos_embed.zero_()
        assert torch.allclose(stage(x[:, perm]), stage(x)[:, perm], atol=1e-5)


def _shuffle_patches(images: torch.Tensor, patch: int, perm: torch.Tensor) -> torch.Tensor:
    n, c, side, _ = images.shape
    per = side // patch
    patches = images.reshape(n, c, per, patch, per, patch).permute(0, 2, 4, 1, 3, 5).reshape(n, per * per, -1)
    patches = patches[:, perm].reshape(n, per, per, c, patch, patch).permute(0, 3, 1, 4, 2, 5)
    return patches.reshape(n, c, side, side)


def test_discriminator_uses_positions() -> None:
    disc = TransGANDiscriminator((3, 32, 32), **SMALL_D).eval()
    images = torch.randn(2, 3, 32, 32)
    perm = torch.randperm(64)
    shuffled = _shuffle_patches(images, 4, perm)
    torch.testing.assert_close(patchify(shuffled, 4), patchify(images, 4)[:, perm])
    with torch.no_grad():
        assert not torch.allclose(disc(shuffled), disc(images), atol=1e-4)
        disc.pos_embed.zero_()  # no positions: D only sees a set of patches
        assert torch.allclose(disc(shuffled), disc(images), atol=1e-5)


# --- gradients and conditioning ----------------------------------------------------------------------


@pytest.mark.parametrize("num_classes", [None, 10], ids=["uncond", "cond"])
@pytest.mark.parametrize("multi_scale", [False, True], ids=["single", "multi"])
def test_gradients_reach_every_parameter(num_classes: int | None, multi_scale: bool) -> None:
    shape = (3, 32, 32)
    gen = TransGANGenerator(Z_DIM, shape, num_classes, **SMALL_G)
    disc = TransGANDiscriminator(shape, num_classes, multi_scale=multi_scale, **SMALL_D)
    labels = torch.tensor([1, 2, 3, 4]) if num_classes else None
    disc(gen(torch.randn(4, Z_DIM), labels), labels).sum().backward()
    for module in (gen, disc):
        for name, param in module.named_parameters():
            assert param.grad is not None, name
            assert torch.isfinite(param.grad).all(), name
            assert param.grad.abs().sum() > 0, name


def test_labels_change_both_networks() -> None:
    gen = TransGANGenerator(Z_DIM, (1, 28, 28), 10, **SMALL_G).eval()
    disc = TransGANDiscriminator((1, 28, 28), 10, **SMALL_D).eval()
    assert gen.input.in_features == 2 * Z_DIM  # label embedding concatenated to z
    assert disc.class_embedding.weight.shape == (10, 48)  # projection on the [cls] feature
    z = torch.randn(1, Z_DIM).repeat(2, 1)
    pair = torch.tensor([1, 7])
    with torch.no_grad():
        images = gen(z, pair)
        assert not torch.allclose(images[0], images[1])
        scores = disc(images[:1].repeat(2, 1, 1, 1), pair)
        assert not torch.allclose(scores[0], scores[1])


def test_initialisation() -> None:
    gen = TransGANGenerator(Z_DIM, (3, 32, 32), 10)
    disc = TransGANDiscriminator((3, 32, 32), 10)
    for net in (gen, disc):
        for module in net.modules():
            if isinstance(module, nn.Linear):
                assert module.weight.abs().max().item() <= 0.04 + 1e-6
                if module.weight.numel() > 1000:
                    assert module.weight.std().item() == pytest.approx(0.02 * 0.88, rel=0.1)
                assert torch.count_nonzero(module.bias) == 0
            elif isinstance(module, nn.LayerNorm):
                assert torch.equal(module.weight, torch.ones_like(module.weight))
                assert torch.count_nonzero(module.bias) == 0
    for param in (gen.stages[0].pos_embed, disc.pos_embed, disc.cls_token):
        assert 0 < param.abs().max().item() <= 0.04 + 1e-6


# --- bad options -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "kwargs", "phrase"),
    [
        ((3, 32, 32), {"width": 100, "heads": 1}, r"multiple of heads \* 4\*\*2 = 16"),
        ((3, 32, 32), {"width": 64, "heads": 3}, r"heads in \(1, 2, 4\)"),
        ((3, 64, 64), {"width": 256, "heads": 8}, r"generator.width=512"),
        ((3, 32, 32), {"width": 16, "heads": 1}, r"at least 4 \* 4\*\*2 = 64 .*generator.width=64"),
        ((3, 64, 64), {"width": 64, "heads": 1}, r"generator.width=256"),
    ],
)
def test_bad_generator_width_heads(shape: tuple[int, int, int], kwargs: dict, phrase: str) -> None:
    with pytest.raises(ConfigError, match=phrase):
        TransGANGenerator(Z_DIM, shape, depths=(1,), **kwargs)


def test_bad_discriminator_width_heads() -> None:
    with pytest.raises(ConfigError, match=r"discriminator.width=52 or .*heads in \(1, 2, 5, 10, 25, 50\)"):
        TransGANDiscriminator((3, 32, 32), width=50, heads=4)


@pytest.mark.parametrize(
    ("side", "depths", "phrase"),
    [
        (64, (2, 2, 2), r"64 px has 4 stages \(8, 16, 32, 64\): give .*generator.depths with 4 entries"),
        (32, (1, 2), r"32 px has 3 stages \(8, 16, 32\)"),
        (28, (1, 1, 1, 1), r"28 px has 3 stages \(7, 14, 28\)"),
        (32, (1, 0, 1), r"positive integers"),
    ],
)
def test_bad_depths(side: int, depths: tuple[int, ...], phrase: str) -> None:
    with pytest.raises(ConfigError, match=phrase):
        TransGANGenerator(Z_DIM, (3, side, side), width=256, heads=1, depths=depths)


def test_one_depth_for_every_stage() -> None:
    gen = TransGANGenerator(Z_DIM, (3, 64, 64), width=256, heads=1, depths=(3,))
    assert [len(stage.blocks) for stage in gen.stages] == [3, 3, 3, 3]
    gen = TransGANGenerator(Z_DIM, (3, 64, 64), width=256, heads=1, depths=(1, 2, 3, 4))
    assert [len(stage.blocks) for stage in gen.stages] == [1, 2, 3, 4]


def test_start_size_must_match_the_plan() -> None:
    assert TransGANGenerator(Z_DIM, (1, 28, 28), start_size=7, **SMALL_G).start == 7
    with pytest.raises(ConfigError, match="start_size=4 does not match 28 px"):
        TransGANGenerator(Z_DIM, (1, 28, 28), start_size=4, **SMALL_G)


@pytest.mark.parametrize(
    ("shape", "kwargs", "phrase"),
    [
        ((3, 32, 32), {"patch_size": 5}, "patch_size=5 does not tile 32 px"),
        ((1, 28, 28), {"patch_size": 4, "multi_scale": True}, "at two scales"),
        ((3, 32, 32), {"depth": 0}, "depth must be at least 1"),
        ((3, 32, 32), {"dropout": 1.0}, r"dropout must be in \[0, 1\)"),
    ],
)
def test_bad_discriminator_options(shape: tuple[int, int, int], kwargs: dict, phrase: str) -> None:
    with pytest.raises(ConfigError, match=phrase):
        TransGANDiscriminator(shape, **{**SMALL_D, **kwargs})


# --- multi-scale discriminator -----------------------------------------------------------------------


@pytest.mark.parametrize("num_classes", [None, 10], ids=["uncond", "cond"])
def test_multi_scale_discriminator(num_classes: int | None) -> None:
    single = TransGANDiscriminator((3, 32, 32), num_classes, **SMALL_D)
    multi = TransGANDiscriminator((3, 32, 32), num_classes, multi_scale=True, **SMALL_D)
    assert single.num_tokens == 1 + 64
    assert multi.num_tokens == 1 + 64 + 16
    assert multi.coarse_embed.in_features == 3 * 8 * 8
    images = torch.randn(2, 3, 32, 32)
    labels = torch.tensor([0, 5]) if num_classes else None
    assert multi.tokens(images).shape == (2, 81, 48)
    with torch.no_grad():
        logits = multi(images, labels)
    assert logits.shape == (2,)
    assert torch.isfinite(logits).all()
    # The coarse tokens take part: changing their positional embeddings changes the logits.
    with torch.no_grad():
        multi.coarse_pos_embed.add_(0.5 * torch.randn_like(multi.coarse_pos_embed))
        assert not torch.allclose(multi(images, labels), logits, atol=1e-5)
