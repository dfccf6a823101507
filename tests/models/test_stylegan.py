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
from tests.batch_probe import recorded
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


# 28 px grown 7 -> 14 -> 28 within QUICK's 3 steps (one step per level, no fade-in)
GROWN_BY_STEP_2 = ("model.progressive.stable_steps=1", "model.progressive.fade_steps=0")


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


def test_progressive_batch_sizes_follow_the_resolution(compose_cfg, mnist_root):
    """7 px at batch 16 (steps 0-1), 14 px at 4 from its fade-in on (steps 2-5), 28 px at data.batch_size
    8 (steps 6-7): the batches trained on have these sizes, the logged size says so, and the EMA's
    ramp-up and ADA's adjustments count the images actually seen (16 + 16 + 4 ...), not steps x the
    batch size."""
    _, out = run(
        compose_cfg, "stylegan", "data=mnist", f"data.root={mnist_root}", "trainer.max_steps=8",
        "model.progressive.stable_steps=2", "model.progressive.fade_steps=2", "trainer.log_every_n_steps=1",
        "model.progressive.batch_sizes={7:16,14:4}",
        "+callbacks.sizes._target_=tests.batch_probe.RecordBatchSizes",
        "augment=ada", "augment.interval=3", "augment.speed_kimg=1", "augment.p_init=0.5",
    )  # fmt: skip
    sizes = [16, 16, 4, 4, 4, 4, 8, 8]
    assert recorded(out) == dict(enumerate(sizes))
    events = read_events(out / "tensorboard")
    assert [e.value for e in events.Scalars("train/batch_size")] == sizes
    assert [e.value for e in events.Scalars("train/resolution")] == [7, 7, 14, 14, 14, 14, 28, 28]
    betas = [e.value for e in events.Scalars("train/ema_beta")]
    seen = [sum(sizes[:k]) for k in range(8)]
    expected = [
        0.5 ** (size / max(min(10_000, images * 0.05), 1e-8))
        for size, images in zip(sizes, seen, strict=True)
    ]
    assert betas == pytest.approx(expected, rel=1e-5)
    p = [0.5] + [e.value for e in events.Scalars("train/augment_p")]
    moves = [abs(after - before) for before, after in zip(p, p[1:], strict=False)]
    # adjusted after steps 2 and 5 by the images of the last 3 steps / 1000: 16 + 16 + 4, then 3 x 4
    assert moves == pytest.approx([0, 0, 0.036, 0, 0, 0.012, 0, 0], abs=1e-6)


def test_a_finished_run_extended_keeps_each_steps_batch(compose_cfg, mnist_root, tmp_path):
    """Train 5 steps, then resume that run's final checkpoint to step 8: Lightning counts the stopped
    loader epoch as done, but the batches still follow the generator steps (sizes and samples), so the
    weights equal those of 8 steps straight."""
    options = (
        *QUICK, "model=stylegan", *tiny("stylegan"), f"data.root={mnist_root}", "logger=none", "seed=0",
        "model.progressive.stable_steps=2", "model.progressive.fade_steps=1",
        "model.progressive.total_steps=8", "callbacks.sample_grid.every_n_steps=0",
        "model.progressive.batch_sizes={7:12,14:8,28:6}",
        "+callbacks.sizes._target_=tests.batch_probe.RecordBatchSizes",
    )  # fmt: skip
    runs = {}
    for name, steps in (("straight", 8), ("extended", 5)):
        runs[name] = tmp_path / name
        train(compose_cfg(*options, f"trainer.max_steps={steps}", out=runs[name]), runs[name])
    last = runs["extended"] / "checkpoints" / "last.ckpt"
    cfg = compose_cfg(*options, "trainer.max_steps=8", f"ckpt_path={last}", out=runs["extended"])
    train(cfg, runs["extended"])
    sizes = dict(enumerate([12, 12, 8, 8, 8, 6, 6, 6]))
    assert recorded(runs["straight"]) == recorded(runs["extended"]) == sizes
    weights = {
        name: torch.load(out / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
        for name, out in runs.items()
    }
    assert all(torch.equal(weights["straight"][k], weights["extended"][k]) for k in weights["straight"])


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
        (
            "stylegan",
            (*GROWN_BY_STEP_2, "model.progressive.batch_sizes={7:8,32:4}"),
            r"sides 32 that the networks do not have: they grow through 7, 14, 28 px",
        ),
        (
            "stylegan",
            (*GROWN_BY_STEP_2, "model.progressive.batch_sizes={14:0}"),
            r"batch_sizes\[14\] must be a positive whole number of samples, got 0",
        ),
        (
            "stylegan",
            (*GROWN_BY_STEP_2, "model.progressive.batch_sizes={28:65}"),
            r"batch_sizes\[28\]=65 is more than the 64 training samples",
        ),
        (
            "stylegan",
            ("model.progressive=null", "+model.progressive.batch_sizes={7:8}"),
            "batch_sizes, a batch size per resolution of progressive growing, needs "
            "model.progressive.stable_steps and fade_steps",
        ),
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
