"""Two-process DDP on CPU (gloo), run as its own process like a user would (see the DDP notes in
README): identical weights (G, D, the EMA generator) and ADA probability on both ranks, different noise
per rank, metrics that agree."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from gan_lightning.metrics.classifier_net import DatasetClassifier, classifier_path, save_classifier
from tests.helpers import QUICK, QUICK_TRANSLATION, TINY_TRANSGAN

REPO = Path(__file__).resolve().parents[1]


def test_ddp_cpu_two_processes(tmp_path, mnist_root):
    torch.manual_seed(0)
    save_classifier(DatasetClassifier((1, 28, 28), 10), classifier_path(mnist_root, "mnist"), "mnist", 0.1)
    dumps = tmp_path / "dumps"
    command = [
        sys.executable, "-m", "gan_lightning", "trainer=ddp_cpu", "model=cgan", "model.arch=conv", *QUICK,
        "data.batch_size=8", f"data.root={mnist_root}", f"hydra.run.dir={tmp_path / 'run'}",
        "metrics.every_n_steps=3", "metrics.n_samples=40", "metrics.kid_subset_size=10",
        "metrics.batch_size=10", "metrics.metrics=[fid,kid,class_acc,precision,recall,density,coverage,is]",
        "metrics.is_splits=4",
        "model.ema_kimg=0.01", "augment=ada", "augment.interval=1", "augment.speed_kimg=1",
        "augment.p_init=0.5",
        "+callbacks.probe._target_=tests.ddp_probe.DumpRankState", f"+callbacks.probe.out={dumps}",
    ]  # fmt: skip
    result = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    rank0, rank1 = (torch.load(dumps / f"rank{r}.pt", weights_only=False) for r in (0, 1))
    assert rank0["world_size"] == 2
    assert rank0["state_dict"]["generator_step"].item() == 3
    for key, value in rank0["state_dict"].items():
        if "running_" not in key and "num_batches_tracked" not in key:  # BatchNorm buffers are per rank
            torch.testing.assert_close(value, rank1["state_dict"][key], msg=key)
    assert not torch.equal(rank0["noise"], rank1["noise"])  # each rank draws its own z
    # ADA's p moved by 3 x 16 / 1000 from 0.5, each step's direction from both ranks' D outputs
    assert rank0["state_dict"]["augment.p"].item() != 0.5
    assert any(key.startswith("ema.networks.generator.") for key in rank0["state_dict"])  # compared above
    assert rank0["history"] == rank1["history"] and rank0["history"][0]["step"] == 3
    assert sum(rank0["history"][0]["class_histogram"]) == 40  # 20 samples per rank, counted once
    # Precision ... IS need every sample at once: each rank's 20 are gathered (else the ranks, which draw
    # different samples, would disagree above).
    assert all(0 <= rank0["history"][0][m] <= 1 for m in ("precision", "recall", "coverage"))
    assert 1 <= rank0["history"][0]["is_classifier"] <= 10
    samples = sorted(p.name for p in (tmp_path / "run" / "samples").iterdir())
    assert samples == ["step_0000002.png", "step_0000003.png"]  # written once, by rank 0


def test_ddp_cpu_two_processes_cyclegan(tmp_path, two_domains):
    """CycleGAN under 2-process DDP: both generators, both discriminators, their EMAs and the image pools
    agree on both ranks; each rank draws its own pairs and noise, so the translations it adds to its
    image pools are its own; the translation metrics agree."""
    dumps = tmp_path / "dumps"
    command = [
        sys.executable, "-m", "gan_lightning", "trainer=ddp_cpu", "model=cyclegan", *QUICK_TRANSLATION,
        f"data.path={two_domains}", f"data.root={two_domains.parent}", "data.batch_size=2",
        f"hydra.run.dir={tmp_path / 'run'}", "metrics.every_n_steps=3", "metrics.train_classifier=true",
        "model.ema_kimg=0.01",
        "+callbacks.probe._target_=tests.ddp_probe.DumpRankState", f"+callbacks.probe.out={dumps}",
    ]  # fmt: skip
    result = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    rank0, rank1 = (torch.load(dumps / f"rank{r}.pt", weights_only=False) for r in (0, 1))
    assert rank0["world_size"] == 2 and rank0["state_dict"]["generator_step"].item() == 3
    for key, value in rank0["state_dict"].items():
        if not key.startswith("pool_"):
            torch.testing.assert_close(value, rank1["state_dict"][key], msg=key)
    assert not torch.equal(rank0["state_dict"]["pool_b.images"], rank1["state_dict"]["pool_b.images"])
    assert any(key.startswith("ema.networks.generator_ba.") for key in rank0["state_dict"])
    assert not torch.equal(rank0["noise"], rank1["noise"])
    assert rank0["history"] == rank1["history"] and "fid_a2b" in rank0["history"][0]


@pytest.mark.parametrize(
    "model",
    [
        ("model=transgan", *TINY_TRANSGAN),  # attention (scaled_dot_product_attention) under DDP
        (  # a growing network: the lower resolutions' toRGB / fromRGB get no gradient once grown
            "model=stylegan",
            "model.progressive.stable_steps=1",
            "model.progressive.fade_steps=1",
            "model.networks.stylegan.generator.channel_max=16",
            "model.networks.stylegan.generator.w_dim=16",
            "model.networks.stylegan.discriminator.channel_max=16",
        ),  # fmt: skip
    ],
    ids=["transgan", "stylegan"],
)
def test_ddp_cpu_two_processes_new_families(tmp_path, mnist_root, model):
    dumps = tmp_path / "dumps"
    command = [
        sys.executable, "-m", "gan_lightning", "trainer=ddp_cpu", *QUICK, *model, "data.batch_size=8",
        "trainer.max_steps=4", f"data.root={mnist_root}", f"hydra.run.dir={tmp_path / 'run'}", "metrics=none",
        "+callbacks.probe._target_=tests.ddp_probe.DumpRankState", f"+callbacks.probe.out={dumps}",
    ]  # fmt: skip
    result = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    rank0, rank1 = (torch.load(dumps / f"rank{r}.pt", weights_only=False) for r in (0, 1))
    assert rank0["state_dict"]["generator_step"].item() == 4
    for key, value in rank0["state_dict"].items():
        # w_avg is tracked in the forward from each rank's own latents (like BatchNorm statistics): DDP
        # broadcasts rank 0's at every step, so the ranks differ only by their last step's update
        if not key.endswith("w_avg"):
            torch.testing.assert_close(value, rank1["state_dict"][key], msg=key)
    assert not torch.equal(rank0["noise"], rank1["noise"])
