"""The training step never waits for the device: no host read of a tensor's value during the step.

On the CPU every tensor lives on the host, so the test watches for the operations that would read a
device tensor back on an accelerator: ``item()`` / ``int()`` / ``float()`` / ``bool()`` (all
``aten._local_scalar_dense``) and data-dependent shapes (``nonzero``, ``masked_select``, ``unique``).
The optimizer's own step is left out: PyTorch's Adam keeps its step counters on the host by design.
With a GPU the same steps run under ``torch.cuda.set_sync_debug_mode("error")``.
"""

from __future__ import annotations

from contextlib import contextmanager

import pytest
import pytorch_lightning as pl
import torch
from hydra import compose, initialize_config_module
from torch.optim.optimizer import register_optimizer_step_post_hook, register_optimizer_step_pre_hook
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.data import DataLoader, TensorDataset

from gan_lightning.config import DataFacts, build_model

STEPS = 4
HOST_READS = {
    "_local_scalar_dense",
    "nonzero",
    "masked_select",
    "unique_dim",
    "_unique2",
    "unique_consecutive",
}
MNIST_SHAPE, RGB16, RGB32 = (1, 28, 28), (3, 16, 16), (3, 32, 32)


def small_style(family: str) -> list[str]:
    """Tiny widths of StyleGAN (``stylegan``) or StyleGAN2 (``stylegan2``) networks."""
    nets = f"model.networks.{family}"
    return [
        f"{nets}.generator.mapping_layers=1",
        *(f"{nets}.{net}.{option}" for net in ("generator", "discriminator") for option in SMALL_STYLE),
    ]


SMALL_STYLE = ["channel_base=256", "channel_max=16"]
TRANSFORMER = "model.networks.transformer"
TINY_TRANSGAN = [f"{TRANSFORMER}.generator.width=64", f"{TRANSFORMER}.generator.heads=1"] + [
    f"{TRANSFORMER}.discriminator.width=32",
    f"{TRANSFORMER}.discriminator.depth=1",
]
RESNET, ENCODER_DECODER = "model.networks.resnet", "model.networks.encoder_decoder"
#: family -> (overrides of the training command, data shape, two domains?)
FAMILIES = {
    "dcgan": (["model=dcgan"], MNIST_SHAPE, False),
    "cgan": (["model=cgan", "model.arch=mlp"], MNIST_SHAPE, False),
    "wgan_gp": (["model=gan", "model.loss=wasserstein", "model.n_critic=2"], MNIST_SHAPE, False),
    "dcgan_ada_ema": (
        ["model=dcgan", "augment=ada", "augment.interval=1", "model.ema_kimg=1"],
        MNIST_SHAPE,
        False,
    ),
    "stylegan2": (
        ["model=stylegan2", "model.r1_every=2", "model.pl_every=2", *small_style("stylegan2")],
        RGB16,
        False,
    ),
    "stylegan_fading": (
        ["model=stylegan", "model.progressive.stable_steps=1", "model.progressive.fade_steps=1"]
        + small_style("stylegan"),
        RGB16,
        False,
    ),
    "transgan": (["model=transgan", *TINY_TRANSGAN], RGB16, False),
    "cyclegan": (
        ["model=cyclegan", "data=unpaired", "model.pool_size=2", f"{RESNET}.generator.base_channels=4"]
        + [f"{RESNET}.generator.n_blocks=1", f"{RESNET}.discriminator.base_channels=4"],
        RGB32,
        True,
    ),
    "discogan": (
        ["model=discogan", "data=unpaired", f"{ENCODER_DECODER}.generator.base_channels=4"]
        + [f"{ENCODER_DECODER}.discriminator.base_channels=4"],
        RGB32,
        True,
    ),
}


class HostReads(TorchDispatchMode):
    """Records the host-reading operations dispatched while it is active (outside optimizer steps)."""

    def __init__(self) -> None:
        super().__init__()
        self.reads: list[str] = []
        self.in_optimizer = False

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = func.overloadpacket.__name__
        if name in HOST_READS and not self.in_optimizer:
            self.reads.append(name)
        return func(*args, **(kwargs or {}))


@contextmanager
def optimizer_steps_excluded(mode: HostReads):
    def enter(*_):
        mode.in_optimizer = True

    def leave(*_):
        mode.in_optimizer = False

    handles = [register_optimizer_step_pre_hook(enter), register_optimizer_step_post_hook(leave)]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def model_of(overrides: list[str], shape: tuple[int, ...]):
    with initialize_config_module(config_module="gan_lightning.conf", version_base="1.3"):
        cfg = compose(config_name="train", overrides=[*overrides, f"trainer.max_steps={STEPS}"])
    labelled = cfg.model.get("conditional", False)
    classes = list(range(10)) if labelled else None
    return build_model(cfg, DataFacts(tuple(shape), 10 if labelled else None, classes))


def train_watched(family: str, device: str, steps: int = STEPS) -> list[str]:
    """Train ``steps`` generator steps of ``family``; the host reads seen inside its training steps."""
    overrides, shape, two_domains = FAMILIES[family]
    torch.manual_seed(0)
    model = model_of(overrides, shape)
    n = 4 * (steps + 1)
    images = torch.rand(n, *shape) * 2 - 1
    second = torch.rand(n, *shape) * 2 - 1 if two_domains else torch.arange(n) % 10
    loader = DataLoader(TensorDataset(images, second), batch_size=4, drop_last=True)
    mode = HostReads()
    step = model.training_step

    def watched_step(*args, **kwargs):
        if device == "cuda":
            torch.cuda.set_sync_debug_mode("error")
            try:
                return step(*args, **kwargs)
            finally:
                torch.cuda.set_sync_debug_mode("default")
        with mode:
            return step(*args, **kwargs)

    model.training_step = watched_step
    trainer = pl.Trainer(
        accelerator=device, devices=1, max_steps=model.optimizer_steps_for(steps), logger=False,
        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
    )  # fmt: skip
    with optimizer_steps_excluded(mode):
        trainer.fit(model, train_dataloaders=loader)
    assert model.steps_done == steps
    return mode.reads


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_the_training_step_reads_nothing_back_from_the_device(family):
    assert train_watched(family, "cpu") == []


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_the_training_step_never_synchronizes_with_the_gpu(family):
    train_watched(family, "cuda")  # any synchronizing call raises


def test_the_watch_sees_a_host_read():
    """The watch itself can fail: a step that reads a loss (as the old NaN check did) is caught."""
    mode = HostReads()
    with mode:
        bool(torch.isfinite(torch.ones(3)).all())
        int(torch.tensor(3))
    assert mode.reads == ["_local_scalar_dense", "_local_scalar_dense"]
