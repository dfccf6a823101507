"""``python -m gan_lightning.leaderboard``: a real leaderboard of 2 tiny models x 2 seeds (ranks, mean ±
std recomputed from the runs' own events, samples= beside them), a minutes budget, runs written by hand
(protocols that differ, translation directions, failed runs), and every bad input refused before any
training."""

from __future__ import annotations

import csv
import json
import statistics
from pathlib import Path

import pytest
import torch
import yaml
from omegaconf import OmegaConf
from torch.utils.tensorboard import SummaryWriter

from gan_lightning.callbacks.periodic import PROTOCOL_FILE
from gan_lightning.leaderboard.__main__ import main
from gan_lightning.leaderboard.launch import Plan
from gan_lightning.metrics.classifier_net import DatasetClassifier, classifier_path, save_classifier
from gan_lightning.report.runs import find_jobs
from tests.helpers import QUICK, QUICK_TRANSLATION, read_events
from tests.test_report import make_run

QUICK_METRICS = (
    *(o for o in QUICK if not o.startswith("trainer.max_steps")),
    "metrics.n_samples=40",
    "metrics.kid_subset_size=20",
    "metrics.batch_size=20",
)
PROTOCOL = {
    "extractor": "classifier-0123456789", "n_fake": 40, "n_real": 32, "reference": "mnist/test",
    "metrics": ["fid", "kid"], "source": "torchvision",
}  # fmt: skip


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def classifier(mnist_root: Path) -> Path:
    """An (untrained) MNIST classifier where the runs look for it: FID is on, nothing is trained."""
    torch.manual_seed(0)
    path = classifier_path(mnist_root, "mnist")
    return save_classifier(DatasetClassifier((1, 28, 28), 10), path, "mnist", test_accuracy=0.1)


