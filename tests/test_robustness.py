"""Failure handling and numerics: clear errors for bad checkpoints and unwritable or full disks,
gradient clipping, and mixed precision (see also the NaN and atomic-write tests in test_train.py)."""

from __future__ import annotations

import errno

import pytest
import pytorch_lightning as pl
import torch
from pytorch_lightning.plugins.precision import MixedPrecision

from gan_lightning import files
from gan_lightning.data import GaussianMixtureDataModule
from gan_lightning.errors import ConfigError, StorageError
from gan_lightning.models import GAN
from gan_lightning.train import train
from tests.helpers import QUICK


def checkpoint_of(compose_cfg, tmp_path, mnist_root, name: str, *overrides: str):
    out = tmp_path / name
    train(compose_cfg(*QUICK, "trainer.max_steps=2", f"data.root={mnist_root}", *overrides, out=out), out)
    return out / "checkpoints" / "last.ckpt"


# --- checkpoints that cannot resume the run --------------------------------------------------


def test_corrupted_ckpt_path_fails_before_training(compose_cfg, mnist_root, tmp_path):
    good = checkpoint_of(compose_cfg, tmp_path, mnist_root, "a")
    broken = tmp_path / "broken.ckpt"
    broken.write_bytes(good.read_bytes()[: good.stat().st_size // 2])  # a truncated copy
    out = tmp_path / "b"
    cfg = compose_cfg(*QUICK, f"data.root={mnist_root}", f"ckpt_path={broken}", out=out)
    with pytest.raises(ConfigError, match=r"ckpt_path=.*broken.ckpt is not a readable checkpoint.*truncated"):
        train(cfg, out)
    assert not list((out / "checkpoints").glob("*.ckpt")) and not (out / "tensorboard").exists()


def test_checkpoint_of_another_model_is_refused(compose_cfg, mnist_root, tmp_path):
    foreign = checkpoint_of(compose_cfg, tmp_path, mnist_root, "a", "model=cgan")
    out = tmp_path / "b"
    cfg = compose_cfg(*QUICK, "model=gan", f"data.root={mnist_root}", f"ckpt_path={foreign}", out=out)
    with pytest.raises(ConfigError, match=r"written by a different model: .* weights differ.*model=, data="):
        train(cfg, out)


def test_weights_only_checkpoint_points_to_init_from(compose_cfg, mnist_root, tmp_path):
    full = torch.load(checkpoint_of(compose_cfg, tmp_path, mnist_root, "a"), weights_only=True)
    weights_only = tmp_path / "weights.ckpt"
    torch.save({k: full[k] for k in ("state_dict", "hyper_parameters")}, weights_only)
    cfg = compose_cfg(*QUICK, f"data.root={mnist_root}", f"ckpt_path={weights_only}", out=tmp_path / "b")
    with pytest.raises(ConfigError, match=r"no training state.*init_from="):
        train(cfg, tmp_path / "b")


# --- disks ---------------------------------------------------------------------------------


def test_unwritable_output_directory_is_reported(compose_cfg, mnist_root, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    out = blocker / "run"
    cfg = compose_cfg(*QUICK, f"data.root={mnist_root}", out=out)
    with pytest.raises(
        ConfigError, match=r"Cannot write to the output directory .*a_file/run.*hydra.run.dir"
    ):
        train(cfg, out)


def test_full_disk_stops_with_a_message_and_keeps_the_last_checkpoint(
    compose_cfg, mnist_root, tmp_path, monkeypatch
):
    last = checkpoint_of(compose_cfg, tmp_path, mnist_root, "a")
    before = last.read_bytes()

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.torch, "save", disk_full)
    cfg = compose_cfg(
        *QUICK, "trainer.max_steps=4", f"data.root={mnist_root}", f"ckpt_path={last}", out=last.parents[1]
    )
    with pytest.raises(StorageError, match=r"last.ckpt: No space left on device.*intact.*ckpt_path="):
        train(cfg, last.parents[1])
    assert last.read_bytes() == before
    assert [p.name for p in last.parent.iterdir()] == ["last.ckpt"]  # no temporary file left behind


# --- gradient clipping and precision -----------------------------------------------------------


def test_gradient_clipping_bounds_each_update(compose_cfg, mnist_root, tmp_path):
    """Plain SGD with lr 1 and gradients clipped to 1e-4 by value: in 3 steps no weight moves further
    than 3e-4 (unclipped, lr 1 would throw them far away)."""
    start = torch.load(checkpoint_of(compose_cfg, tmp_path, mnist_root, "a"), weights_only=True)["state_dict"]
    out = tmp_path / "b"
    cfg = compose_cfg(
        *QUICK, "trainer.max_steps=3", "optimizer=sgd", "optimizer.lr_g=1.0", "optimizer.lr_d=1.0",
        "model.grad_clip.generator=1e-4", "model.grad_clip.discriminator=1e-4",
        "model.grad_clip.algorithm=value",
        f"init_from={last_of(tmp_path)}", f"data.root={mnist_root}", out=out,
    )  # fmt: skip
    train(cfg, out)
    end = torch.load(out / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
    moved = {k: (end[k] - start[k]).abs().max().item() for k in start if k.endswith("weight")}
    assert all(0 < step <= 3e-4 * (1 + 1e-3) for step in moved.values()), moved
    assert max(moved.values()) > 2.9e-4  # the clip, not tiny gradients, bounded the steps


def last_of(tmp_path):
    return tmp_path / "a" / "checkpoints" / "last.ckpt"


@pytest.mark.parametrize("bad", [{"generator": -1.0}, {"algorithm": "max"}, {"generatr": 1.0}])
def test_bad_gradient_clipping_options_are_refused(bad):
    with pytest.raises(ConfigError, match="model.grad_clip"):
        GAN(data_shape=(2,), tanh_output=False, grad_clip=bad, optimizer={"lr_g": 1e-3, "lr_d": 1e-3})


MIXED = [
    pytest.param("bf16-mixed", "cpu", id="bf16-cpu"),
    pytest.param(
        "16-mixed",
        "gpu",
        id="fp16-gpu",
        marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no GPU"),
    ),
    pytest.param(
        "bf16-mixed",
        "gpu",
        id="bf16-gpu",
        marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no GPU"),
    ),
]


@pytest.mark.parametrize(("precision", "accelerator"), MIXED)
@pytest.mark.parametrize("loss", ["non_saturating", "wasserstein"])
def test_mixed_precision_with_clipping_and_gradient_penalty(
    compose_cfg, mnist_root, tmp_path, precision, accelerator, loss
):
    out = tmp_path / "run"
    cfg = compose_cfg(
        *QUICK, "model=dcgan", f"model.loss={loss}", "model.grad_clip.discriminator=1.0",
        "model.grad_clip.generator=1.0", f"trainer.precision={precision}",
        f"trainer.accelerator={accelerator}",
        "trainer.max_steps=4", f"data.root={mnist_root}", out=out,
    )  # fmt: skip
    metrics = train(cfg, out)
    assert all(torch.isfinite(torch.tensor(v)) for k, v in metrics.items() if k.startswith("train/")), metrics
    state = torch.load(out / "checkpoints" / "last.ckpt", weights_only=True)
    assert state["state_dict"]["generator_step"].item() == 4
    assert all(torch.isfinite(v).all() for v in state["state_dict"].values() if v.is_floating_point())
    if precision == "16-mixed":  # the loss scaler is saved with the run, and stepped
        assert state["MixedPrecision"]["scale"] > 0


# --- the GPU fast path switches (checked for correctness here; their speed is in `make bench`) ----


def test_fast_path_switches_train_and_leave_plain_checkpoints(compose_cfg, mnist_root, tmp_path):
    out = tmp_path / "fast"
    cfg = compose_cfg(
        *QUICK, "model=dcgan", "data.on_device=true", "optimizer.fused=true", "model.channels_last=true",
        "model.compile=true", f"data.root={mnist_root}", out=out,
    )  # fmt: skip
    train(cfg, out)
    from gan_lightning.checkpoints import load_model

    checkpoint = torch.load(out / "checkpoints" / "last.ckpt", weights_only=True)
    assert checkpoint["state_dict"]["generator_step"].item() == 3
    assert not any("_orig_mod" in key for key in checkpoint["state_dict"])  # compiled in place
    assert "compile" not in checkpoint["hyper_parameters"]  # a run-time switch, not part of the model
    model = load_model(out / "checkpoints" / "last.ckpt")
    assert model(torch.randn(2, model.hparams.z_dim)).shape == (2, 1, 28, 28)


# --- fp16 loss scaling, exercised on CPU (Lightning maps `16-mixed` on CPU to bf16, so the GradScaler
# path is built here by hand: float16 autocast on CPU with torch's CPU GradScaler) ------------------

ADAM = {"_target_": "torch.optim.Adam", "_partial_": True, "lr_g": 1e-3, "lr_d": 1e-3}


def fit_fp16(model: GAN, steps: int, callbacks=()) -> MixedPrecision:
    data = GaussianMixtureDataModule(batch_size=64, n_samples=1024)
    data.setup("fit")
    plugin = MixedPrecision("16-mixed", "cpu", scaler=torch.amp.GradScaler("cpu"))
    trainer = pl.Trainer(
        accelerator="cpu", plugins=[plugin], max_steps=steps * model.optimizer_steps_per_batch,
        logger=False, enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
        callbacks=list(callbacks),
    )  # fmt: skip
    trainer.fit(model, datamodule=data)
    return plugin


@pytest.mark.parametrize("loss", ["non_saturating", "wasserstein"])
def test_fp16_loss_scaling_with_clipping_and_gradient_penalty(loss):
    torch.manual_seed(0)
    clip = {"generator": 1.0, "discriminator": 1.0}
    model = GAN(data_shape=(2,), tanh_output=False, loss=loss, grad_clip=clip, optimizer=ADAM)
    plugin = fit_fp16(model, steps=10)
    assert int(model.generator_step) == 10
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert 0 < plugin.scaler.get_scale() <= 2.0**16


class OverflowOnce(pl.Callback):
    """Make D's gradients infinite in the first batch (a hook fires inside backward, before unscaling)
    and record D's weights and the loss scale around that batch."""

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if batch_idx == 0:
            self.weight = next(pl_module.discriminator.parameters())
            self.before = self.weight.detach().clone()
            self.scale_before = trainer.precision_plugin.scaler.get_scale()
            self.handle = self.weight.register_hook(lambda grad: torch.full_like(grad, float("inf")))

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if batch_idx == 0:
            self.handle.remove()
            self.after = self.weight.detach().clone()
            self.scale_after = trainer.precision_plugin.scaler.get_scale()


def test_fp16_skips_the_step_whose_gradients_overflow():
    torch.manual_seed(0)
    model = GAN(data_shape=(2,), tanh_output=False, optimizer=ADAM)
    probe = OverflowOnce()
    fit_fp16(model, steps=3, callbacks=[probe])
    assert torch.equal(probe.after, probe.before)  # the D step with inf gradients was skipped...
    assert probe.scale_after == probe.scale_before / 2  # ...and the loss scale halved
    assert int(model.generator_step) == 3
    assert not torch.equal(next(model.discriminator.parameters()).detach(), probe.before)  # later steps ran
    assert all(torch.isfinite(p).all() for p in model.parameters())
