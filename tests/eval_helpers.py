"""Helpers of the evaluation tests: tiny checkpoints and classifiers made once per session, and the
tools (sample, evaluate, classifier) run in a subprocess or in-process through their Hydra entry."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_module
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict

from gan_lightning.files import CACHE_ENV
from gan_lightning.train import train
from tests.conftest import make_mnist_like
from tests.helpers import QUICK

REPO = Path(__file__).resolve().parents[1]

# Session-wide cache of what is expensive to make: {name: path}; everything lives under pytest's basetemp.
_MADE: dict[str, Path] = {}

CHECKPOINTS = {
    "cgan": ("model=cgan",),
    "dcgan": ("model=dcgan",),
    "toy": ("model=gan", "data=gaussian_mixture", "data.n_samples=512"),
}


def compose_config(config_name: str, *overrides: str, output_dir: Path | None = None) -> DictConfig:
    """The app's config ``config_name`` composed with ``overrides``, as its command would see it."""
    GlobalHydra.instance().clear()
    try:
        with initialize_config_module(config_module="gan_lightning.conf", version_base="1.3"):
            cfg = compose(config_name=config_name, overrides=list(overrides), return_hydra_config=True)
        if output_dir is not None:
            with open_dict(cfg):
                cfg.hydra.runtime.output_dir = str(output_dir)
        HydraConfig.instance().set_config(cfg)
        with open_dict(cfg):
            del cfg["hydra"]
        return cfg
    finally:
        GlobalHydra.instance().clear()


def tiny_data_root(factory: pytest.TempPathFactory) -> Path:
    """Tiny MNIST files (64 train, 32 test images), shared by the session's checkpoints."""
    if "data" not in _MADE:
        _MADE["data"] = make_mnist_like(factory.mktemp("eval_data"), "MNIST")
    return _MADE["data"]


def tiny_checkpoint(kind: str, factory: pytest.TempPathFactory) -> Path:
    """``last.ckpt`` of a 3-step run: ``cgan`` or ``dcgan`` on tiny MNIST, ``toy`` a GAN on the ring."""
    if kind not in _MADE:
        root = tiny_data_root(factory)
        out = factory.mktemp(f"run_{kind}")
        cfg = compose_config(
            "train", *QUICK, *CHECKPOINTS[kind], "metrics=none", "seed=0", f"data.root={root}", output_dir=out
        )
        with single_thread():
            train(cfg, out)
        _MADE[kind] = out / "checkpoints" / "last.ckpt"
    return _MADE[kind]


def tiny_classifier(factory: pytest.TempPathFactory) -> Path:
    """A half-trained classifier of the tiny MNIST data (3 epochs of 4 steps: about 40% test accuracy,
    so that its right and wrong predictions both show), saved to ``<dir>/classifiers/mnist.pt``."""
    if "classifier" not in _MADE:
        from gan_lightning.classifier import train_classifier

        path = factory.mktemp("eval_classifier") / "classifiers" / "mnist.pt"
        cfg = compose_config(
            "classifier",
            f"data.root={tiny_data_root(factory)}",
            "data.batch_size=16",
            "classifier.epochs=3",
            "accelerator=cpu",
            f"classifier.path={path}",
        )
        with single_thread():
            train_classifier(cfg)
        _MADE["classifier"] = path
    return _MADE["classifier"]


def classifier_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, classifier: Path) -> Path:
    """A fresh GAN_CACHE_DIR under ``tmp_path`` holding ``classifier`` as the MNIST classifier and no
    cached statistics."""
    cache = tmp_path / "cache"
    (cache / "classifiers").mkdir(parents=True)
    shutil.copy(classifier, cache / "classifiers" / "mnist.pt")
    monkeypatch.setenv(CACHE_ENV, str(cache))
    return cache


@contextmanager
def single_thread() -> Iterator[None]:
    """One intra-op thread: on a small machine that is busy with other work, two contending threads
    make these tiny computations many times slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def cli(module: str, *args: str, env: dict[str, str | None] | None = None) -> subprocess.CompletedProcess:
    """``python -m <module> args...`` in a subprocess (``env`` values of None unset a variable), on one
    intra-op thread (see :func:`single_thread`)."""
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    for key, value in (env or {}).items():
        if value is None:
            environment.pop(key, None)
        else:
            environment[key] = value
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


def run_main(main: Callable[[], object], capsys, *args: str) -> tuple[int, str, str]:
    """Run a tool's Hydra ``main`` in-process with ``args`` as its command line: (exit code, out, err).

    The same path as ``python -m`` (argument parsing, config, error handling) without a new
    interpreter's start-up time. The tools' Hydra logging config (``disabled``) disables every
    existing logger; the logging state is restored afterwards so that later tests still see logs."""
    loggers = [lg for lg in logging.Logger.manager.loggerDict.values() if isinstance(lg, logging.Logger)]
    saved = [(lg, lg.disabled, lg.level, list(lg.handlers)) for lg in [logging.root, *loggers]]
    argv = sys.argv
    sys.argv = ["gan_lightning", *args]
    GlobalHydra.instance().clear()
    capsys.readouterr()
    try:
        main()
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    finally:
        sys.argv = argv
        GlobalHydra.instance().clear()
        for logger, disabled, level, handlers in saved:
            logger.disabled, logger.handlers = disabled, handlers
            logger.setLevel(level)
    captured = capsys.readouterr()
    return code, captured.out, captured.err
