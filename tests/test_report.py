"""`python -m gan_lightning.report DIR`: run and sweep folders written by hand (no training), broken jobs,
bad arguments, and one real sweep end to end."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image
from torch.utils.tensorboard import SummaryWriter

from gan_lightning.report import build_report
from gan_lightning.report.__main__ import main
from gan_lightning.report.runs import check_event_file, job_error, label, read_job, swept_keys
from tests.helpers import QUICK

REPO = Path(__file__).resolve().parents[1]


def make_run(
    path: Path,
    overrides: list[str] | None,
    steps: int = 6,
    max_steps: int = 6,
    metrics: dict[str, list[float]] | None = None,
    sample: bool = True,
    events: bool = True,
) -> Path:
    """A run folder as training leaves it: .hydra/, TensorBoard scalars, sample grids.

    Training scalars are logged at steps 0..steps-1 (Lightning's batch index), metrics every 2 steps.
    """
    path.mkdir(parents=True)
    if overrides is not None:
        (path / ".hydra").mkdir()
        (path / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(overrides))
        config = {"model": {"z_dim": 100}, "trainer": {"max_steps": max_steps, "max_epochs": 5}}
        (path / ".hydra" / "config.yaml").write_text(yaml.safe_dump(config))
    (path / "train.log").write_text("[2026-11-23 08:00:00,000][gan_lightning.train][INFO] - Run directory\n")
    if events:
        writer = SummaryWriter(str(path / "tensorboard"))
        for step in range(steps):
            writer.add_scalar("train/d_loss", 1.4 - 0.1 * step, step)
            writer.add_scalar("train/g_loss", 0.6 + 0.1 * step, step)
            writer.add_scalar("train/D(x)", 0.5 + 0.01 * step, step)
            writer.add_scalar("train/D(G(z))_before_d_step", 0.5 - 0.01 * step, step)
            writer.add_scalar("train/D(G(z))_after_d_step", 0.4 - 0.01 * step, step)
        for name, values in (metrics or {}).items():
            for i, value in enumerate(values):
                writer.add_scalar(f"val/{name}", value, 2 * (i + 1))
        writer.close()
    if sample:
        (path / "samples").mkdir()
        for step in range(2, steps + 1, 2):
            pixels = np.full((20, 20, 3), 40 * step, dtype=np.uint8)
            Image.fromarray(pixels).save(path / "samples" / f"step_{step:07d}.png")
    return path


def make_sweep(root: Path, **jobs: dict) -> Path:
    """A multirun folder (multirun.yaml) with job folders named by the keyword arguments."""
    root.mkdir(parents=True)
    (root / "multirun.yaml").write_text("hydra: {}\n")
    for name, kwargs in jobs.items():
        make_run(root / name.lstrip("j"), **kwargs)
    return root


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def age(path: Path, seconds: float) -> None:
    """Make every file under ``path`` look last written ``seconds`` ago."""
    then = time.time() - seconds
    for file in [path, *path.rglob("*")]:
        os.utime(file, (then, then))


COMMON = ["model=gan", "trainer.max_steps=6"]


def test_sweep_report_has_one_row_per_job_best_metrics_and_every_plot(tmp_path):
    fids = {
        "0": [30.0, 20.0, 25.0],
        "1": [28.0, 27.0, 26.0],
        "2": [40.0, 35.0, 10.0],
        "3": [50.0, 45.0, 44.0],
    }
    jobs = {
        f"j{i}": dict(
            overrides=[*COMMON, f"model.z_dim={z}", f"optimizer={opt}"],
            metrics={"fid": fids[str(i)], "class_acc": [0.2, 0.9, 0.5]},
        )
        for i, (z, opt) in enumerate([(8, "adam"), (8, "sgd"), (16, "adam"), (16, "sgd")])
    }
    sweep = make_sweep(tmp_path / "sweep", **jobs)

    assert main([str(sweep)]) == 0

    rows = read_csv(sweep / "report.csv")
    assert [r["job"] for r in rows] == ["0", "1", "2", "3"]
    assert [r["model.z_dim"] for r in rows] == ["8", "8", "16", "16"]
    assert [r["optimizer"] for r in rows] == ["adam", "sgd", "adam", "sgd"]
    assert "model" not in rows[0] and "trainer.max_steps" not in rows[0]  # the same in every job: no column
    first = rows[0]
    assert first["status"] == "ok" and first["reason"] == "" and first["problems"] == ""
    assert first["steps"] == "6"  # scalars at steps 0..5: six generator steps done
    assert float(first["d_loss"]) == pytest.approx(0.9) and float(first["g_loss"]) == pytest.approx(1.1)
    assert float(first["fid_final"]) == 25.0
    assert (float(first["fid_best"]), first["fid_best_step"]) == (20.0, "4")  # min for FID
    assert (float(first["class_acc_best"]), first["class_acc_best_step"]) == (pytest.approx(0.9), "4")  # max
    assert float(rows[2]["fid_best"]) == 10.0 and rows[2]["fid_best_step"] == "6"
    assert float(first["wall_time_s"]) >= 0
    assert first["overrides"] == "model=gan trainer.max_steps=6 model.z_dim=8 optimizer=adam"

    report = (sweep / "report.md").read_text()
    assert "4 jobs: 4 ok" in report
    assert "| job | model.z_dim | optimizer | status |" in report
    assert "| 2 | 16 | adam | **ok** | 6 |" in report
    assert "10 (@6)" in report  # job 2's best FID, at its step
    plots = [
        "report_losses.png",
        "report_d_outputs.png",
        "report_metrics.png",
        "report_vs_model.z_dim.png",
        "report_vs_optimizer.png",
        "report_samples.png",
    ]
    for name in plots:
        assert f"]({name})" in report, name
        with Image.open(sweep / name) as image:
            assert image.width > 300 and image.height > 200, name
    assert sorted(p.name for p in sweep.glob("report_*.png")) == sorted(plots)


def test_single_run_directory_gives_one_row_with_its_overrides(tmp_path):
    run = make_run(
        tmp_path / "run", ["model=gan", "trainer.max_steps=6"], metrics={"modes_covered": [3, 8, 6]}
    )
    report, jobs = build_report(run)
    assert [job.name for job in jobs] == ["."]
    rows = read_csv(run / "report.csv")
    assert len(rows) == 1 and rows[0]["job"] == "." and rows[0]["status"] == "ok"
    assert float(rows[0]["modes_covered_best"]) == 8 and float(rows[0]["modes_covered_final"]) == 6
    text = report.read_text()
    assert "| overrides | status |" in text and "`model=gan` `trainer.max_steps=6`" in text
    assert not list(run.glob("report_vs_*.png"))  # nothing swept, nothing to plot against
    assert (run / "report_samples.png").exists() and (run / "report_losses.png").exists()


def test_precision_recall_is_and_ppl_columns_with_their_best(tmp_path):
    metrics = {
        "fid": [9.0, 7.0, 8.0],
        "precision": [0.2, 0.7, 0.6],
        "coverage": [0.1, 0.3, 0.5],
        "is_classifier": [2.0, 6.5, 6.0],
        "ppl": [300.0, 120.0, 150.0],
    }
    run = make_run(tmp_path / "run", ["model=stylegan2", "trainer.max_steps=6"], metrics=metrics)
    report, _ = build_report(run)
    (row,) = read_csv(run / "report.csv")
    best = {m: (float(row[f"{m}_best"]), row[f"{m}_best_step"]) for m in metrics}
    assert best == {
        "fid": (7.0, "4"),
        "precision": (pytest.approx(0.7), "4"),  # the highest
        "coverage": (pytest.approx(0.5), "6"),
        "is_classifier": (6.5, "4"),
        "ppl": (120.0, "4"),  # the lowest
    }
    assert "recall_best" not in row  # not logged: no column
    text = report.read_text()
    assert "| precision final | precision best |" in text and "| ppl final | ppl best |" in text
    assert "Best = lowest fid / ppl, highest precision / coverage / is_classifier (at step)." in text


def test_translation_runs_show_each_direction_with_its_best(tmp_path):
    unpaired = {
        "fid_a2b": [9.0, 7.0, 8.0],
        "fid_b2a": [6.0, 6.5, 5.0],
        "domain_acc_a2b": [0.2, 0.9, 0.8],
        "content_acc_a2b": [0.5, 0.4, 0.7],
        "content_acc_b2a": [0.6, 0.3, 0.2],
        "cycle_l1_b2a": [0.3, 0.1, 0.2],
        "cycle_psnr_b2a": [12.0, 15.0, 14.0],
        "identity_l1_a2b": [0.2, 0.25, 0.15],
        "kid_std": [0.1, 0.1, 0.1],  # not a metric of the registry: no column
    }
    paired = {"fid": [4.0, 3.0, 3.5], "l1": [0.4, 0.3, 0.35], "psnr": [10.0, 12.0, 11.0]}
    sweep = make_sweep(
        tmp_path / "sweep",
        j0=dict(overrides=["model=cyclegan", "optimizer.lr_g=1e-4"], metrics=unpaired),
        j1=dict(overrides=["model=pix2pix", "optimizer.lr_g=3e-4"], metrics=paired),
    )
    report, _ = build_report(sweep)
    cyclegan, pix2pix = read_csv(sweep / "report.csv")
    best = {m: (float(cyclegan[f"{m}_best"]), cyclegan[f"{m}_best_step"]) for m in unpaired if m != "kid_std"}
    assert best == {
        "fid_a2b": (7.0, "4"),  # lowest
        "fid_b2a": (5.0, "6"),
        "domain_acc_a2b": (pytest.approx(0.9), "4"),  # highest
        "content_acc_a2b": (pytest.approx(0.7), "6"),
        "content_acc_b2a": (pytest.approx(0.6), "2"),
        "cycle_l1_b2a": (pytest.approx(0.1), "4"),  # lowest
        "cycle_psnr_b2a": (15.0, "4"),  # highest
        "identity_l1_a2b": (pytest.approx(0.15), "6"),  # lowest
    }
    assert float(cyclegan["content_acc_b2a_final"]) == pytest.approx(0.2)
    assert "kid_std_final" not in cyclegan and cyclegan["l1_best"] == "" and pix2pix["fid_a2b_best"] == ""
    assert (float(pix2pix["l1_best"]), float(pix2pix["psnr_best"])) == (pytest.approx(0.3), 12.0)
    header = list(cyclegan)
    columns = [h for h in header if h.endswith("_best")]
    assert columns == [  # the registry's order, each metric's directions together
        "fid_best", "fid_a2b_best", "fid_b2a_best", "content_acc_a2b_best", "content_acc_b2a_best",
        "domain_acc_a2b_best", "cycle_l1_b2a_best", "cycle_psnr_b2a_best", "identity_l1_a2b_best", "l1_best",
        "psnr_best",
    ]  # fmt: skip
    text = report.read_text()
    assert "| content_acc_a2b final | content_acc_a2b best |" in text and "| l1 final | l1 best |" in text
    assert (
        "Best = lowest fid / cycle_l1 / identity_l1 / l1, highest content_acc / domain_acc / cycle_psnr / "
        "psnr (at step). Per direction: `_a2b` translates A to B" in text
    )
    assert {"report_metrics.png", "report_vs_optimizer.lr_g.png"} <= {p.name for p in sweep.glob("*.png")}


def test_broken_and_unfinished_jobs_are_named_and_the_report_still_comes_out(tmp_path):
    ok = dict(overrides=[*COMMON, "model.z_dim=8"])
    sweep = make_sweep(
        tmp_path / "sweep",
        j0=ok,
        j1=dict(overrides=[*COMMON, "model.z_dim=16"]),  # its event file gets damaged below
        j2=dict(overrides=[*COMMON, "model.z_dim=32"], events=False, sample=False),  # just started
        j3=dict(overrides=[*COMMON, "model.z_dim=64"], steps=3),  # crashed
        j4=dict(overrides=None),  # no .hydra
        j5=dict(overrides=[*COMMON, "model.z_dim=128"], steps=2),  # stopped long ago without an error
        j6=dict(overrides=[*COMMON, "model.z_dim=256"], events=False, sample=False),  # failed sweep job
        j8=dict(overrides=[*COMMON, "model.z_dim=512"], events=False, sample=False),  # empty, stale
    )
    events = next((sweep / "1" / "tensorboard").glob("events.out.tfevents.*"))
    data = bytearray(events.read_bytes())
    data[200:260] = b"\x00" * 60  # inside a record: its checksum fails
    events.write_bytes(bytes(data))
    with (sweep / "3" / "train.log").open("a") as log:
        log.write(
            "Traceback (most recent call last):\n"
            '  File "train.py", line 1, in <module>\n'
            "    raise RuntimeError('CUDA out of memory')\n"
            "RuntimeError: CUDA out of memory\n"
        )
    (sweep / "6" / "FAILED").write_text("ConfigError: model.z_dim must be positive\n\nTraceback ...\n")
    age(sweep / "5", 3600)
    age(sweep / "8", 3600)
    (sweep / "7").mkdir()  # a numbered job folder Hydra has only just created
    (sweep / "notes").mkdir()  # not a job

    assert main([str(sweep)]) == 0

    rows = {r["job"]: r for r in read_csv(sweep / "report.csv")}
    assert list(rows) == ["0", "1", "2", "3", "4", "5", "6", "7", "8"]
    assert rows["0"]["status"] == "ok"
    assert "corrupt" in rows["1"]["problems"] and "events.out.tfevents" in rows["1"]["problems"]
    assert (rows["2"]["status"], rows["2"]["reason"]) == ("running", "no data yet")
    assert rows["2"]["problems"] == "no TensorBoard event file"
    assert (rows["3"]["status"], rows["3"]["reason"]) == ("failed", "RuntimeError: CUDA out of memory")
    assert rows["3"]["steps"] == "3"
    assert "no .hydra" in rows["4"]["problems"] and rows["4"]["model.z_dim"] == ""
    assert rows["5"]["status"] == "failed" and "stopped at step 2 of 6" in rows["5"]["reason"]
    assert (rows["6"]["status"], rows["6"]["reason"]) == (
        "failed",
        "ConfigError: model.z_dim must be positive",
    )
    assert rows["7"]["status"] == "running"
    assert rows["8"]["status"] == "failed" and "no training data" in rows["8"]["reason"]
    report = (sweep / "report.md").read_text()
    # 1 reached its last step (its sample grids say so) despite the damaged events; 4 has no step target.
    assert rows["1"]["status"] == "ok" and rows["4"]["status"] == "running"
    assert "9 jobs: 2 ok, 3 running, 4 failed" in report
    assert "**failed**: RuntimeError: CUDA out of memory" in report
    assert "| 4 | ? |" in report  # its swept value is unknown, not empty
    assert (sweep / "report_losses.png").exists() and (sweep / "report_samples.png").exists()


def test_unreadable_job_is_failed_not_fatal(tmp_path):
    sweep = make_sweep(tmp_path / "sweep", j0=dict(overrides=[*COMMON, "model.z_dim=8"]))
    (sweep / "1" / ".hydra").mkdir(parents=True)
    (sweep / "1" / ".hydra" / "overrides.yaml").write_text("- model.z_dim=16\n- [unclosed\n")
    (sweep / "1" / "tensorboard").mkdir()
    (sweep / "1" / "tensorboard" / "events.out.tfevents.1.host").write_bytes(b"not an event file at all")
    age(sweep / "1", 3600)
    _, jobs = build_report(sweep)
    broken = jobs[1]
    assert broken.status == "failed" and "corrupt" in broken.reason
    assert any("overrides.yaml" in p for p in broken.problems)
    assert jobs[0].status == "ok"


def test_event_file_check_tells_truncation_from_corruption(tmp_path):
    run = make_run(tmp_path / "run", COMMON, sample=False)
    events = next((run / "tensorboard").glob("events.out.tfevents.*"))
    assert check_event_file(events) is None
    data = events.read_bytes()
    events.write_bytes(data[:-5])
    assert check_event_file(events).startswith("truncated record")
    events.write_bytes(data[:30] + bytes([data[30] ^ 0xFF]) + data[31:])
    assert check_event_file(events).startswith("corrupt")


def test_a_truncated_tail_is_normal_while_a_job_runs(tmp_path):
    run = make_run(tmp_path / "run", [*COMMON[:1], "trainer.max_steps=100"], max_steps=100)
    events = next((run / "tensorboard").glob("events.out.tfevents.*"))
    events.write_bytes(events.read_bytes()[:-5])  # a record being written
    job = read_job(run, run)
    assert (job.status, job.problems) == ("running", [])
    age(run, 3600)
    job = read_job(run, run)
    assert job.status == "failed" and "truncated" in " ".join(job.problems)


def test_swept_keys_and_labels(tmp_path):
    sweep = make_sweep(
        tmp_path / "sweep",
        j0=dict(overrides=["model=gan", "optimizer.lr_g=1e-4"], events=False, sample=False),
        j1=dict(overrides=["model=gan", "optimizer.lr_g=1e-2", "+extra=1"], events=False, sample=False),
    )
    jobs = [read_job(sweep / name, sweep) for name in ("0", "1")]
    keys = swept_keys(jobs)
    assert keys == ["optimizer.lr_g", "extra"]
    assert label(jobs[0], keys) == "0: optimizer.lr_g=1e-4"
    assert label(jobs[1], keys) == "1: optimizer.lr_g=1e-2, extra=1"


def test_not_a_directory_or_no_run_exits_2_saying_what_is_expected(tmp_path, capsys):
    file = tmp_path / "file.txt"
    file.write_text("x")
    for bad, message in ((file, "is not a directory"), (tmp_path / "missing", "is not a directory")):
        with pytest.raises(SystemExit) as exit_info:
            main([str(bad)])
        assert exit_info.value.code == 2
        err = capsys.readouterr().err
        assert message in err and "multirun sweep directory" in err
    empty = tmp_path / "empty"
    (empty / "sub").mkdir(parents=True)
    with pytest.raises(SystemExit) as exit_info:
        main([str(empty)])
    assert exit_info.value.code == 2
    assert "no training run in" in capsys.readouterr().err
    assert not (empty / "report.md").exists()


def test_out_writes_the_report_elsewhere(tmp_path):
    run = make_run(tmp_path / "run", COMMON)
    assert main([str(run), "--out", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "report.md").exists() and (tmp_path / "out" / "report.csv").exists()
    assert not (run / "report.md").exists()


@pytest.mark.slow
def test_real_two_job_sweep_end_to_end(tmp_path, mnist_root):
    sweep = tmp_path / "sweep"
    env = {**os.environ, "GAN_DATA_DIR": str(mnist_root), "OMP_NUM_THREADS": "1"}
    quick = [o for o in QUICK if not o.startswith("trainer.max_steps")]
    args = [
        "-m",
        "model=gan",
        "model.z_dim=8,16",
        *quick,
        "trainer.max_steps=4",
        "trainer.log_every_n_steps=1",
    ]
    train = subprocess.run(
        [sys.executable, "-m", "gan_lightning", *args, f"hydra.sweep.dir={sweep}"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert train.returncode == 0, train.stderr[-3000:]
    result = subprocess.run(
        [sys.executable, "-m", "gan_lightning.report", str(sweep)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "2 jobs: 2 ok" in result.stdout
    rows = read_csv(sweep / "report.csv")
    assert len(rows) == 2
    assert [r["model.z_dim"] for r in rows] == ["8", "16"]
    assert all(r["status"] == "ok" and r["steps"] == "4" and r["d_loss"] and r["g_loss"] for r in rows)
    report = (sweep / "report.md").read_text()
    assert "| job | model.z_dim | status |" in report
    for name in (
        "report_losses.png",
        "report_d_outputs.png",
        "report_vs_model.z_dim.png",
        "report_samples.png",
    ):
        assert (sweep / name).stat().st_size > 1000 and f"]({name})" in report


def test_a_report_written_into_a_stopped_run_does_not_make_it_look_running(tmp_path):
    run = make_run(tmp_path / "run", ["trainer.max_steps=100"], max_steps=100)
    age(run, 3600)
    for _ in range(2):
        _, jobs = build_report(run)
        assert jobs[0].status == "failed" and "stopped at step 6 of 100" in jobs[0].reason


def test_a_new_report_replaces_the_old_figures_and_leaves_other_files(tmp_path):
    sweep = make_sweep(
        tmp_path / "sweep",
        j0=dict(overrides=[*COMMON, "model.z_dim=8"]),
        j1=dict(overrides=[*COMMON, "model.z_dim=16"]),
    )
    build_report(sweep)
    assert (sweep / "report_vs_model.z_dim.png").exists()
    (sweep / "report_mine.png").write_bytes(b"not ours")
    (sweep / "1" / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump([*COMMON, "model.z_dim=8"]))
    build_report(sweep)  # nothing differs between the jobs now
    assert not (sweep / "report_vs_model.z_dim.png").exists()
    assert (sweep / "report_mine.png").exists() and (sweep / "report_losses.png").exists()


def test_the_error_is_read_from_train_log_error_lines_and_tracebacks(tmp_path):
    log = tmp_path / "train.log"
    log.write_text("[2026-11-23 08:00:00,000][gan_lightning.train][INFO] - Run directory: x\n")
    assert job_error(tmp_path) is None
    with log.open("a") as f:
        f.write(
            "[2026-11-23 08:00:01,000][gan_lightning.sweeps][ERROR] - "
            "This job failed: StorageError: disk full\n"
        )
    assert job_error(tmp_path) == "StorageError: disk full"
    with log.open("a") as f:
        f.write(
            "Traceback (most recent call last):\n  File 'x', line 1\n    f()\nOSError: [Errno 28] No space\n"
        )
    assert job_error(tmp_path) == "OSError: [Errno 28] No space"


def test_old_translation_tags_are_read_under_todays_names(tmp_path):
    run = make_run(tmp_path / "run", overrides=["model=cyclegan"], sample=False)
    writer = SummaryWriter(str(run / "tensorboard"))
    for step in range(3):
        writer.add_scalar("train/D(G(z))_before_d_step_b", 0.3 + step, step)  # D_B on G(a), by domain
        writer.add_scalar("train/D(G(z))_after_d_step_a2b", 0.2 + step, step)
    writer.close()
    job = read_job(run, run)
    assert job.last("train/D(translated)_before_d_step_a2b") == pytest.approx(2.3)
    assert job.last("train/D(translated)_after_d_step_a2b") == pytest.approx(2.2)
    assert "train/D(G(z))_before_d_step_b" not in job.curves


def test_a_run_beside_a_sweep_reports_both(tmp_path):
    """A study folder holding one run and a sweep next to it (e.g. one cGAN and per-class models)."""
    root = tmp_path / "study"
    make_run(root / "cgan", ["model=cgan"])
    make_sweep(
        root / "per_class", j0={"overrides": ["data.classes=[0]"]}, j1={"overrides": ["data.classes=[1]"]}
    )
    _, jobs = build_report(root)
    assert sorted(job.name for job in jobs) == ["cgan", "per_class/0", "per_class/1"]
