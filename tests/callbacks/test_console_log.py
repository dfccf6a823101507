"""Tutorial-style console lines: format, period in generator steps, off by default."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from gan_lightning.callbacks import ConsoleLog
from gan_lightning.callbacks.console_log import console_line
from gan_lightning.errors import ConfigError
from gan_lightning.log_names import D_FAKE_AFTER_D_STEP, D_FAKE_BEFORE_D_STEP, D_LOSS, D_REAL, G_LOSS
from gan_lightning.train import train
from tests.helpers import QUICK

METRICS = {
    D_LOSS: torch.tensor(0.87314),
    G_LOSS: torch.tensor(2.1),
    D_REAL: torch.tensor(0.7012),
    D_FAKE_BEFORE_D_STEP: torch.tensor(0.23154),
    D_FAKE_AFTER_D_STEP: torch.tensor(0.142),
}
LINE = re.compile(
    r"^\[\d+/\d+\]\[\d+/\d+\] Loss_D: -?\d+\.\d{4} Loss_G: -?\d+\.\d{4} D\(x\): (-?\d+\.\d{4}|-) "
    r"D\(G\(z\)\): (-?\d+\.\d{4}|-) / (-?\d+\.\d{4}|-)$"
)


def fake_run(step: int, max_epochs: int = 5, max_steps: int = -1, batches: int = 10):
    trainer = SimpleNamespace(
        callback_metrics=METRICS, current_epoch=1, max_epochs=max_epochs, max_steps=max_steps,
        num_training_batches=batches, progress_bar_callback=None,
    )  # fmt: skip
    module = SimpleNamespace(steps_done=step, optimizer_steps_for=lambda g: 2 * g)
    return trainer, module


def test_line_format() -> None:
    line = console_line(0, 5, 50, 937, METRICS)
    assert line == "[0/5][50/937] Loss_D: 0.8731 Loss_G: 2.1000 D(x): 0.7012 D(G(z)): 0.2315 / 0.1420"
    assert LINE.match(line)
    assert console_line(2, None, 3, None, {D_LOSS: 1.0, G_LOSS: 2.0}).startswith("[2/?][3/?] Loss_D: 1.0000")
    assert console_line(0, 1, 0, 1, {}).endswith("D(x): - D(G(z)): - / -")


def test_every_n_generator_steps(capsys: pytest.CaptureFixture) -> None:
    callback = ConsoleLog(every_n_steps=50)
    trainer, module = fake_run(1)
    callback.on_train_start(trainer, module)
    printed = []
    for step in (1, 2, 49, 50, 51, 100):
        trainer, module = fake_run(step)
        callback.on_train_batch_end(trainer, module, None, None, step % 10)
        printed += [step] if capsys.readouterr().out else []
    assert printed == [1, 50, 100]


def test_epochs_from_max_steps(capsys: pytest.CaptureFixture) -> None:
    """trainer.max_steps counts optimizer steps (2 per generator step here): 25 generator steps of 10
    batches per epoch end in the 3rd epoch, before max_epochs=5."""
    callback = ConsoleLog(every_n_steps=1)
    trainer, module = fake_run(1, max_epochs=5, max_steps=50)
    callback.on_train_start(trainer, module)
    callback.on_train_batch_end(trainer, module, None, None, 4)
    assert capsys.readouterr().out.startswith("[1/3][4/10] Loss_D: 0.8731")


def test_off(capsys: pytest.CaptureFixture) -> None:
    callback = ConsoleLog(every_n_steps=0)
    trainer, module = fake_run(50)
    callback.on_train_start(trainer, module)
    callback.on_train_batch_end(trainer, module, None, None, 0)
    assert capsys.readouterr().out == ""
    with pytest.raises(ConfigError, match="every_n_steps"):
        ConsoleLog(every_n_steps=-1)


def test_off_by_default_in_the_config(compose_cfg) -> None:
    cfg = compose_cfg()
    assert cfg.callbacks.console_log.every_n_steps == 0
    assert cfg.callbacks.console_log._target_ == "gan_lightning.callbacks.ConsoleLog"


def test_real_run_prints_lines(compose_cfg, mnist_root, capsys: pytest.CaptureFixture) -> None:
    cfg = compose_cfg(
        *QUICK, "model=dcgan", f"data.root={mnist_root}", "callbacks.console_log.every_n_steps=2",
        "trainer.max_steps=4",
    )  # fmt: skip
    train(cfg, Path(cfg.paths.output_dir))
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("[")]
    assert len(lines) == 3, lines  # generator steps 1, 2 and 4
    assert all(LINE.match(line) for line in lines), lines
    # 64 images / batch 16 = 4 batches per epoch; 4 generator steps = 1 epoch.
    assert lines[0].startswith("[0/1][0/4] ")
    assert lines[-1].startswith("[0/1][3/4] ")