@pytest.fixture
def data_env(mnist_root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The tiny data for the leaderboard and its training subprocess, which runs on one thread."""
    monkeypatch.setenv("GAN_DATA_DIR", str(mnist_root))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    return mnist_root


def run_main(capture, *args: str) -> tuple[int, str, str]:
    """The command in-process (its training sweep is a subprocess: ``capfd`` sees its output)."""
    capture.readouterr()
    try:
        code = main(list(args))
    except SystemExit as exit_:
        code = exit_.code
    captured = capture.readouterr()
    return code, captured.out, captured.err


# --- real runs ------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_two_models_two_seeds_ranked_by_mean_fid_with_samples_beside(tmp_path, data_env, classifier, capfd):
    samples = tmp_path / "zeros.pt"
    torch.save(torch.zeros(40, 1, 28, 28), samples)
    out = tmp_path / "board"
    code, stdout, stderr = run_main(
        capfd, "models=[gan,dcgan]", "seeds=2", "budget.steps=3", f"out={out}", f"samples=[{samples}]",
        "device=cpu", *QUICK_METRICS,
    )  # fmt: skip
    assert code == 0, (stdout + stderr)[-4000:]
    runs = read_csv(out / "leaderboard_runs.csv")
    assert sorted((r["name"], r["seed"]) for r in runs if r["source"] == "trained") == [
        ("dcgan", "0"), ("dcgan", "1"), ("gan", "0"), ("gan", "1")
    ]  # fmt: skip
    by_model: dict[str, list[float]] = {}
    for job in sorted(p for p in out.iterdir() if p.name.isdigit()):
        overrides = yaml.safe_load((job / ".hydra" / "overrides.yaml").read_text())
        assert "++metrics.extractor=classifier" in overrides and "++metrics.n_samples=40" in overrides
        assert "++trainer.max_steps=3" in overrides and "++trainer.max_epochs=-1" in overrides
        model = next(o.split("=")[1] for o in overrides if o.startswith("model="))
        by_model.setdefault(model, []).append(read_events(job / "tensorboard").Scalars("val/fid")[-1].value)
    board = read_csv(out / "leaderboard.csv")
    assert {r["section"] for r in board} == {"1"}  # the samples share the runs' protocol
    trained = [r for r in board if r["source"] == "trained"]
    expected = sorted(by_model, key=lambda m: statistics.fmean(by_model[m]))
    assert [r["name"] for r in trained] == expected
    for row in trained:
        values = by_model[row["name"]]
        assert float(row["fid_mean"]) == pytest.approx(statistics.fmean(values), rel=1e-6)
        assert float(row["fid_std"]) == pytest.approx(statistics.stdev(values), rel=1e-6)
        assert (row["runs"], row["fid_n"], row["steps_mean"]) == ("2", "2", "3.0")
    assert [r["rank"] for r in board] == ["1", "2", "3"]  # the samples ranked among the runs
    assert [float(r["fid_mean"]) for r in board] == sorted(float(r["fid_mean"]) for r in board)
    (sample_row,) = [r for r in board if r["source"] == "samples"]
    assert sample_row["name"] == str(samples) and sample_row["fid_std"] == ""
    markdown = (out / "leaderboard.md").read_text()
    best = trained[0]
    stat = f"{float(best['fid_mean']):.4g} ± {float(best['fid_std']):.4g}"
    assert f"| {best['rank']} | {best['name']} | 2/2 | {stat} |" in markdown
    assert "![fid against generator steps and wall-clock minutes](leaderboard_curves.png)" in markdown
    assert (out / "leaderboard_curves.png").stat().st_size > 1000
    for model in ("gan", "dcgan"):
        assert f"### {model}\n\n![{model}](" in markdown
    text = read_events(out / "tensorboard").Tensors("leaderboard/text_summary")[0].tensor_proto
    assert "| rank | name | runs | fid |" in text.string_val[0].decode()
    assert len(find_jobs(out)) == 4  # with its tensorboard/, the sweep is still read as one by `report`


@pytest.mark.slow
def test_a_minutes_budget_stops_cleanly_and_records_the_steps_reached(tmp_path, data_env, classifier, capfd):
    out = tmp_path / "board"
    quick = (*QUICK_METRICS, "metrics.every_n_steps=0", "callbacks.sample_grid.every_n_steps=0")
    code, stdout, stderr = run_main(capfd, "models=[gan]", "budget.minutes=0.02", f"out={out}", *quick)
    assert code == 0, (stdout + stderr)[-4000:]
    assert "Time limit reached" in stdout + stderr
    overrides = yaml.safe_load((out / "0" / ".hydra" / "overrides.yaml").read_text())
    assert "++trainer.max_time='00:00:00:01'" in overrides and "++trainer.max_steps=-1" in overrides
    last = torch.load(out / "0" / "checkpoints" / "last.ckpt", weights_only=True, map_location="cpu")
    steps = int(last["state_dict"]["generator_step"])
    (row,) = read_csv(out / "leaderboard.csv")
    assert steps > 3 and float(row["steps_mean"]) == steps and float(row["minutes_mean"]) > 0
    assert row["fid_mean"] and row["rank"] == "1"


@pytest.mark.slow
def test_translation_models_with_options_of_their_own_get_a_column_per_direction(
    tmp_path, two_domains, monkeypatch, capfd
):
    """Options only the translation models have (their networks' widths) reach the sweep, whose first
    composition uses the default model: as ``++key=value``."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    out = tmp_path / "board"
    translation = [o for o in QUICK_TRANSLATION if "train_classifier" not in o and "max_steps" not in o]
    code, stdout, stderr = run_main(
        capfd, "models=[cyclegan,discogan]", "budget.steps=2", f"out={out}", *translation,
        f"data.path={two_domains}", f"data.root={two_domains.parent}",
    )  # fmt: skip
    assert code == 0, (stdout + stderr)[-4000:]
    overrides = yaml.safe_load((out / "0" / ".hydra" / "overrides.yaml").read_text())
    assert "++model.networks.resnet.generator.base_channels=4" in overrides and "data=unpaired" in overrides
    board = read_csv(out / "leaderboard.csv")
    assert sorted(r["name"] for r in board) == ["cyclegan", "discogan"]
    assert [r["rank"] for r in board] == ["1", "2"]
    for row in board:
        directions = [float(row["fid_a2b_mean"]), float(row["fid_b2a_mean"])]
        assert float(row["fid_mean"]) == pytest.approx(sum(directions) / 2, rel=1e-6)
    markdown = (out / "leaderboard.md").read_text()
    assert "| rank | name | runs | fid | fid_a2b | fid_b2a | kid_a2b | kid_b2a | domain_acc_a2b |" in markdown


# --- runs written by hand -----------------------------------------------------------------------------


def hand_run(path: Path, model: str, seed: int, metrics: dict[str, list[float]], protocol: dict | str | None):
    """A finished run of ``model`` with ``metrics`` logged (val/*) and its protocol recorded."""
    make_run(path, [f"model={model}", f"seed={seed}"], metrics=metrics)
    if protocol is not None:
        writer = SummaryWriter(str(path / "tensorboard"))
        text = protocol if isinstance(protocol, str) else f"{protocol['extractor']}, n={protocol['n_fake']}"
        writer.add_text("val/protocol", text, 0)
        writer.close()
        if isinstance(protocol, dict):
            (path / PROTOCOL_FILE).write_text(json.dumps(protocol))
    return path


def hand_sweep(root: Path, runs: list[tuple[str, int, dict, dict | str | None]]) -> Path:
    root.mkdir(parents=True)
    (root / "multirun.yaml").write_text("hydra: {}\n")
    for number, (model, seed, metrics, protocol) in enumerate(runs):
        hand_run(root / str(number), model, seed, metrics, protocol)
    return root


def test_runs_with_other_protocols_are_never_ranked_together(tmp_path, capsys):
    other = {**PROTOCOL, "n_fake": 500, "n_real": 500}
    sweep = hand_sweep(tmp_path / "sweep", [
        ("gan", 0, {"fid": [9.0, 4.0]}, PROTOCOL), ("gan", 1, {"fid": [9.0, 6.0]}, PROTOCOL),
        ("dcgan", 0, {"fid": [9.0, 3.0], "precision": [0.1, 0.5]}, {**PROTOCOL, "settings": {"pr_k": 3}}),
        ("lsgan", 0, {"fid": [9.0, 1.0]}, other),
    ])  # fmt: skip
    out = tmp_path / "board"
    code, _, err = run_main(capsys, f"runs=[{sweep}]", f"out={out}")
    assert code == 0, err
    board = read_csv(out / "leaderboard.csv")
    table = [(r["section"], r["rank"], r["name"].split(" ")[0], r["fid_mean"], r["fid_std"]) for r in board]
    assert table == [
        ("1", "1", "dcgan", "3.0", ""),
        ("1", "2", "gan", "5.0", str(statistics.stdev([4.0, 6.0]))),
        ("2", "1", "lsgan", "1.0", ""),  # the lowest FID, but measured on 500 images: not ranked first
    ]
    markdown = (out / "leaderboard.md").read_text()
    assert "## 2. Protocol: classifier-0123456789, n=500" in markdown
    assert "Not ranked with table 1: measured with another protocol" in markdown
    assert f"| 2 | gan ({sweep}) | 2/2 | 5 ± 1.414 |" in markdown


def test_translation_runs_get_a_column_per_direction_and_rank_by_their_mean(tmp_path, capsys):
    text = "domain classifier; all test images (A 4, B 4) [folder]"
    values = {
        "cyclegan": {"fid_a2b": [2.0], "fid_b2a": [4.0], "cycle_l1_a2b": [0.1], "cycle_l1_b2a": [0.2]},
        "discogan": {"fid_a2b": [1.0], "fid_b2a": [6.0], "cycle_l1_a2b": [0.3], "cycle_l1_b2a": [0.4]},
    }
    sweep = hand_sweep(tmp_path / "sweep", [(m, 0, v, text) for m, v in values.items()])
    out = tmp_path / "board"
    code, _, err = run_main(capsys, f"runs=[{sweep}]", f"out={out}")
    assert code == 0, err
    markdown = (out / "leaderboard.md").read_text()
    header = "| rank | name | runs | fid | fid_a2b | fid_b2a | cycle_l1_a2b | cycle_l1_b2a | steps |"
    assert header in markdown
    assert f"| 1 | cyclegan ({sweep}) | 1/1 | 3 | 2 | 4 | 0.1 | 0.2 |" in markdown
    assert f"| 2 | discogan ({sweep}) | 1/1 | 3.5 | 1 | 6 | 0.3 | 0.4 |" in markdown


def test_a_failed_run_is_noted_in_its_row_and_runs_of_two_dirs_stay_apart(tmp_path, capsys):
    first = hand_sweep(
        tmp_path / "a", [("gan", 0, {"fid": [2.0]}, PROTOCOL), ("gan", 1, {"fid": [4.0]}, PROTOCOL)]
    )
    (first / "1" / "FAILED").write_text("FloatingPointError: the D loss is NaN\n\ntraceback")
    second = hand_run(tmp_path / "b", "gan", 0, {"fid": [3.0]}, PROTOCOL)
    out = tmp_path / "board"
    code, _, err = run_main(capsys, f"runs=[{first},{second}]", f"out={out}")
    assert code == 0, err
    board = read_csv(out / "leaderboard.csv")
    assert [(r["name"], r["rank"], r["runs"], r["runs_failed"]) for r in board] == [
        (f"gan ({first})", "1", "1", "1"), (f"gan ({second})", "2", "1", "0")
    ]  # fmt: skip
    assert "FloatingPointError: the D loss is NaN" in board[0]["problems"]
    markdown = (out / "leaderboard.md").read_text()
    assert f"| 1 | gan ({first}) | 1/2 | 2 |" in markdown and "failed: FloatingPointError" in markdown


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("models=[gan,stylegan9]", "budget.steps=3"), "unknown model stylegan9; choose from cgan,"),
        (("models=[cyclegan]", "data=fashion_mnist", "budget.steps=3"),
         "model=cyclegan cannot train here: UnpairedTranslation translates between two image domains"),
        (("models=[gan]", "seeds=0", "budget.steps=3"), "seeds must be at least 1"),
        (("models=[gan]", "budget.steps=3", "budget.minutes=1"), "budget.steps=N (generator steps) or"),
        (("models=[gan]",), "one of the two (got steps=None, minutes=None)"),
        (("models=[gan]", "budget.steps=0"), "budget.steps must be a positive number"),
        (("models=[gan]", "budget.minutes=-1"), "budget.minutes must be a positive number"),
        (("models=[gan]", "budget.steps=3", "model=dcgan"), "the leaderboard sets model itself; use models="),
        (("models=[gan]", "budget.steps=3", "trainer.max_steps=9"), "use budget.steps=N"),
        (("models=[gan]", "budget.steps=3", "model.z_dim=8,16"), "sweeps models and seeds only"),
        (("models=[gan]", "budget.steps=3", "metrics=none"), "runs without metrics"),
        (("models=[gan]", "budget.steps=3", "experiment=mnist_optimizer"), "sweep optimizer themselves"),
        ((), "Nothing to rank"),
        (("models=[gan]", "budget.steps=3", "rank_by=fdi"), "rank_by=fdi is not a metric; choose from fid,"),
        (("runs=[/nonexistent/run]",), "runs: /nonexistent/run is not a directory"),
        (("samples=[/nonexistent/x.pt]",), "samples=/nonexistent/x.pt: no such file or folder"),
    ],
)  # fmt: skip
def test_bad_input_fails_before_any_training(args, message, tmp_path, capsys):
    out = tmp_path / "board"
    code, _, err = run_main(capsys, *args, f"out={out}")
    assert code == 2, err
    assert message in err and "Traceback" not in err
    assert not out.exists()


