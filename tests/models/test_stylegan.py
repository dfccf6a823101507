"""StyleGAN and StyleGAN2 in the GAN family: short runs, style mixing in training, truncation in W,
progressive growing with its schedule and checks, the style-mixing figure and W interpolation."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from PIL import Image

from gan_lightning.checkpoints import load_model
from gan_lightning.errors import ConfigError
from gan_lightning.models import StyleGAN2
from gan_lightning.train import train
from tests.helpers import QUICK, read_events
from tests.test_cli import cli

ADAM = {"_target_": "torch.optim.Adam", "_partial_": True, "lr_g": 2e-3, "lr_d": 2e-3, "betas": [0.0, 0.99]}
SMALL = {"channel_base": 256, "channel_max": 32, "w_dim": 32, "mapping_layers": 2}


def tiny(model: str) -> tuple[str, ...]:
    """Overrides that make model=stylegan / stylegan2 small (none for other models)."""
    if model not in ("stylegan", "stylegan2"):
        return ()
    parts = (("generator", SMALL), ("discriminator", {"channel_base": 256, "channel_max": 32}))
    return tuple(f"model.networks.{model}.{net}.{k}={v}" for net, keys in parts for k, v in keys.items())


def stylegan2(**options) -> StyleGAN2:
    torch.manual_seed(0)
    networks = {"stylegan2": {"generator": SMALL, "discriminator": {"channel_base": 256, "channel_max": 32}}}
    return StyleGAN2(
        data_shape=(1, 28, 28), arch="stylegan2", networks=networks, z_dim=16, optimizer=ADAM, **options
    )


def run(compose_cfg, model: str, *overrides: str):
    cfg = compose_cfg(*QUICK, f"model={model}", *tiny(model), "data.batch_size=8", *overrides)
    out = Path(cfg.paths.output_dir)
    train(cfg, out)
    return cfg, out


# --- training ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["stylegan2", "stylegan"])
def test_stylegans_train_on_fashion_mnist(compose_cfg, mnist_root, model):
    overrides = (
        ["model.progressive.stable_steps=1", "model.progressive.fade_steps=1"] if model == "stylegan"
        else ["model.pl_every=2"]
    )  # fmt: skip
    cfg, out = run(
        compose_cfg, model, "data=fashion_mnist", f"data.root={mnist_root}", "trainer.max_steps=4",
        "model.r1_every=2", *overrides,
    )  # fmt: skip
    assert list(cfg.optimizer.betas) == [0.0, 0.99]
    state = torch.load(out / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)["state_dict"]
    assert state["generator_step"].item() == 4
    assert state["generator.w_avg"].abs().sum() > 0  # the average w is tracked in training
    assert any(k.startswith("ema.networks.generator.mapping_network.") for k in state)
    if model == "stylegan2":
        assert state["path_length_mean"].item() > 0  # path-length regularization ran (steps 0 and 2)


def test_conditional_stylegan2_samples_the_asked_class(compose_cfg, mnist_root, tmp_path):
    _, out = run(
        compose_cfg, "stylegan2", "model.conditional=true", "data=fashion_mnist",
        f"data.root={mnist_root}", "model.pl_weight=0",
    )  # fmt: skip
    model = load_model(out / "checkpoints" / "last.ckpt")
    inputs = model.sample_inputs(2, torch.Generator().manual_seed(0), torch.tensor([1, 7]))
    inputs["z"][1] = inputs["z"][0]  # one latent, two classes
    images = model.generate(inputs)
    assert images.shape == (2, 1, 28, 28)
    assert not torch.allclose(images[0], images[1])  # the label enters the mapping network


def test_progressive_growing_logs_resolution_and_fades(compose_cfg, mnist_root):
    """28 px grows 7 -> 14 -> 28: 2 stable steps per level, 2 fade-in steps before each new one."""
    _, out = run(
        compose_cfg, "stylegan", "data=mnist", f"data.root={mnist_root}", "trainer.max_steps=8",
        "model.progressive.stable_steps=2", "model.progressive.fade_steps=2", "trainer.log_every_n_steps=1",
    )  # fmt: skip
    events = read_events(out / "tensorboard")
    resolution = [e.value for e in events.Scalars("train/resolution")]
    alpha = [round(e.value, 3) for e in events.Scalars("train/fade_alpha")]
    assert resolution == [7, 7, 14, 14, 14, 14, 28, 28]
    assert alpha == [1.0, 1.0, 0.0, 0.5, 1.0, 1.0, 0.0, 0.5]
    grid = Image.open(sorted((out / "samples").glob("*.png"))[0])
    assert grid.size == (2 + 8 * 30, 2 + 8 * 30)  # grids at the final size, whatever the level


def test_style_mixing_draws_a_second_latent_with_its_probability():
    noise = torch.Generator().manual_seed(0)
    calls = []
    model = stylegan2(style_mixing=1.0)
    original = model.generator.forward

    def spy(z, labels=None, **options):
        calls.append(options)
        return original(z, labels, **options)

    model.generator.forward = spy
    model.fake_images(4, None, noise)
    assert calls[0]["mixing_z"].shape == (4, 16) and 1 <= calls[0]["mixing_cutoff"] < model.generator.num_ws
    model.hparams.style_mixing = 0.0
    model.fake_images(4, None, noise)
    assert "mixing_z" not in calls[1] and calls[1]["noise_rng"] is noise


def test_truncation_in_w_psi_zero_is_the_average_image_and_one_is_off():
    model = stylegan2().eval()
    model.generator.w_avg.normal_()
    rng = torch.Generator().manual_seed(3)
    average = model.generate(model.sample_inputs(3, rng, truncation=0.0))
    torch.testing.assert_close(average[0], average[2])
    plain = model.sample_inputs(3, torch.Generator().manual_seed(4))
    off = model.sample_inputs(3, torch.Generator().manual_seed(4), truncation=1.0)
    torch.testing.assert_close(model.generate(off), model.generate(plain))
    with pytest.raises(ConfigError, match=r"psi in \[0, 1\]"):
        model.sample_inputs(3, rng, truncation=1.5)


@pytest.mark.parametrize(
    ("model", "options", "match"),
    [
        (
            "dcgan",
            ("+model.style_mixing=0.9",),
            "not an option of GAN. It is an option of StyleGAN, StyleGAN2",
        ),
        (
            "stylegan2",
            ("+model.progressive.stable_steps=5",),
            "not an option of StyleGAN2. It is an option of StyleGAN",
        ),
        ("stylegan2", ("model.arch=conv",), "needs style-based networks"),
        ("stylegan", ("trainer.max_steps=100",), "only at generator step 4000"),
    ],
)
def test_bad_stylegan_options_say_what_to_change(compose_cfg, mnist_root, model, options, match):
    cfg = compose_cfg(*QUICK, f"model={model}", *tiny(model), f"data.root={mnist_root}", *options)
    with pytest.raises(ConfigError, match=match):
        train(cfg, Path(cfg.paths.output_dir))


# --- using a trained StyleGAN ----------------------------------------------------------------------------


def test_style_mixing_figure_and_w_interpolation(compose_cfg, mnist_root, tmp_path):
    _, out = run(compose_cfg, "stylegan2", "data=mnist", f"data.root={mnist_root}", "model.pl_weight=0")
    ckpt = out / "checkpoints" / "last.ckpt"
    sample = [sys.executable, "-m", "gan_lightning.sample"]
    figure = cli(f"ckpt={ckpt}", "style_mixing=true", "rows=2", "columns=3", f"out={tmp_path / 'mix.png'}",
                 "truncation=0.7", command=sample)  # fmt: skip
    assert figure.returncode == 0, figure.stderr[-2000:]
    assert Image.open(tmp_path / "mix.png").size == (2 + 4 * 30, 2 + 7 * 30)  # 1 + 3 x 2 rows, 1 + 3 columns
    walk = cli(
        f"ckpt={ckpt}", "interpolate=true", "rows=2", "steps=4", f"out={tmp_path / 'w.pt'}", command=sample
    )
    assert walk.returncode == 0, walk.stderr[-2000:]
    images = torch.load(tmp_path / "w.pt")["images"]
    assert images.shape == (8, 1, 28, 28)
    dcgan_out = tmp_path / "dcgan"
    dcgan = compose_cfg(*QUICK, "model=dcgan", f"data.root={mnist_root}", out=dcgan_out)
    train(dcgan, dcgan_out)
    refused = cli(f"ckpt={dcgan_out / 'checkpoints' / 'last.ckpt'}", "style_mixing=true", command=sample)
    assert refused.returncode == 2 and "StyleGAN checkpoint" in refused.stderr


def test_style_mixing_figure_takes_the_column_styles():
    """Coarse block: the mixed image equals synthesis of the row's ws with the column's coarse ws."""
    from gan_lightning.style_mixing import style_mixing_figure

    model = stylegan2().eval()
    cells = style_mixing_figure(model, rows=1, columns=2, seed=5)
    assert cells.shape == ((1 + 3) * 3, 1, 28, 28)
    inputs = model.sample_inputs(3, torch.Generator().manual_seed(5))
    w = model.latents_w(inputs)
    ws = w[:1, None].repeat(1, model.generator.num_ws, 1)
    coarse = list(model.generator.style_ranges()["coarse"])
    ws[:, coarse] = w[2]
    expected = model.generator.synthesis(ws, noise_mode="const")
    torch.testing.assert_close(cells[3 + 2], expected[0])  # coarse block, first row, second column
