"""The adversarial core through the training command: phases and step accounting, the EMA generator
used for sampling, regularizers, spectral norm, augmentation, per-group options, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, TensorDataset

from gan_lightning import log_names
from gan_lightning.errors import ConfigError
from gan_lightning.models import GAN
from gan_lightning.sampling import generate_batches
from gan_lightning.train import train
from tests.helpers import QUICK, read_events
from tests.models.test_stylegan import tiny

ADAM = {"_target_": "torch.optim.Adam", "_partial_": True, "lr_g": 2e-4, "lr_d": 2e-4}


def run(compose_cfg, mnist_root, *overrides: str) -> tuple[Path, dict]:
    cfg = compose_cfg(*QUICK, f"data.root={mnist_root}", *overrides)
    out = Path(cfg.paths.output_dir)
    train(cfg, out)
    return out, torch.load(out / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)


def scalars(out: Path) -> set[str]:
    return set(read_events(out / "tensorboard").Tags()["scalars"])


# --- phases and step accounting -------------------------------------------------------------------


def test_lazy_r1_is_its_own_phase_and_the_budget_still_counts_generator_steps(compose_cfg, mnist_root):
    out, checkpoint = run(
        compose_cfg, mnist_root, "model=dcgan", "model.r1_gamma=1.0", "model.r1_every=2",
        "model.n_critic=2", "trainer.max_steps=5", "trainer.log_every_n_steps=1",
    )  # fmt: skip
    assert checkpoint["state_dict"]["generator_step"].item() == 5
    # 5 x (2 critic steps + 1 generator step) + R1 at steps 0, 2, 4
    assert checkpoint["global_step"] == 5 * 3 + 3
    assert {log_names.R1, log_names.D_REG_LOSS} <= scalars(out)


def test_phases_follow_the_config() -> None:
    def phases(**options):
        return [p.name for p in GAN((2,), arch="mlp", optimizer=ADAM, **options).phases]

    assert phases() == ["discriminator", "generator"]
    assert phases(r1_gamma=1.0, r1_every=4) == ["discriminator", "r1", "generator"]
    assert phases(r1_gamma=1.0, r1_every=1) == ["discriminator", "generator"]  # R1 inside the D step
    assert (
        GAN((2,), arch="mlp", optimizer=ADAM, n_critic=3, r1_gamma=1.0).optimizer_steps_for(8) == 24 + 1 + 8
    )


def test_gradient_penalties_run_the_networks_uncompiled():
    """torch.compile has no double backward: inside ``eager()`` every network runs its eager forward,
    and the compiled one is back afterwards (the compilation itself is lazy: nothing compiles here)."""
    model = GAN((2,), arch="mlp", optimizer=ADAM)
    for name in model.network_names:
        getattr(model, name).compile()
    compiled = {name: getattr(model, name)._compiled_call_impl for name in model.network_names}
    assert all(c is not None for c in compiled.values())
    with model.eager():
        assert all(getattr(model, name)._compiled_call_impl is None for name in model.network_names)
        x = torch.randn(4, 2, requires_grad=True)
        (grad,) = torch.autograd.grad(model.discriminate(x).sum(), x, create_graph=True)
        grad.pow(2).sum().backward()  # double backward through the eager forward
    assert {name: getattr(model, name)._compiled_call_impl for name in model.network_names} == compiled


def test_non_lazy_r1_is_added_to_the_discriminator_step(compose_cfg, mnist_root):
    out, checkpoint = run(
        compose_cfg, mnist_root, "model=gan", "model.r1_gamma=10", "model.r1_every=1",
        "trainer.log_every_n_steps=1",
    )  # fmt: skip
    assert checkpoint["global_step"] == 3 * 2
    assert log_names.R1 in scalars(out) and log_names.D_REG_LOSS not in scalars(out)


def test_gradient_penalty_is_logged(compose_cfg, mnist_root):
    out, _ = run(
        compose_cfg, mnist_root, "model=gan", "model.loss=wasserstein", "trainer.log_every_n_steps=1"
    )
    assert log_names.GRADIENT_PENALTY in scalars(out)


# --- EMA --------------------------------------------------------------------------------------------


def test_ema_generator_is_saved_and_used_for_sampling(compose_cfg, mnist_root):
    _, checkpoint = run(compose_cfg, mnist_root, "model=dcgan", "model.ema_kimg=0.01", "trainer.max_steps=4")
    state = checkpoint["state_dict"]
    ema_keys = [k for k in state if k.startswith("ema.networks.generator.")]
    assert len(ema_keys) == len([k for k in state if k.startswith("generator.")])
    model = GAN(**checkpoint["hyper_parameters"])
    model.load_state_dict(state)
    weight = "upsample.0.weight"
    assert not torch.equal(state[f"ema.networks.generator.{weight}"], state[f"generator.{weight}"])

    samples = {
        ema: torch.cat([x for x, _ in generate_batches(model, 6, 6, seed=0, ema=ema)])
        for ema in (None, False)
    }
    model.eval()
    z = model.sample_inputs(6, torch.Generator().manual_seed(0))["z"]
    with torch.no_grad():
        torch.testing.assert_close(samples[None], model.ema.networks["generator"](z))
        torch.testing.assert_close(samples[False], model.generator(z))
    assert not torch.allclose(samples[None], samples[False])


def test_ema_weights_follow_the_formula_during_training(tmp_path):
    """One step from EMA = G: then EMA = beta * initial + (1 - beta) * trained, beta = 0.5 ** (16 / 16)."""
    torch.manual_seed(0)
    model = GAN((1, 8, 8), arch="mlp", optimizer=ADAM, ema_kimg=0.016)  # half-life: 16 images
    initial = {k: v.clone() for k, v in model.generator.state_dict().items()}
    data = TensorDataset(torch.rand(16, 1, 8, 8) * 2 - 1, torch.zeros(16, dtype=torch.long))
    trainer = pl.Trainer(
        max_steps=model.optimizer_steps_for(1), accelerator="cpu", logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, default_root_dir=tmp_path,
    )  # fmt: skip
    trainer.fit(model, DataLoader(data, batch_size=16))
    assert int(model.generator_step) == 1
    trained, average = model.generator.state_dict(), model.ema.networks["generator"].state_dict()
    for name, value in initial.items():
        torch.testing.assert_close(average[name], 0.5 * value + 0.5 * trained[name])
    assert not torch.equal(trained["head.weight"], initial["head.weight"])  # G did move


# --- regularizers, spectral norm, augmentation ------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "networks"), [("discriminator", ("discriminator",)), ("both", ("generator", "discriminator"))]
)
def test_spectral_norm_on_the_chosen_networks(compose_cfg, mnist_root, option, networks):
    _, checkpoint = run(compose_cfg, mnist_root, "model=dcgan", f"model.spectral_norm={option}")
    keys = checkpoint["state_dict"].keys()
    for network in ("generator", "discriminator"):
        normalized = any(
            k.startswith(f"{network}.") and "parametrizations.weight.original" in k for k in keys
        )
        assert normalized == (network in networks), network


def test_spectral_norm_bounds_the_largest_singular_value():
    model = GAN((1, 8, 8), arch="conv", optimizer=ADAM, spectral_norm="discriminator")
    linear = model.discriminator.head[1]
    linear.train()
    for _ in range(30):  # power iterations converge
        linear(torch.randn(4, linear.in_features))
    assert torch.linalg.matrix_norm(linear.weight, ord=2).item() == pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize("augment", ["diffaugment", "ada"])
def test_training_with_augmentation(compose_cfg, mnist_root, augment):
    out, checkpoint = run(
        compose_cfg, mnist_root, "model=dcgan", f"augment={augment}", "trainer.log_every_n_steps=1",
        "augment.interval=1" if augment == "ada" else "augment.policy=[color,translation,cutout]",
        *(("augment.speed_kimg=0.01",) if augment == "ada" else ()),
    )  # fmt: skip
    assert checkpoint["state_dict"]["generator_step"].item() == 3
    if augment == "ada":
        assert "augment.p" in checkpoint["state_dict"]
        assert log_names.AUGMENT_P in scalars(out)
        assert checkpoint["hyper_parameters"]["augment"]["kind"] == "ada"


def test_per_group_optimizer_options(compose_cfg, mnist_root):
    _, checkpoint = run(
        compose_cfg, mnist_root, "model=gan", "+optimizer.generator.betas=[0.0,0.99]", "optimizer.lr_d=1e-3"
    )
    d_group, g_group = (state["param_groups"][0] for state in checkpoint["optimizer_states"])
    assert g_group["betas"] == (0.0, 0.99) and d_group["betas"] == (0.5, 0.999)
    assert d_group["lr"] == 1e-3 and g_group["lr"] == 2e-4


def test_init_networks_copies_only_the_chosen_network(compose_cfg, mnist_root, tmp_path):
    _, source = run(compose_cfg, mnist_root, "model=gan", "seed=1")
    cfg = compose_cfg(
        *QUICK, f"data.root={mnist_root}", "model=gan", "seed=2", "trainer.max_steps=1",
        f"init_from={tmp_path / 'run' / 'checkpoints' / 'last.ckpt'}", "init_networks=[generator]",
        "optimizer.lr_g=1e-12", "optimizer.lr_d=1e-12", out=tmp_path / "second",
    )  # fmt: skip
    train(cfg, tmp_path / "second")
    state = torch.load(tmp_path / "second" / "checkpoints" / "last.ckpt", weights_only=False)["state_dict"]
    g_key = next(k for k in state if k.startswith("generator.") and k.endswith("weight"))
    d_key = next(k for k in state if k.startswith("discriminator.") and k.endswith("weight"))
    torch.testing.assert_close(state[g_key], source["state_dict"][g_key], atol=1e-6, rtol=0)
    assert not torch.allclose(state[d_key], source["state_dict"][d_key])


# --- the path-length penalty (StyleGAN2) ------------------------------------------------------------


def test_path_length_phase_runs_every_pl_every_steps(compose_cfg, mnist_root):
    out, checkpoint = run(
        compose_cfg, mnist_root, "model=stylegan2", *tiny("stylegan2"), "model.r1_gamma=0",
        "model.pl_every=2", "trainer.log_every_n_steps=1",
    )  # fmt: skip
    assert checkpoint["global_step"] == 3 * 2 + 2  # path length at steps 0 and 2
    assert checkpoint["state_dict"]["path_length_mean"].item() > 0
    assert {log_names.PATH_LENGTH, log_names.G_REG_LOSS} <= scalars(out)


# --- bad input ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (("model.r1_gamma=-1",), "model.r1_gamma must be >= 0"),
        (("+model.pl_weight=1",), "model.pl_weight: not an option of GAN. It is an option of StyleGAN2"),
        (("model.ema_kimg=0",), "model.ema_kimg .* must be positive"),
        (("model.r1_every=0",), "model.r1_every must be a positive integer"),
        (("model.spectral_norm=generator",), "model.spectral_norm must be one of none, discriminator, both"),
        (("augment=diffaugment", "augment.policy=[color,zoom]"), "augment.policy"),
        (("model=gan", "data=gaussian_mixture", "augment=diffaugment"), "Use augment=none for 2-D toy data"),
        (("init_networks=[generator]",), "give init_from=PATH too"),
    ],
)
def test_bad_toolkit_options_fail_before_training(compose_cfg, mnist_root, overrides, message):
    cfg = compose_cfg(*QUICK, f"data.root={mnist_root}", *overrides)
    out = Path(cfg.paths.output_dir)
    with pytest.raises(ConfigError, match=message):
        train(cfg, out)
    assert not (out / "checkpoints").exists()


def test_ema_on_a_family_without_a_generator_is_refused(monkeypatch):
    monkeypatch.setattr(GAN, "ema_networks", ())
    with pytest.raises(ConfigError, match="no generator to average"):
        GAN((2,), arch="mlp", optimizer=ADAM, ema_kimg=10)


def test_lazy_r1_is_weighted_by_its_interval():
    """The lazy R1 phase's loss is gamma / 2 * interval * E||grad D(x)||^2."""
    from gan_lightning.losses import r1_penalty

    torch.manual_seed(0)
    real = torch.rand(6, 1, 8, 8) * 2 - 1
    batch = (real, torch.zeros(6, dtype=torch.long))
    no_dropout = {"mlp": {"discriminator": {"dropout": 0.0}}}
    lazy = GAN((1, 8, 8), arch="mlp", optimizer=ADAM, r1_gamma=3.0, r1_every=4, networks=no_dropout)
    loss, values = lazy.r1_loss(batch, torch.Generator().manual_seed(0))
    expected = r1_penalty(lambda x: lazy.discriminate(x), real)
    torch.testing.assert_close(values[log_names.R1], expected.detach())
    torch.testing.assert_close(loss, 0.5 * 3.0 * 4 * expected)
