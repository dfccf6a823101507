"""The training entry point in-process: every model on every dataset kind, budgets, seeds, fine-tuning."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from gan_lightning.errors import ConfigError, DatasetNotFoundError
from gan_lightning.train import train
from tests.helpers import QUICK, TINY_TRANSGAN, read_events


def run(compose_cfg, *overrides: str):
    """Compose the app config with QUICK + overrides, train, return (cfg, run dir)."""
    cfg = compose_cfg(*QUICK, *overrides)
    out = Path(cfg.paths.output_dir)
    train(cfg, out)
    return cfg, out


def load_last(out: Path) -> dict:
    return torch.load(out / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)


def weights(checkpoint: dict, prefix: str = "generator.") -> dict[str, torch.Tensor]:
    return {k: v for k, v in checkpoint["state_dict"].items() if k.startswith(prefix)}


IMAGE_MODELS = [("gan",), ("dcgan",), ("lsgan",), ("cgan", "model.arch=mlp"), ("cgan", "model.arch=conv")]


@pytest.mark.parametrize("model", IMAGE_MODELS, ids=lambda m: "-".join(m))
@pytest.mark.parametrize("data", ["mnist", "fashion_mnist"])
def test_every_model_trains_on_mnist_like(compose_cfg, mnist_root, model, data):
    cfg, out = run(compose_cfg, f"model={model[0]}", *model[1:], f"data={data}", f"data.root={mnist_root}")
    checkpoint = load_last(out)
    assert checkpoint["state_dict"]["generator_step"].item() == 3
    assert sorted(p.name for p in (out / "samples").glob("*.png")) == ["step_0000002.png", "step_0000003.png"]


@pytest.mark.parametrize("augment", ["diffaugment", "none"])
def test_transgan_trains_on_mnist_with_its_recipe(compose_cfg, mnist_root, augment):
    """model=transgan: WGAN-GP with drift, DiffAugment and EMA by default; augment=none is the ablation."""
    cfg, out = run(
        compose_cfg, "model=transgan", "data=mnist", f"data.root={mnist_root}", *TINY_TRANSGAN,
        f"augment={augment}",
    )  # fmt: skip
    assert cfg.model.loss == "wasserstein" and cfg.model.loss_kwargs.drift == 0.001
    assert list(cfg.optimizer.betas) == [0.0, 0.99] and cfg.optimizer.lr_g == 1e-4
    state = load_last(out)["state_dict"]
    assert state["generator_step"].item() == 3
    assert any(name.startswith("ema.networks.generator.") for name in state)
    assert any(".attention." in name or ".attn." in name for name in state)


def test_transgan_trains_on_32px_images_with_labels(compose_cfg, image_folder):
    """A conditional TransGAN on 32 px RGB images (an image folder with one sub-folder per class)."""
    _, out = run(
        compose_cfg, "model=transgan", "model.conditional=true", "data=image_folder",
        f"data.path={image_folder}", "data.image_size=32", "data.batch_size=4", *TINY_TRANSGAN,
    )  # fmt: skip
    assert load_last(out)["state_dict"]["generator_step"].item() == 3


@pytest.mark.parametrize(
    "model", [("dcgan",), ("lsgan",), ("cgan", "model.arch=conv"), ("gan",)], ids=lambda m: "-".join(m)
)
@pytest.mark.parametrize("size", [32, 64])
def test_models_train_on_image_folder(compose_cfg, image_folder, model, size):
    _, out = run(
        compose_cfg,
        f"model={model[0]}",
        *model[1:],
        "data=image_folder",
        f"data.path={image_folder}",
        f"data.image_size={size}",
        "data.batch_size=4",
    )
    assert load_last(out)["state_dict"]["generator_step"].item() == 3


@pytest.mark.parametrize("model", ["gan", "cgan"])
@pytest.mark.parametrize("kind", ["ring", "grid"])
def test_mlp_models_train_on_toy_mixture(compose_cfg, model, kind):
    _, out = run(
        compose_cfg, f"model={model}", "data=gaussian_mixture", f"data.kind={kind}", "data.n_samples=512"
    )
    assert load_last(out)["state_dict"]["generator_step"].item() == 3
    assert (out / "samples" / "step_0000003.png").is_file()


@pytest.mark.parametrize("loss", ["minimax", "non_saturating", "least_squares", "hinge", "wasserstein"])
def test_any_model_takes_any_loss(compose_cfg, mnist_root, loss):
    _, out = run(compose_cfg, "model=dcgan", f"model.loss={loss}", f"data.root={mnist_root}")
    checkpoint = load_last(out)
    assert checkpoint["hyper_parameters"]["loss"] == loss
    assert all(torch.isfinite(v).all() for v in checkpoint["state_dict"].values() if v.is_floating_point())


@pytest.mark.parametrize("n_critic", [1, 3])
def test_max_steps_counts_generator_steps(compose_cfg, mnist_root, n_critic):
    _, out = run(compose_cfg, f"model.n_critic={n_critic}", "trainer.max_steps=4", f"data.root={mnist_root}")
    checkpoint = load_last(out)
    assert checkpoint["state_dict"]["generator_step"].item() == 4
    assert checkpoint["global_step"] == 4 * (n_critic + 1)  # Lightning counts optimizer steps
    d_state, g_state = (next(iter(opt["state"].values())) for opt in checkpoint["optimizer_states"])
    assert (d_state["step"].item(), g_state["step"].item()) == (4 * n_critic, 4)


def test_tensorboard_has_losses_scores_learning_rates_and_images(compose_cfg, mnist_root):
    _, out = run(compose_cfg, "model=cgan", f"data.root={mnist_root}", "trainer.log_every_n_steps=1")
    events = read_events(out / "tensorboard")
    scalars = set(events.Tags()["scalars"])
    for tag in (
        "train/d_loss",
        "train/g_loss",
        "train/D(x)",
        "train/D(G(z))_before_d_step",
        "train/D(G(z))_after_d_step",
        "lr/g",
        "lr/d",
    ):
        assert tag in scalars, f"{tag} missing from {sorted(scalars)}"
    assert len(events.Scalars("train/d_loss")) == 3
    assert events.Tags()["images"] == ["samples"]


def test_same_seed_same_weights_other_seed_other_weights(compose_cfg, mnist_root, tmp_path):
    runs = []
    for i, seed in enumerate([7, 7, 8]):
        out = tmp_path / f"r{i}"
        train(compose_cfg(*QUICK, f"seed={seed}", f"data.root={mnist_root}", out=out), out)
        runs.append(weights(load_last(out)))
    for key in runs[0]:
        torch.testing.assert_close(runs[0][key], runs[1][key])
    assert any(not torch.equal(runs[0][k], runs[2][k]) for k in runs[0])


def test_learning_rate_schedule_is_stepped_per_generator_step(compose_cfg, mnist_root):
    _, out = run(
        compose_cfg,
        "scheduler=step",
        "scheduler.step_size=2",
        "scheduler.gamma=0.1",
        "trainer.max_steps=4",
        "trainer.log_every_n_steps=1",
        f"data.root={mnist_root}",
    )
    lr_g = [e.value for e in read_events(out / "tensorboard").Scalars("lr/g")]
    assert lr_g == pytest.approx([2e-4, 2e-5, 2e-5, 2e-6])  # logged after each step's scheduler.step()


def test_linear_schedule_needs_max_steps(compose_cfg, mnist_root):
    cfg = compose_cfg(*QUICK, "scheduler=linear", "trainer.max_steps=-1", f"data.root={mnist_root}")
    with pytest.raises(ConfigError, match="max_steps"):
        train(cfg, Path(cfg.paths.output_dir))


def test_resume_with_ckpt_path_continues_the_run(compose_cfg, mnist_root, tmp_path):
    first = compose_cfg(*QUICK, "trainer.max_steps=2", f"data.root={mnist_root}", out=tmp_path / "a")
    train(first, tmp_path / "a")
    start = load_last(tmp_path / "a")
    resumed = compose_cfg(
        *QUICK,
        "trainer.max_steps=4",
        f"data.root={mnist_root}",
        f"ckpt_path={tmp_path / 'a' / 'checkpoints' / 'last.ckpt'}",
        out=tmp_path / "b",
    )
    train(resumed, tmp_path / "b")
    end = load_last(tmp_path / "b")
    assert end["state_dict"]["generator_step"].item() == 4
    assert end["global_step"] == 8
    # Adam's step counters went on from 2 to 4: the optimizer state was restored, not rebuilt.
    assert [s["step"].item() for s in end["optimizer_states"][0]["state"].values()][:1] == [4.0]
    # The fixed noise of the sample grids is the one from the first part of the run.
    torch.testing.assert_close(end["callbacks"]["SampleGrid"]["z"], start["callbacks"]["SampleGrid"]["z"])


def test_init_from_copies_weights_with_fresh_optimizers(compose_cfg, mnist_root, tmp_path):
    train(compose_cfg(*QUICK, f"data.root={mnist_root}", out=tmp_path / "a"), tmp_path / "a")
    source = tmp_path / "a" / "checkpoints" / "last.ckpt"
    cfg = compose_cfg(
        *QUICK,
        "trainer.max_steps=1",
        "optimizer.lr_g=1e-5",
        "optimizer.lr_d=1e-5",
        f"init_from={source}",
        f"data.root={mnist_root}",
        out=tmp_path / "b",
    )
    train(cfg, tmp_path / "b")
    tuned = load_last(tmp_path / "b")
    assert tuned["state_dict"]["generator_step"].item() == 1  # a new run, counted from zero
    assert [s["step"].item() for s in tuned["optimizer_states"][0]["state"].values()][:1] == [1.0]
    assert tuned["optimizer_states"][1]["param_groups"][0]["lr"] == pytest.approx(1e-5)
    before, after = weights(torch.load(source, weights_only=False)), weights(tuned)
    # One Adam step of lr 1e-5 away from the source weights, not a fresh initialisation.
    parameters = [k for k in before if "running_" not in k and before[k].is_floating_point()]
    assert parameters
    for key in parameters:
        assert (after[key] - before[key]).abs().max() < 5e-5, key


# --- bad input: a clear message before any training ----------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (("model.n_critic=0",), "n_critic must be at least 1"),
        (("model.z_dim=0",), "z_dim must be a positive"),
        (("optimizer.lr_g=0",), "lr_g must be positive"),
        (("optimizer.lr_d=-1",), "lr_d must be positive"),
        (("data.batch_size=0",), "batch_size must be a positive"),
        (("model.loss=focal",), "Unknown loss 'focal'"),
        (("model.noise=cauchy",), "Unknown noise prior"),
        (("model.arch=resnet",), "Unknown architecture"),
        (("model=dcgan", "data=gaussian_mixture"), "MLP model"),
        (("model.real_label=0.9", "model.loss=hinge"), "label smoothing"),
        (("data.classes=[11]",), "outside 0..9"),
        (("trainer.max_steps=0",), "max_steps must be positive"),
    ],
)
def test_bad_options_fail_before_training(compose_cfg, mnist_root, overrides, message):
    cfg = compose_cfg(*QUICK, f"data.root={mnist_root}", *overrides)
    with pytest.raises(ConfigError, match=message):
        train(cfg, Path(cfg.paths.output_dir))
    assert not (Path(cfg.paths.output_dir) / "checkpoints").exists()


def test_conditional_model_on_unlabelled_folder(compose_cfg, tmp_path):
    from tests.conftest import make_image_folder

    folder = make_image_folder(tmp_path / "flat", classes=())
    cfg = compose_cfg(*QUICK, "model=cgan", "data=image_folder", f"data.path={folder}", "data.batch_size=2")
    with pytest.raises(ConfigError, match="needs labelled data"):
        train(cfg, Path(cfg.paths.output_dir))


def test_empty_folder_and_unsupported_size(compose_cfg, tmp_path, image_folder):
    (tmp_path / "empty").mkdir()
    cfg = compose_cfg(*QUICK, "data=image_folder", f"data.path={tmp_path / 'empty'}")
    with pytest.raises(ConfigError, match="holds no images"):
        train(cfg, Path(cfg.paths.output_dir))
    cfg = compose_cfg(
        *QUICK,
        "model=dcgan",
        "data=image_folder",
        f"data.path={image_folder}",
        "data.image_size=30",
        "data.batch_size=4",
    )
    with pytest.raises(ConfigError, match="Image size 30 is not supported"):
        train(cfg, Path(cfg.paths.output_dir))


def test_missing_dataset_names_folder_and_files(compose_cfg, tmp_path):
    cfg = compose_cfg(
        *QUICK, "data=fashion_mnist", f"data.root={tmp_path / 'nothing'}", "data.download=false"
    )
    with pytest.raises(DatasetNotFoundError) as info:
        train(cfg, Path(cfg.paths.output_dir))
    message = str(info.value)
    assert str(tmp_path / "nothing" / "FashionMNIST" / "raw") in message
    assert "train-images-idx3-ubyte" in message and "GAN_DATA_DIR" in message


def test_failing_run_leaves_existing_checkpoints_untouched(compose_cfg, mnist_root, tmp_path):
    train(compose_cfg(*QUICK, f"data.root={mnist_root}", out=tmp_path / "a"), tmp_path / "a")
    last = tmp_path / "a" / "checkpoints" / "last.ckpt"
    before = last.read_bytes()
    cfg = compose_cfg(*QUICK, f"data.root={mnist_root}", out=tmp_path / "a")
    with pytest.raises(ConfigError, match="already holds checkpoints"):
        train(cfg, tmp_path / "a")  # same run directory again, without ckpt_path
    with pytest.raises(ConfigError, match="no such file"):
        train(
            compose_cfg(*QUICK, f"ckpt_path={tmp_path / 'missing.ckpt'}", out=tmp_path / "c"), tmp_path / "c"
        )
    assert last.read_bytes() == before


# --- robustness --------------------------------------------------------------------------------


def test_nan_loss_stops_at_its_step_and_keeps_checkpoints(compose_cfg, mnist_root, tmp_path, monkeypatch):
    out = tmp_path / "run"
    cfg = compose_cfg(*QUICK, "trainer.max_steps=2", f"data.root={mnist_root}", out=out)
    train(cfg, out)
    before = (out / "checkpoints" / "last.ckpt").read_bytes()
    from gan_lightning.losses import adversarial as losses

    def diverging(fake):
        return fake.mean() * float("nan")

    monkeypatch.setattr(losses, "non_saturating_generator", diverging)
    last = out / "checkpoints" / "last.ckpt"
    resumed = compose_cfg(
        *QUICK, "trainer.max_steps=4", f"data.root={mnist_root}", f"ckpt_path={last}", out=out
    )
    with pytest.raises(FloatingPointError, match=r"generator step 3: train/g_loss = nan"):
        train(resumed, out)
    assert (out / "checkpoints" / "last.ckpt").read_bytes() == before


def test_checkpoint_writes_are_atomic(compose_cfg, mnist_root, tmp_path, monkeypatch):
    out = tmp_path / "run"
    train(compose_cfg(*QUICK, "trainer.max_steps=2", f"data.root={mnist_root}", out=out), out)
    last = out / "checkpoints" / "last.ckpt"
    before = last.read_bytes()

    def crash_midway(obj, handle, *args, **kwargs):
        handle.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", crash_midway)
    from gan_lightning.checkpoint_io import AtomicCheckpointIO

    with pytest.raises(OSError, match="disk full"):
        AtomicCheckpointIO().save_checkpoint({"state_dict": {}}, last)
    assert last.read_bytes() == before
    assert sorted(p.name for p in last.parent.iterdir()) == ["last.ckpt"]  # no temporary file left


@pytest.mark.parametrize("loss", ["non_saturating", "wasserstein"])
def test_bf16_mixed_precision_trains_with_finite_weights(compose_cfg, mnist_root, loss):
    _, out = run(compose_cfg, "trainer.precision=bf16-mixed", f"model.loss={loss}", f"data.root={mnist_root}")
    checkpoint = load_last(out)
    assert checkpoint["state_dict"]["generator_step"].item() == 3
    assert all(torch.isfinite(v).all() for v in checkpoint["state_dict"].values() if v.is_floating_point())


def test_progress_bar_flag_alone_turns_the_bar_off(compose_cfg, mnist_root):
    """trainer.enable_progress_bar=false works without also removing the progress-bar callback."""
    overrides = [o for o in QUICK if o != "~callbacks.progress_bar"]
    cfg = compose_cfg(*overrides, "trainer.enable_progress_bar=false", f"data.root={mnist_root}")
    assert "progress_bar" in cfg.callbacks
    train(cfg, Path(cfg.paths.output_dir))
    assert load_last(Path(cfg.paths.output_dir))["state_dict"]["generator_step"].item() == 3


def test_metrics_none_ignores_metric_options_an_experiment_sets(compose_cfg, mnist_root):
    """`metrics=none` with an experiment that sets `metrics.*` leaves keys without a _target_."""
    cfg = compose_cfg(*QUICK, "metrics=none", "+metrics.every_n_steps=5", f"data.root={mnist_root}")
    train(cfg, Path(cfg.paths.output_dir))
    assert load_last(Path(cfg.paths.output_dir))["state_dict"]["generator_step"].item() == 3
