"""Checkpoints written by version 0.1 (before the adversarial core) still load: the same samples for
the same seed, ``evaluate`` and ``init_from`` work on them. The fixtures were written by that version:
an MLP GAN and a conv cGAN (z_dim 8, tiny widths) trained 2 steps on tiny MNIST-like data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from gan_lightning.checkpoints import load_model
from gan_lightning.evaluate import main as evaluate_main
from gan_lightning.sample import main as sample_main
from gan_lightning.train import train
from tests.eval_helpers import run_main, single_thread, tiny_classifier, tiny_data_root
from tests.helpers import QUICK

V0_1 = Path(__file__).parent / "fixtures" / "v0.1"
# The options those checkpoints were trained with (their .hydra/config.yaml).
V0_1_OPTIONS = {
    "gan": ("model=gan", "model.networks.mlp.generator.hidden_dims=[16]",
            "model.networks.mlp.discriminator.hidden_dims=[16]"),
    "cgan": ("model=cgan", "model.arch=conv", "model.networks.conv.generator.base_channels=4",
             "model.networks.conv.discriminator.base_channels=4"),
}  # fmt: skip


@pytest.fixture(autouse=True)
def _one_thread():
    with single_thread():
        yield


@pytest.mark.parametrize("name", ["gan", "cgan"])
def test_a_v0_1_checkpoint_samples_what_it_sampled_then(name, tmp_path, capsys):
    out = tmp_path / "samples.pt"
    code, _, err = run_main(
        sample_main, capsys, f"ckpt={V0_1 / f'{name}.ckpt'}", "device=cpu", "n=8", "seed=0", f"out={out}"
    )
    assert code == 0, err
    expected = torch.load(V0_1 / f"{name}_samples_seed0.pt", weights_only=True)
    got = torch.load(out, weights_only=True)
    torch.testing.assert_close(got["images"], expected["images"], atol=1e-6, rtol=0)
    if "labels" in expected:
        assert torch.equal(got["labels"], expected["labels"])


def test_a_v0_1_checkpoint_loads_without_the_new_parts():
    model = load_model(V0_1 / "cgan.ckpt")
    assert model.ema is None and model.augment is None
    assert [phase.name for phase in model.phases] == ["discriminator", "generator"]
    assert int(model.generator_step) == 2


def test_a_v0_1_checkpoint_evaluates(tmp_path, tmp_path_factory, capsys, monkeypatch):
    root = tiny_data_root(tmp_path_factory)
    cache = tmp_path / "cache"
    (cache / "classifiers").mkdir(parents=True)
    (cache / "classifiers" / "mnist.pt").write_bytes(tiny_classifier(tmp_path_factory).read_bytes())
    monkeypatch.setenv("GAN_CACHE_DIR", str(cache))
    code, out, err = run_main(
        evaluate_main, capsys, f"ckpt={V0_1 / 'cgan.ckpt'}", "device=cpu", "n=40", "kid_subset_size=20",
        f"data_root={root}",
    )  # fmt: skip
    assert code == 0, err
    result = json.loads(out.strip().splitlines()[-1])
    assert result["generator_step"] == 2 and result["protocol"]["generator"] == "trained"
    assert 0.0 <= result["class_acc"] <= 1.0 and result["fid"] > 0


@pytest.mark.parametrize("name", ["gan", "cgan"])
def test_init_from_a_v0_1_checkpoint(compose_cfg, mnist_root, tmp_path, name):
    cfg = compose_cfg(
        *QUICK, f"data.root={mnist_root}", *V0_1_OPTIONS[name], "model.z_dim=8", "trainer.max_steps=1",
        f"init_from={V0_1 / f'{name}.ckpt'}", "optimizer.lr_g=1e-12", "optimizer.lr_d=1e-12",
    )  # fmt: skip
    out = Path(cfg.paths.output_dir)
    train(cfg, out)
    old = torch.load(V0_1 / f"{name}.ckpt", weights_only=False)["state_dict"]
    new = torch.load(out / "checkpoints" / "last.ckpt", weights_only=False)["state_dict"]
    weights = [k for k in old if k.endswith("weight") and ("generator." in k or "discriminator." in k)]
    assert weights
    for key in weights:
        torch.testing.assert_close(new[key], old[key], atol=1e-6, rtol=0, msg=key)
