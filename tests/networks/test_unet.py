"""pix2pix's U-Net generator: shapes, depth, skip connections, dropout placement, bad sizes."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gan_lightning.errors import ConfigError
from gan_lightning.networks import UNetGenerator


def test_maps_sources_to_images_in_range():
    g = UNetGenerator(in_channels=1, out_channels=3, image_size=32, base_channels=4).eval()
    out = g(torch.randn(2, 1, 32, 32))
    assert out.shape == (2, 3, 32, 32)
    assert out.abs().max() <= 1


def test_default_depth_halves_to_one_pixel_and_widths_cap_at_8x():
    g = UNetGenerator(3, 3, image_size=64, base_channels=4)
    assert g.depth == 6
    seen = []
    g.down[-1].register_forward_hook(lambda module, args, out: seen.append(out.shape))
    g.eval()(torch.randn(1, 3, 64, 64))
    assert seen == [(1, 32, 1, 1)]  # 4, 8, 16, 32, 32, 32 channels; 64 / 2**6 = 1
    convs = [m for m in g.down.modules() if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [4, 8, 16, 32, 32, 32]


def test_every_decoder_layer_but_the_innermost_takes_its_skip():
    g = UNetGenerator(3, 3, image_size=32, base_channels=4)
    ups = [m for m in g.up.modules() if isinstance(m, nn.ConvTranspose2d)]
    downs = [m for m in g.down.modules() if isinstance(m, nn.Conv2d)]
    assert ups[0].in_channels == downs[-1].out_channels  # innermost: no skip
    for up, down in zip(ups[1:], reversed(downs[:-1]), strict=True):
        assert up.in_channels == 2 * down.out_channels


@pytest.mark.parametrize(("size", "expected"), [(256, 3), (64, 1), (32, 0)])
def test_dropout_sits_where_the_reference_puts_it(size, expected):
    # junyanz: num_downs - 5 blocks of 8 x base channels with dropout (256 px: 3; 64 px: 1)
    g = UNetGenerator(3, 3, image_size=size, base_channels=2)
    assert sum(isinstance(m, nn.Dropout) for m in g.modules()) == expected
    assert not any(isinstance(m, nn.Dropout) for m in UNetGenerator(3, 3, size, 2, dropout=0).modules())


def test_dropout_is_the_noise_in_training_and_off_in_eval():
    torch.manual_seed(0)
    g = UNetGenerator(3, 3, image_size=64, base_channels=2)
    x = torch.randn(2, 3, 64, 64)
    assert not torch.equal(g.train()(x), g(x))
    assert torch.equal(g.eval()(x), g(x))


@pytest.mark.parametrize(("size", "depth", "message"), [(48, None, "power of two"), (32, 6, "divisible")])
def test_sizes_it_cannot_halve_are_refused(size, depth, message):
    with pytest.raises(ConfigError, match=message):
        UNetGenerator(3, 3, image_size=size, depth=depth)