def test_the_sweep_sets_plain_options_and_leaves_group_choices_and_hydra_alone(tmp_path):
    training = Plan(
        models=["gan", "dcgan"], seeds=[0, 1],
        overrides=["data=fashion_mnist", "model.z_dim=8", "~callbacks.progress_bar", "+x.y=1",
                   "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "trainer=cpu"],
        budget=["trainer.max_steps=3"], protocol=["metrics.n_samples=40"], reference=OmegaConf.create({}),
    )  # fmt: skip
    command = training.command(tmp_path / "my board")
    assert command[3:] == [
        "-m", "model=gan,dcgan", "seed=0,1", "data=fashion_mnist", "++model.z_dim=8",
        "~callbacks.progress_bar", "+x.y=1", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2",
        "trainer=cpu", "++trainer.max_steps=3", "++metrics.n_samples=40",
        f"hydra.sweep.dir='{tmp_path / 'my board'}'",
    ]  # fmt: skip


def test_a_new_board_needs_a_new_directory(tmp_path, capsys):
    (tmp_path / "board").mkdir()
    (tmp_path / "board" / "x").write_text("")
    code, _, err = run_main(capsys, "models=[gan]", "budget.steps=3", f"out={tmp_path / 'board'}")
    assert code == 2 and "already holds files" in err
