"""Exact resume: a run killed with SIGKILL and resumed with ckpt_path= ends with the same weights as
one that was never interrupted (CPU, fixed seed)."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
import torch

from tests.batch_probe import recorded
from tests.helpers import QUICK, QUICK_TRANSLATION, TINY_TRANSGAN
from tests.test_cli import cli

# 64 training images in batches of 16: 4 batches per epoch, so 10 steps cross two epoch boundaries.
# Checkpoints every 3 generator steps; the crash comes after step 7, so the run resumes from step 6,
# in the middle of the second epoch.
RUN = (
    "seed=7",
    "trainer.max_steps=10",
    "trainer.max_epochs=-1",
    "callbacks.periodic_checkpoint.every_n_steps=3",
    "callbacks.sample_grid.every_n_steps=0",
)
CASES = {
    # MLP D has dropout (global RNG); the step scheduler must be restored too.
    "mlp-dropout-scheduler": (*QUICK, "model=gan", "scheduler=step", "scheduler.step_size=4"),
    # Several critic steps and a gradient penalty whose mixing weights are random.
    "wgan-gp": (
        *QUICK,
        "model=dcgan",
        "model.loss=wasserstein",
        "model.n_critic=2",
        "optimizer.betas=[0.0,0.9]",
    ),
    # TransGAN's recipe: attention, WGAN-GP with drift, DiffAugment, EMA, gradient clipping.
    "transgan": (*QUICK, "model=transgan", *TINY_TRANSGAN),
    # StyleGAN grown 7 -> 14 -> 28 px, fading in over 5 steps per level: the checkpoint (step 6) falls in
    # the middle of the 28 px fade-in; style mixing and per-layer noise draw from the step's noise.
    "stylegan-mid-fade": (
        *QUICK,
        "model=stylegan",
        "model.progressive.stable_steps=0",
        "model.progressive.fade_steps=5",
        "model.networks.stylegan.generator.channel_base=256",
        "model.networks.stylegan.generator.channel_max=16",
        "model.networks.stylegan.generator.w_dim=16",
        "model.networks.stylegan.generator.mapping_layers=2",
        "model.networks.stylegan.discriminator.channel_base=256",
        "model.networks.stylegan.discriminator.channel_max=16",
    ),  # fmt: skip
    # A batch size per resolution: 7 px at 12 (steps 0-2), 14 px at 8 (3-6), 28 px at 6 (7-9). The first
    # permutation of the 64 images ends after step 5 (4 samples left, fewer than 8: skipped); the run
    # resumes from step 6 and changes resolution and batch size at step 7.
    "stylegan-batch-sizes": (
        *QUICK,
        "model=stylegan",
        "model.progressive.stable_steps=3",
        "model.progressive.fade_steps=1",
        "model.progressive.batch_sizes={7:12,14:8,28:6}",
        "+callbacks.sizes._target_=tests.batch_probe.RecordBatchSizes",
        "model.networks.stylegan.generator.channel_base=256",
        "model.networks.stylegan.generator.channel_max=16",
        "model.networks.stylegan.generator.w_dim=16",
        "model.networks.stylegan.generator.mapping_layers=2",
        "model.networks.stylegan.discriminator.channel_base=256",
        "model.networks.stylegan.discriminator.channel_max=16",
    ),  # fmt: skip
    # CycleGAN: two domains of different sizes drawn independently, random crops and flips, the image
    # pools (their contents and random choices), the constant-then-linear learning rate.
    "cyclegan": (
        *QUICK_TRANSLATION,
        "model=cyclegan",
        "data.batch_size=1",
        "model.networks.resnet.generator.n_blocks=1",
    ),
    # The toolkit's state: EMA weights, ADA's probability and its running sums (adjusted every 2 steps,
    # so the crash falls between two adjustments), lazy R1 every 2 steps, DiffAugment-style randomness.
    "ema-ada-r1": (
        *QUICK,
        "model=dcgan",
        "model.ema_kimg=0.05",
        "augment=ada",
        "augment.interval=2",
        "augment.speed_kimg=1",
        "augment.p_init=0.5",
        "model.r1_gamma=1.0",
        "model.r1_every=2",
    ),
}


def final_weights(run_dir: Path) -> dict[str, torch.Tensor]:
    return torch.load(run_dir / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)[
        "state_dict"
    ]


@pytest.mark.parametrize("case", CASES)
def test_sigkill_then_resume_ends_with_the_same_weights(case, tmp_path, mnist_root, request):
    env = {"GAN_DATA_DIR": str(mnist_root)}
    options = (*CASES[case], *RUN)
    if case == "cyclegan":
        options = (*options, f"data.path={request.getfixturevalue('two_domains')}")

    straight = cli(*options, f"hydra.run.dir={tmp_path / 'straight'}", env=env)
    assert straight.returncode == 0, straight.stderr[-3000:]

    crashed_dir = tmp_path / "crashed"
    crashed = cli(
        *options,
        f"hydra.run.dir={crashed_dir}",
        "+callbacks.kill._target_=tests.kill_probe.KillAtStep",
        "+callbacks.kill.step=7",
        env=env,
    )
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-3000:]
    last = crashed_dir / "checkpoints" / "last.ckpt"
    assert torch.load(last, weights_only=True)["state_dict"]["generator_step"].item() == 6

    resumed = cli(*options, f"hydra.run.dir={crashed_dir}", f"ckpt_path={last}", env=env)
    assert resumed.returncode == 0, resumed.stderr[-3000:]

    expected, got = final_weights(tmp_path / "straight"), final_weights(crashed_dir)
    assert expected["generator_step"].item() == got["generator_step"].item() == 10
    assert expected.keys() == got.keys()
    different = [name for name in expected if not torch.equal(expected[name], got[name])]
    assert not different, f"weights differ after resume: {different}"
    if case == "ema-ada-r1":
        assert expected["augment.p"].item() != 0.5  # p moved (by 0.032 per update), and resumed where it was
        assert any(name.startswith("ema.networks.generator.") for name in expected)
    if case == "stylegan-mid-fade":
        assert expected["generator.progress_level"].item() == 2 and expected[
            "generator.progress_alpha"
        ].item() == pytest.approx(0.8)
    if case == "stylegan-batch-sizes":
        sizes = dict(enumerate([12, 12, 12, 8, 8, 8, 8, 6, 6, 6]))
        assert recorded(tmp_path / "straight") == recorded(crashed_dir) == sizes
    if case == "cyclegan":
        assert expected["pool_a.images"].shape[0] == 10  # 10 steps of batch 1: the pool filled while killed


SHORT = 8  # a finished run of two loader epochs


@pytest.mark.parametrize("case", ["mlp-dropout-scheduler", "cyclegan"])
def test_a_finished_run_extended_from_its_last_checkpoint_ends_as_one_longer_run(
    case, tmp_path, mnist_root, request
):
    """Train 8 steps (two whole loader epochs), then resume from the finished run's last.ckpt with
    max_steps=10: Lightning restores that checkpoint with an epoch number one ahead of the data's (it
    counted the epoch that max_steps ended as done), yet the data must go on from batch 8 as in one run
    of 10 steps."""
    env = {"GAN_DATA_DIR": str(mnist_root)}
    options = (*CASES[case], *RUN)
    if case == "cyclegan":  # a constant learning rate: CycleGAN's schedule depends on max_steps
        options = (*options, f"data.path={request.getfixturevalue('two_domains')}", "scheduler=none")
    straight = cli(*options, f"hydra.run.dir={tmp_path / 'straight'}", env=env)
    assert straight.returncode == 0, straight.stderr[-3000:]

    run_dir = tmp_path / "extended"
    short = cli(*options, f"trainer.max_steps={SHORT}", f"hydra.run.dir={run_dir}", env=env)
    assert short.returncode == 0, short.stderr[-3000:]
    last = run_dir / "checkpoints" / "last.ckpt"
    assert torch.load(last, weights_only=True)["state_dict"]["generator_step"].item() == SHORT
    extended = cli(*options, f"hydra.run.dir={run_dir}", f"ckpt_path={last}", env=env)
    assert extended.returncode == 0, extended.stderr[-3000:]

    expected, got = final_weights(tmp_path / "straight"), final_weights(run_dir)
    assert got["generator_step"].item() == 10
    different = [name for name in expected if not torch.equal(expected[name], got[name])]
    assert not different, f"weights differ after extending the run: {different}"
