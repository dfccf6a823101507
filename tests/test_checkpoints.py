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
from gan_lightning.models import StyleGAN, StyleGAN2, UnpairedTranslation
from gan_lightning.sample import main as sample_main
from gan_lightning.train import train
from tests.eval_helpers import run_main, single_thread, tiny_classifier, tiny_data_root
from tests.helpers import QUICK, QUICK_RUN, QUICK_TRANSLATION

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


# --- checkpoints of the style-based and translation families from before they had their own classes ---

PRE_SPLIT = Path(__file__).parent / "fixtures" / "pre_split"
STYLE_SMALL = (
    "generator.channel_base=256",
    "generator.channel_max=32",
    "generator.w_dim=32",
    "generator.mapping_layers=2",
    "discriminator.channel_base=256",
    "discriminator.channel_max=32",
)
# The options those checkpoints were trained with, 3 generator steps from seed=0 on one thread, by the
# tree of commit 5d4a9cb (where `gan_lightning.models.GAN` served StyleGAN and StyleGAN2 as well).
PRE_SPLIT_OPTIONS = {
    "stylegan2": ("model=stylegan2", *(f"model.networks.stylegan2.{o}" for o in STYLE_SMALL),
                  "model.r1_every=2", "model.pl_every=2", "model.lazy_optimizer_scaling=false", *QUICK_RUN),
    "stylegan": ("model=stylegan", *(f"model.networks.stylegan.{o}" for o in STYLE_SMALL),
                 "model.progressive.stable_steps=1", "model.progressive.fade_steps=2",
                 "model.progressive.total_steps=8", *QUICK_RUN),
    "cyclegan": ("model=cyclegan", *QUICK_TRANSLATION, "model.pool_size=4"),
}  # fmt: skip
PRE_SPLIT_FAMILY = {"stylegan2": StyleGAN2, "stylegan": StyleGAN, "cyclegan": UnpairedTranslation}


@pytest.mark.parametrize("name", sorted(PRE_SPLIT_OPTIONS))
def test_a_pre_split_checkpoint_loads_as_its_family_and_samples_as_then(name):
    model = load_model(PRE_SPLIT / f"{name}.ckpt")
    assert type(model) is PRE_SPLIT_FAMILY[name]
    expected = torch.load(PRE_SPLIT / f"{name}_samples_seed0.pt", weights_only=True)
    rng = torch.Generator().manual_seed(0)
    with torch.no_grad():
        if name == "cyclegan":
            images = torch.rand(2, 3, 32, 32, generator=rng) * 2 - 1
            torch.testing.assert_close(images, expected["inputs"])
            got = model.translate(images, "a2b")
        else:
            got = model.generate(model.sample_inputs(4, rng))
    # float32 convolutions round differently across CPUs (SIMD width): 1e-4 is rounding, not weights
    torch.testing.assert_close(got, expected["outputs"], atol=1e-4, rtol=0)


@pytest.mark.parametrize("name", sorted(PRE_SPLIT_OPTIONS))
def test_a_pre_split_checkpoint_resumes_to_the_same_weights(compose_cfg, mnist_root, two_domains, name):
    data = f"data.path={two_domains}" if name == "cyclegan" else f"data.root={mnist_root}"
    cfg = compose_cfg(
        *PRE_SPLIT_OPTIONS[name], data, "seed=0", "metrics=none", "logger=none", "trainer.max_steps=5",
        f"ckpt_path={PRE_SPLIT / f'{name}.ckpt'}",
    )  # fmt: skip
    out = Path(cfg.paths.output_dir)
    train(cfg, out)
    state = torch.load(out / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)[
        "state_dict"
    ]
    assert int(state["generator_step"]) == 5
    # The two resumed steps' update of every weight (EMA copies included) is the recorded one. Float32
    # rounding differs between CPUs and thread counts, and Adam turns near-zero gradients into
    # lr-sized steps, so the updates are compared as a whole: rounding moves them by well under 1%
    # (0.3% for StyleGAN between one and two threads), other noise, data or phases by 100%.
    expected = torch.load(PRE_SPLIT / f"{name}_resumed_weights.pt", weights_only=True)
    start = torch.load(PRE_SPLIT / f"{name}.ckpt", map_location="cpu", weights_only=True)["state_dict"]
    keys = sorted(k for k in expected if k in start and start[k].shape == expected[k].shape)
    assert keys and set(expected) <= set(state)
    got = torch.cat([(state[k] - start[k]).float().flatten() for k in keys])
    wanted = torch.cat([(expected[k] - start[k]).float().flatten() for k in keys])
    assert wanted.norm() > 0
    assert (got - wanted).norm() / wanted.norm() < 0.01


def network_weights(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The floating-point tensors of a state dict (weights, EMA copies, running statistics)."""
    return {k: v.clone() for k, v in state.items() if v.is_floating_point()}
