"""The studies in experiments/: their configs compose with the intended values and sweeps, study 5's
stage script chains the stages, and study 6's synthetic CIFAR-10 loads like the real one."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_module
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import OmegaConf

from gan_lightning.data import CIFAR10DataModule
from gan_lightning.errors import DatasetNotFoundError

REPO = Path(__file__).resolve().parents[1]
EXPERIMENTS = REPO / "experiments"
CONF = REPO / "gan_lightning" / "conf" / "experiment"

# experiment -> (the study's folder, values of its composed config)
EXPECTED = {
    "mnist_optimizer": ("01_optimizer", {"model.arch": "mlp", "model.z_dim": 100, "data.batch_size": 64}),
    "mnist_z_dim": (
        "02_noise_size",
        {"model.arch": "mlp", "model.conditional": False, "data.batch_size": 64},
    ),
    "mnist_architecture": ("03_architecture", {"model.z_dim": 100, "data.batch_size": 64}),
    "mnist_cgan": ("04_per_class", {"model.arch": "mlp", "model.conditional": True, "data.classes": None}),
    "mnist_per_class": (
        "04_per_class",
        {"model.arch": "mlp", "model.conditional": False, "model.networks.mlp.generator.batch_norm": True},
    ),
    "dcgan_finetune": (
        "05_staged_finetuning",
        {
            "model.arch": "conv",
            "optimizer.lr_g": 2e-4,
            "optimizer.lr_d": 2e-4,
            "optimizer.betas": [0.5, 0.999],
        },
    ),
    "cifar10_dcgan": (
        "06_cifar10_dcgan",
        {"model.arch": "conv", "model.z_dim": 128, "metrics.extractor": "inception"},
    ),
    "mnist_ema": ("08_ema", {"model.arch": "conv", "model.ema_rampup": 0.05, "metrics.every_n_steps": 500}),
    "cifar10_data_efficient": (
        "09_data_efficient",
        {"model.arch": "conv", "model.z_dim": 128, "data.subset": 5000, "augment.kind": "none"},
    ),
    "horse2zebra": (
        "11_horse2zebra",
        {"model.arch": "resnet", "model.identity_weight": 0.5, "data.image_size": 64, "data.batch_size": 1},
    ),
    "cifar10_transgan": (
        "12_transgan_cifar10",
        {"model.arch": "transformer", "model.loss": "wasserstein", "model.loss_kwargs.drift": 0.001},
    ),
    "fashion_mnist_stylegan2": (
        "13_stylegan2_fashion_mnist",
        {"model.arch": "stylegan2", "model.style_mixing": 0.9},
    ),
    "anime_stylegan": (
        "14_stylegan_anime",
        {"model.arch": "stylegan", "data.image_size": 64, "model.progressive.stable_steps": 10_000},
    ),
    "anime_pix2pix": (
        "15_pix2pix_edges_anime",
        {"model.l1_weight": 100.0, "data.derive": "edges", "data.image_size": 64, "data.batch_size": 1},
    ),
    "fashion_mnist_stylegan2_mb_ratio": (
        "16_stylegan2_mb_ratio",
        {"model.arch": "stylegan2", "model.r1_every": 16, "model.pl_every": 4},
    ),
}
SWEEPS = {
    "mnist_optimizer": {"optimizer": "sgd,adam"},
    "mnist_z_dim": {"model.z_dim": "20,50,100,200"},
    "mnist_architecture": {"model": "gan,dcgan,cgan"},
    "mnist_per_class": {"data.classes": ",".join(f"[{k}]" for k in range(10))},
    "mnist_ema": {"model.ema_kimg": "null,10"},
    "cifar10_data_efficient": {"augment": "none,diffaugment,ada"},
    "cifar10_transgan": {"augment": "diffaugment,none"},
    "fashion_mnist_stylegan2": {"model": "stylegan2,dcgan"},
    "fashion_mnist_stylegan2_mb_ratio": {"model.lazy_optimizer_scaling": "true,false"},
}
DATA = {
    "cifar10_dcgan": "CIFAR10DataModule",
    "cifar10_data_efficient": "CIFAR10DataModule",
    "horse2zebra": "UnpairedDataModule",
    "cifar10_transgan": "CIFAR10DataModule",
    "fashion_mnist_stylegan2": "FashionMNISTDataModule",
    "anime_stylegan": "ImageFolderDataModule",
    "anime_pix2pix": "PairedDataModule",
    "fashion_mnist_stylegan2_mb_ratio": "FashionMNISTDataModule",
}
MAX_STEPS = {
    "dcgan_finetune": 5000,
    "cifar10_dcgan": 50_000,
    "horse2zebra": 266_800,
    "cifar10_transgan": 100_000,
    "fashion_mnist_stylegan2": 50_000,
    "anime_stylegan": 120_000,
    "anime_pix2pix": 216_000,
    "fashion_mnist_stylegan2_mb_ratio": 50_000,
}


def compose_train(*overrides: str):
    """The training command's config with its ``hydra`` node (sweeper params included)."""
    GlobalHydra.instance().clear()
    try:
        with initialize_config_module(config_module="gan_lightning.conf", version_base="1.3"):
            return compose(config_name="train", overrides=list(overrides), return_hydra_config=True)
    finally:
        GlobalHydra.instance().clear()


