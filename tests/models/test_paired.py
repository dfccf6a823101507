"""pix2pix's training step (PairedTranslation) on tiny networks: the reference's order and losses."""

from __future__ import annotations

import pytest
import torch

from gan_lightning.errors import ConfigError
from gan_lightning.losses import get_loss
from gan_lightning.models import PairedTranslation

NETWORKS = {
    "generator": {"_target_": "gan_lightning.networks.UNetGenerator", "base_channels": 4, "dropout": 0.0},
    "discriminator": {
        "_target_": "gan_lightning.networks.PatchDiscriminator",
        "base_channels": 4,
        "n_layers": 2,
    },
}
OPTIMIZER = {"_target_": "torch.optim.Adam", "lr_g": 2e-4, "lr_d": 2e-4, "betas": [0.5, 0.999]}


def tiny_model(**options) -> PairedTranslation:
    torch.manual_seed(0)
    return PairedTranslation((1, 16, 16), (3, 16, 16), NETWORKS, optimizer=OPTIMIZER, **options)


def pairs(n: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return torch.rand(n, 1, 16, 16, generator=g) * 2 - 1, torch.rand(n, 3, 16, 16, generator=g) * 2 - 1


def test_d_then_g_as_in_the_reference():
    assert [(p.name, p.group, p.every) for p in tiny_model().phases] == [
        ("discriminator", "discriminator", 1),
        ("generator", "generator", 1),
    ]


def test_d_judges_the_pair_source_and_image_concatenated():
    model = tiny_model()
    assert model.discriminator.blocks[0][0].in_channels == 1 + 3


def test_one_translation_per_step_serves_both_phases():
    model = tiny_model()
    calls = []
    model.generator.register_forward_hook(lambda *_: calls.append(1))
    batch, rng = pairs(), torch.Generator().manual_seed(0)
    model.before_phases(batch)
    model.discriminator_loss(batch, rng)
    model.generator_loss(batch, rng)
    assert len(calls) == 1


def test_losses_by_hand():
    model = tiny_model()
    source, target = batch = pairs()
    model.before_phases(batch)
    translated = model._translated.detach().clone()
    d_loss, d_values = model.discriminator_loss(batch, torch.Generator().manual_seed(0))
    bce = get_loss("non_saturating")
    with torch.no_grad():
        real = model.discriminator(torch.cat([source, target], 1))
        fake = model.discriminator(torch.cat([source, translated], 1))
    assert d_loss.item() == pytest.approx(0.5 * bce.discriminator(real, fake, 1.0).item(), rel=1e-5)
    g_loss, g_values = model.generator_loss(batch, torch.Generator().manual_seed(0))
    l1 = (translated - target).abs().mean()
    assert g_values["train/l1"].item() == pytest.approx(l1.item(), rel=1e-5)
    expected = g_values["train/g_adv"] + 100 * l1
    assert g_loss.item() == pytest.approx(expected.item(), rel=1e-5)
    assert {"train/D(x)", "train/D(translated)_before_d_step"} <= set(d_values)


def test_the_grid_shows_source_output_target_rows():
    model = tiny_model().eval()
    source, target = pairs(2)
    grid = model.generate({"source": source, "target": target})
    assert grid.shape == (6, 3, 16, 16)
    assert torch.equal(grid[0], source[0].expand(3, -1, -1)) and torch.equal(grid[2], target[0])
    assert torch.equal(grid[4], model.translate(source[1:2])[0])


def test_shapes_that_do_not_pair_are_refused():
    with pytest.raises(ConfigError, match="data=paired"):
        PairedTranslation((1, 16, 16), (3, 32, 32), NETWORKS, optimizer=OPTIMIZER)
    with pytest.raises(ConfigError, match="_target_"):
        PairedTranslation((1, 16, 16), (3, 16, 16), {"generator": {"base_channels": 4}}, optimizer=OPTIMIZER)
