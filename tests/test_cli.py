"""The command line end to end, in subprocesses, as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers import QUICK, read_events

REPO = Path(__file__).resolve().parents[1]


def cli(
    *args: str, cwd: Path | None = None, env: dict | None = None, command=None
) -> subprocess.CompletedProcess:
    command = command or [sys.executable, "-m", "gan_lightning"]
    return subprocess.run(
        [*command, *args],
        cwd=cwd or REPO,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_help_lists_groups_and_options():
    result = cli("--help")
    assert result.returncode == 0, result.stderr
    for line in (
        "model: cgan, cyclegan, dcgan, discogan, gan, lsgan",
        "data: cifar10, fashion_mnist, gaussian_mixture, image_folder, mnist, paired, unpaired",
        "optimizer: adam, rmsprop, sgd",
    ):
        assert line in result.stdout


def test_console_script_is_the_same_command():
    script = Path(sys.executable).parent / "gan-lightning"
    result = cli("--help", command=[str(script)])
    assert result.returncode == 0 and "Configuration groups" in result.stdout


def test_train_cgan_end_to_end(tmp_path, mnist_root):
    run_dir = tmp_path / "run"
    result = cli(
        "model=cgan",
        "data=fashion_mnist",
        *QUICK,
        f"hydra.run.dir={run_dir}",
        "trainer.log_every_n_steps=1",
        env={"GAN_DATA_DIR": str(mnist_root)},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    saved = yaml.safe_load((run_dir / ".hydra" / "config.yaml").read_text())
    assert saved["model"]["conditional"] is True
    resolved = yaml.safe_load((run_dir / "tensorboard" / "hparams.yaml").read_text())
    assert resolved["data"]["root"] == str(mnist_root)  # GAN_DATA_DIR is the data root
    assert (run_dir / "checkpoints" / "last.ckpt").is_file()
    assert (run_dir / "samples" / "step_0000003.png").is_file()
    events = read_events(run_dir / "tensorboard")
    assert {"train/d_loss", "train/g_loss", "train/D(x)"} <= set(events.Tags()["scalars"])
    assert "samples" in events.Tags()["images"]


def test_unknown_model_lists_the_choices():
    result = cli("model=stylegan9")
    assert result.returncode != 0
    assert "Could not find 'model/stylegan9'" in result.stderr
    for name in ("cgan", "dcgan", "gan", "lsgan"):
        assert name in result.stderr


def test_bad_value_prints_one_clear_message(tmp_path, mnist_root):
    result = cli("model.n_critic=0", f"data.root={mnist_root}", f"hydra.run.dir={tmp_path / 'run'}")
    assert result.returncode == 2
    assert "Error: model.n_critic must be at least 1" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "run" / "checkpoints").exists()


@pytest.mark.slow
def test_non_editable_install_works_from_any_directory(tmp_path):
    """`pip install .` ships the Hydra configs inside the package."""
    site = tmp_path / "site"
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(site),
            str(REPO),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stderr
    assert (site / "gan_lightning" / "conf" / "model" / "cgan.yaml").is_file()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"PYTHONPATH": str(site)}
    where = cli(
        command=[sys.executable, "-c", "import gan_lightning; print(gan_lightning.__file__)"],
        cwd=elsewhere,
        env=env,
    )
    assert where.stdout.strip().startswith(str(site))
    result = cli("--help", cwd=elsewhere, env=env)
    assert result.returncode == 0, result.stderr
    assert "model: cgan, cyclegan, dcgan, discogan, gan, lsgan" in result.stdout