def sweep_jobs(params: dict) -> list[list[str]]:
    """The jobs' overrides, as Hydra's basic sweeper expands ``hydra.sweeper.params``."""
    parsed = OverridesParser.create().parse_overrides([f"{k}={v}" for k, v in params.items()])
    return [job for batch in BasicSweeper.split_arguments(parsed, None) for job in batch]


def load_module(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_config_is_tested_and_has_its_study() -> None:
    names = {p.stem for p in CONF.glob("*.yaml")}
    assert names == set(EXPECTED) | {"toy_ring"}
    for folder, _ in EXPECTED.values():
        readme = EXPERIMENTS / folder / "README.md"
        assert readme.exists(), readme


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_experiment_composes(name: str) -> None:
    cfg = compose_train(f"experiment={name}")
    _, values = EXPECTED[name]
    for key, value in values.items():
        assert OmegaConf.select(cfg, key) == value, key
    assert cfg.data._target_.endswith(DATA.get(name, "MNISTDataModule"))
    assert cfg.trainer.max_steps == MAX_STEPS.get(name, 20_000)  # the full (GPU) budget
    assert cfg.trainer.max_epochs == -1  # the step budget decides
    assert cfg.seed == 0
    assert dict(cfg.hydra.sweeper.params or {}) == SWEEPS.get(name, {})


@pytest.mark.parametrize("name", sorted(SWEEPS))
def test_sweep_jobs_compose(name: str) -> None:
    jobs = sweep_jobs(SWEEPS[name])
    sizes = {"mnist_optimizer": 2, "mnist_z_dim": 4, "mnist_architecture": 3, "mnist_ema": 2}
    sizes |= {"cifar10_data_efficient": 3, "cifar10_transgan": 2, "fashion_mnist_stylegan2": 2}
    sizes |= {"fashion_mnist_stylegan2_mb_ratio": 2}
    assert len(jobs) == sizes.get(name, 10)
    configs = [compose_train(f"experiment={name}", *job) for job in jobs]
    if name == "mnist_optimizer":
        assert [c.optimizer._target_ for c in configs] == ["torch.optim.SGD", "torch.optim.Adam"]
    elif name == "mnist_z_dim":
        assert [c.model.z_dim for c in configs] == [20, 50, 100, 200]
    elif name == "mnist_ema":
        assert [c.model.ema_kimg for c in configs] == [None, 10]
    elif name == "fashion_mnist_stylegan2_mb_ratio":
        assert [c.model.lazy_optimizer_scaling for c in configs] == [True, False]
    elif name == "cifar10_data_efficient":
        assert [c.augment.kind for c in configs] == ["none", "diffaugment", "ada"]
    elif name == "cifar10_transgan":  # TransGAN with and without DiffAugment
        assert [(c.model.arch, c.augment.kind) for c in configs] == [
            ("transformer", "diffaugment"),
            ("transformer", "none"),
        ]
    elif name == "fashion_mnist_stylegan2":  # the DCGAN job is the plain DCGAN (no StyleGAN options)
        assert [(c.model.arch, c.optimizer.lr_g) for c in configs] == [("stylegan2", 2.5e-3), ("conv", 2e-4)]
    elif name == "mnist_architecture":
        assert [(c.model.arch, c.model.conditional) for c in configs] == [
            ("mlp", False), ("conv", False), ("mlp", True),
        ]  # fmt: skip
        assert {c.model.z_dim for c in configs} == {100}
    else:  # unquoted lists in the sweep: every job trains on one digit, a list, not the string "[k]"
        assert [OmegaConf.to_container(c.data.classes) for c in configs] == [[k] for k in range(10)]


def test_quoted_list_values_would_be_strings() -> None:
    """Why the per-class sweep writes [0],[1],...: a quoted "[0]" is the string, not a list."""
    (job,) = sweep_jobs({"data.classes": '"[0]"'})
    assert compose_train(*job).data.classes == "[0]"


def test_command_line_overrides_the_budget() -> None:
    cfg = compose_train("experiment=mnist_optimizer", "trainer.max_steps=1500", "metrics.every_n_steps=500")
    assert (cfg.trainer.max_steps, cfg.metrics.every_n_steps) == (1500, 500)


def test_finetune_script_chains_the_stages(tmp_path: Path) -> None:
    """run.sh with a stand-in Python that records its arguments: four stages, each from the last."""
    log = tmp_path / "calls.txt"
    fake = tmp_path / "python"
    fake.write_text(f'#!/usr/bin/env bash\necho "$*" >> {log}\n')
    fake.chmod(0o755)
    root = tmp_path / "root"
    script = EXPERIMENTS / "05_staged_finetuning" / "run.sh"
    result = subprocess.run(
        ["bash", str(script), str(root), "trainer.max_steps=400"],
        env={**os.environ, "PYTHON": str(fake)}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    calls = log.read_text().splitlines()
    assert len(calls) == 5
    stages = [("2e-4", "0.5"), ("1e-4", "0.3"), ("1e-4", "0.5"), ("1e-5", "0.5")]
    for i, (call, (lr, beta1)) in enumerate(zip(calls, stages, strict=False), start=1):
        args = call.split()
        assert args[:3] == ["-m", "gan_lightning", "experiment=dcgan_finetune"]
        assert f"hydra.run.dir={root}/stage{i}" in args
        assert f"optimizer.lr_g={lr}" in args and f"optimizer.lr_d={lr}" in args
        assert f"optimizer.betas=[{beta1},0.999]" in args
        assert "trainer.max_steps=400" in args
        assert f"seed={i}" in args  # each stage its own data order and noise
        inits = [a for a in args if a.startswith("init_from=")]
        assert inits == ([] if i == 1 else [f"init_from={root}/stage{i - 1}/checkpoints/last.ckpt"])
    assert calls[4].split() == ["-m", "gan_lightning.report", str(root)]


def test_synthetic_cifar_loads(tmp_path: Path) -> None:
    smoke = load_module(EXPERIMENTS / "06_cifar10_dcgan" / "smoke.py")
    root = smoke.write_synthetic_cifar(tmp_path / "data", n_train=23, n_test=7)
    dm = CIFAR10DataModule(root=root, batch_size=4, download=False)
    with pytest.raises(DatasetNotFoundError):  # torchvision checks the real files' MD5 sums
        dm.prepare_data()
    with smoke.accept_any_cifar():
        dm.prepare_data()
        dm.setup("fit")
        test = dm.load_split("test")
    assert len(dm.train_set) == 23 and len(test) == 7
    images, labels = next(iter(dm.train_dataloader()))
    assert images.shape == (4, 3, 32, 32) and images.dtype == torch.float32
    assert -1.0 <= images.min() < images.max() <= 1.0
    assert set(labels.tolist()) <= set(range(10))


@pytest.mark.slow
def test_cifar_smoke_run_trains(tmp_path: Path) -> None:
    """The smoke script trains experiment=cifar10_dcgan on synthetic data at 3x32x32 (2 steps here)."""
    run_dir = tmp_path / "run"
    smoke = EXPERIMENTS / "06_cifar10_dcgan" / "smoke.py"
    small = [f"model.networks.conv.{net}.base_channels=8" for net in ("generator", "discriminator")]
    result = subprocess.run(
        [sys.executable, str(smoke), "--root", str(tmp_path / "data"), "trainer.max_steps=2",
         "data.batch_size=16", "logger=none", *small, f"hydra.run.dir={run_dir}"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert (run_dir / "checkpoints" / "last.ckpt").exists()
    saved = OmegaConf.load(run_dir / ".hydra" / "config.yaml")
    assert saved.model.z_dim == 128 and saved.data._target_.endswith("CIFAR10DataModule")
