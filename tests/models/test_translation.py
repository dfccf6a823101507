"""The unpaired-translation family (CycleGAN, DiscoGAN): losses against hand computations, the image
pool in the training step, the learning-rate schedule, short runs on tiny domains, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image

from gan_lightning.errors import ConfigError
from gan_lightning.models import UnpairedTranslation
from gan_lightning.schedules import ConstantThenLinear
from gan_lightning.train import train
from tests.helpers import QUICK, QUICK_TRANSLATION, read_events

ADAM = {"_target_": "torch.optim.Adam", "_partial_": True, "lr_g": 2e-4, "lr_d": 2e-4, "betas": [0.5, 0.999]}
TINY = {
    "resnet": {"generator": {"base_channels": 4, "n_blocks": 1}, "discriminator": {"base_channels": 4}},
    "encoder_decoder": {"generator": {"base_channels": 4}, "discriminator": {"base_channels": 4}},
}


def tiny_model(**options) -> UnpairedTranslation:
    torch.manual_seed(0)
    return UnpairedTranslation(data_shape=(3, 32, 32), networks=TINY, optimizer=ADAM, **options)


def batch(n: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    return tuple(torch.rand(n, 3, 32, 32, generator=generator) * 2 - 1 for _ in range(2))


def run(compose_cfg, two_domains: Path, *overrides: str):
    # data.root: where the domain classifier is cached (the real data root may be read-only)
    cfg = compose_cfg(
        *QUICK_TRANSLATION, f"data.path={two_domains}", f"data.root={two_domains.parent}", *overrides
    )
    out = Path(cfg.paths.output_dir)
    train(cfg, out)
    return cfg, out


# --- losses ---------------------------------------------------------------------------------------


def test_cyclegan_generator_loss_is_adversarial_plus_cycle_plus_identity():
    model = tiny_model(loss="least_squares", cycle_weight=10.0, identity_weight=0.5).eval()
    a, b = batch()
    loss, values = model.generator_loss((a, b), torch.Generator().manual_seed(0))
    G, F, D_a, D_b = model.generator_ab, model.generator_ba, model.discriminator_a, model.discriminator_b
    with torch.no_grad():
        adversarial = 0.5 * ((D_b(G(a)) - 1) ** 2).mean() + 0.5 * ((D_a(F(b)) - 1) ** 2).mean()
        cycle = (F(G(a)) - a).abs().mean() + (G(F(b)) - b).abs().mean()
        identity = (G(b) - b).abs().mean() + (F(a) - a).abs().mean()
    torch.testing.assert_close(loss.detach(), adversarial + 10.0 * cycle + 0.5 * 10.0 * identity)
    torch.testing.assert_close(values["train/cycle_a2b"], (F(G(a)) - a).abs().mean().detach())
    torch.testing.assert_close(values["train/identity_b2a"], (F(a) - a).abs().mean().detach())


def test_identity_weight_zero_drops_the_identity_term():
    model = tiny_model(identity_weight=0.0).eval()
    a, b = batch()
    _, values = model.generator_loss((a, b), torch.Generator().manual_seed(0))
    assert not any(name.startswith("train/identity") for name in values)


def test_discogan_loss_weights_feature_matching_and_its_curriculum():
    model = tiny_model(
        arch="encoder_decoder", loss="non_saturating", adversarial_weight=0.1, feature_matching_weight=0.9,
        cycle_weight=1.0, cycle_curriculum={"until_step": 5, "weight": 0.01}, identity_weight=0.0,
        reconstruction="l2", pool_size=0,
    ).eval()  # fmt: skip
    a, b = batch(4)
    loss, values = model.generator_loss((a, b), torch.Generator().manual_seed(0))
    G, F, D_a, D_b = model.generator_ab, model.generator_ba, model.discriminator_a, model.discriminator_b
    with torch.no_grad():
        expected = torch.zeros(())
        for fake, real, cycled, source, D in ((G(a), b, F(G(a)), a, D_b), (F(b), a, G(F(b)), b, D_a)):
            logits, fake_features = D(fake, return_features=True)
            _, real_features = D(real, return_features=True)
            matching = sum(
                ((r.mean(0) - f.mean(0)) ** 2).mean()
                for r, f in zip(real_features, fake_features, strict=True)
            )
            adversarial = torch.nn.functional.softplus(-logits).mean()
            expected = expected + 0.1 * adversarial + 0.9 * matching + 0.01 * ((cycled - source) ** 2).mean()
    torch.testing.assert_close(loss.detach(), expected)
    assert values["train/cycle_weight"].item() == pytest.approx(0.01)
    model.generator_step.fill_(5)
    assert model.cycle_weight_at(5) == 1.0 and model.cycle_weight_at(4) == 0.01


def test_discriminator_phase_sees_translations_through_the_pool():
    model = tiny_model(pool_size=3)
    a, b = batch(2)
    for step in range(3):
        noise = torch.Generator().manual_seed(step)
        model.generator_loss((a, b), noise)
        loss, values = model.discriminator_loss((a, b), noise)
        assert torch.isfinite(loss)
        assert len(model.pool_a) == len(model.pool_b) == min(3, 2 * (step + 1))
    # D_B judges the translations a2b, D_A those of b2a: the scores are named by direction
    translated = {"train/D(translated)_before_d_step_a2b", "train/D(translated)_before_d_step_b2a"}
    assert {"train/d_loss_a", "train/d_loss_b", "train/D(x)_a", *translated} <= set(values)


def test_generate_gives_the_translation_grid_rows():
    model = tiny_model().eval()
    a, b = batch(2)
    grid = model.generate({"a": a, "b": b})
    assert grid.shape == (12, 3, 32, 32) and model.grid_columns == 3
    torch.testing.assert_close(grid[0], a[0])
    torch.testing.assert_close(grid[1], model.generator_ab(a[:1])[0])
    torch.testing.assert_close(grid[2], model.generator_ba(model.generator_ab(a[:1]))[0])
    torch.testing.assert_close(grid[6], b[0])


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"cycle_weight": -1.0}, "cycle_weight"),
        ({"pool_size": -2}, "pool_size"),
        ({"cycle_curriculum": {"until": 3}}, "until_step"),
        ({"loss": "wasserstein"}, "wasserstein"),
        ({"arch": "unet"}, "resnet"),
    ],
)
def test_bad_options_are_refused(options, match):
    with pytest.raises(ConfigError, match=match):
        tiny_model(**options)


# --- the learning-rate schedule --------------------------------------------------------------------


def test_constant_then_linear_decay():
    schedule = ConstantThenLinear(total_steps=100, decay_fraction=0.5)
    assert schedule.decay_start == 50
    assert [schedule(s) for s in (0, 49, 50, 75, 100)] == [1.0, 1.0, 1.0, 0.5, 0.0]
    optimizer = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=2e-4)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    lrs = []
    for _ in range(100):
        optimizer.step()
        scheduler.step()
        lrs.append(optimizer.param_groups[0]["lr"])
    assert lrs[48] == pytest.approx(2e-4) and lrs[74] == pytest.approx(1e-4) and lrs[-1] == 0.0
    with pytest.raises(ConfigError, match="max_steps"):
        ConstantThenLinear(total_steps=-1)


# --- short runs on tiny domains ------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["cyclegan", "discogan"])
def test_translation_models_train_on_two_domains(compose_cfg, two_domains, model):
    cfg, out = run(compose_cfg, two_domains, f"model={model}")
    checkpoint = torch.load(out / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
    state = checkpoint["state_dict"]
    assert state["generator_step"].item() == 3
    assert {"generator_ab", "generator_ba", "discriminator_a", "discriminator_b"} <= {
        k.split(".")[0] for k in state
    }
    if model == "cyclegan":
        assert cfg.scheduler.lr_lambda._target_.endswith("ConstantThenLinear")
        assert state["pool_a.images"].shape == (6, 3, 32, 32)  # 3 steps x batch 2, pool of 50
    grid = Image.open(out / "samples" / "step_0000003.png")
    assert grid.size == (2 + 3 * 34, 2 + 8 * 34)  # 3 columns (a, G(a), F(G(a))), 4 + 4 rows


def test_translation_metrics_per_direction(compose_cfg, two_domains):
    _, out = run(
        compose_cfg, two_domains, "model=cyclegan", "metrics.train_classifier=true", "model.ema_kimg=0.01"
    )
    scalars = set(read_events(out / "tensorboard").Tags()["scalars"])
    for direction in ("a2b", "b2a"):
        for name in ("fid", "kid", "domain_acc", "cycle_l1", "cycle_psnr", "identity_l1"):
            assert f"val/{name}_{direction}" in scalars
    assert len(list((two_domains.parent / "feature_nets").glob("unpaired-*-domains.pt"))) == 1


def test_translation_with_the_core_extras(compose_cfg, two_domains):
    """EMA of both generators, spectral norm, DiffAugment and R1 all work with CycleGAN."""
    _, out = run(
        compose_cfg, two_domains, "model=cyclegan", "model.ema_kimg=0.01",
        "model.spectral_norm=discriminator", "augment=diffaugment", "model.r1_gamma=1.0",
    )  # fmt: skip
    state = torch.load(out / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)["state_dict"]
    assert any(k.startswith("ema.networks.generator_ab.") for k in state)
    assert any(k.startswith("ema.networks.generator_ba.") for k in state)


# --- bad input ---------------------------------------------------------------------------------------


def test_cyclegan_on_one_domain_data_says_what_to_use(compose_cfg, mnist_root):
    cfg = compose_cfg(
        *QUICK_TRANSLATION[:5], "model=cyclegan", f"data.root={mnist_root}", "trainer.max_steps=3"
    )
    with pytest.raises(ConfigError, match="data=unpaired"):
        train(cfg, Path(cfg.paths.output_dir))


def test_noise_model_on_unpaired_data_says_what_to_use(compose_cfg, two_domains):
    cfg = compose_cfg(
        *QUICK,
        "model=dcgan",
        "data=unpaired",
        f"data.path={two_domains}",
        "data.image_size=32",
        "data.batch_size=2",
    )
    with pytest.raises(ConfigError, match="model=cyclegan"):
        train(cfg, Path(cfg.paths.output_dir))


def test_image_size_the_generator_cannot_downsample(compose_cfg, two_domains):
    cfg = compose_cfg(*QUICK_TRANSLATION, f"data.path={two_domains}", "model=cyclegan", "data.image_size=30")
    with pytest.raises(ConfigError, match="30"):
        train(cfg, Path(cfg.paths.output_dir))
    assert not (Path(cfg.paths.output_dir) / "checkpoints").exists()
