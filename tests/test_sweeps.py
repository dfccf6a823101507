"""Sweeps: TensorBoard's HPARAMS records of every job, Optuna, the joblib and submitit launchers, and
failed jobs that are reported without stopping the others."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import pytorch_lightning as pl
import torch
import yaml
from tensorboard.plugins.hparams import api_pb2, metadata

from gan_lightning.callbacks.hparams import flat_hparams
from gan_lightning.errors import ConfigError
from gan_lightning.metrics.classifier_net import DatasetClassifier, classifier_path, save_classifier
from gan_lightning.sweeps import optimized_value
from gan_lightning.train import train
from tests.helpers import QUICK, read_events
from tests.test_cli import cli

METRICS = (
    "metrics.every_n_steps=2",
    "metrics.n_samples=48",
    "metrics.kid_subset_size=16",
    "metrics.batch_size=16",
)
FAST = (*QUICK, "trainer.log_every_n_steps=1")  # 3 generator steps, every one logged


@pytest.fixture
def classifier(mnist_root: Path) -> Path:
    """An (untrained) classifier where runs on ``mnist_root`` look for it: FID is on."""
    torch.manual_seed(0)
    path = classifier_path(mnist_root, "mnist")
    return save_classifier(DatasetClassifier((1, 28, 28), 10), path, "mnist", test_accuracy=0.1)


def sweep(tmp_path: Path, mnist_root: Path, *args: str, multirun: bool = True):
    """Run ``python -m gan_lightning -m ARGS`` into ``tmp_path/sweep``; return (result, job dirs)."""
    sweep_dir = tmp_path / "sweep"
    result = cli(
        *(["-m"] if multirun else []),
        *args,
        f"hydra.sweep.dir={sweep_dir}",
        env={"GAN_DATA_DIR": str(mnist_root), "OMP_NUM_THREADS": "1"},  # tiny nets: 1 thread is faster
    )
    jobs = sorted((p for p in sweep_dir.glob("*") if p.name.isdigit()), key=lambda p: int(p.name))
    return result, jobs


def hparams_records(run_dir: Path):
    """The hparams plugin's experiment, session start and end records of a run, and its events."""
    events = read_events(run_dir / "tensorboard")
    content = events.PluginTagToContent(metadata.PLUGIN_NAME)
    end = content.get(metadata.SESSION_END_INFO_TAG)
    return (
        metadata.parse_experiment_plugin_data(content[metadata.EXPERIMENT_TAG]),
        metadata.parse_session_start_info_plugin_data(content[metadata.SESSION_START_INFO_TAG]),
        end and metadata.parse_session_end_info_plugin_data(end),
        events,
    )


def last(events, tag: str) -> float:
    return events.Scalars(tag)[-1].value


def output(result) -> str:
    return result.stdout + result.stderr


# --- the HPARAMS view ---------------------------------------------------------------------------


def test_hparams_are_the_config_flattened_to_scalars(compose_cfg):
    cfg = compose_cfg("optimizer=sgd", "data.classes=[3,5]")
    flat = flat_hparams(cfg)
    assert flat["model"] == "dcgan" and flat["optimizer"] == "sgd" and flat["data"] == "mnist"
    assert flat["model.z_dim"] == 100 and flat["optimizer.nesterov"] is False
    assert flat["data.classes"] == "[3, 5]" and flat["seed"] == "null"
    assert all(isinstance(v, (bool, int, float, str)) for v in flat.values())
    assert not [k for k in flat if k.startswith(("paths", "callbacks", "logger", "hydra")) or "._" in k]


def test_lr_sweep_logs_each_jobs_hparams_with_final_and_best_metrics(tmp_path, mnist_root, classifier):
    result, jobs = sweep(tmp_path, mnist_root, *FAST, *METRICS, "optimizer.lr_g=1e-4,3e-4")
    assert result.returncode == 0, output(result)[-3000:]
    assert [j.name for j in jobs] == ["0", "1"]
    for job, lr in zip(jobs, (1e-4, 3e-4), strict=True):
        experiment, start, end, events = hparams_records(job)
        assert start.hparams["optimizer.lr_g"].number_value == pytest.approx(lr)
        assert start.hparams["optimizer"].string_value == "adam"
        assert start.hparams["model.z_dim"].number_value == 100
        assert start.hparams["model.conditional"].bool_value is False
        # The swept key is listed first (TensorBoard shows the first five hparams by default).
        assert [h.name for h in experiment.hparam_infos if h.differs] == ["optimizer.lr_g"]
        assert experiment.hparam_infos[0].name == "optimizer.lr_g"
        tags = [m.name.tag for m in experiment.metric_infos]
        assert tags[:2] == ["hp/fid_best", "hp/fid_final"]
        assert {"hp/kid_final", "hp/d_loss_final", "hp/g_loss_final"} <= set(tags)
        assert end.status == api_pb2.STATUS_SUCCESS
        # The summary metrics' values are scalars of the same run, the last one being the value shown.
        fid = [e.value for e in events.Scalars("val/fid")]
        assert len(fid) == 2
        assert last(events, "hp/fid_final") == pytest.approx(fid[-1])
        assert last(events, "hp/fid_best") == pytest.approx(min(fid))
        assert last(events, "hp/g_loss_final") == pytest.approx(last(events, "train/g_loss"))
        assert last(events, "hp/d_loss_final") == pytest.approx(last(events, "train/d_loss"))
        # Learning-rate sweeps: lr/g is logged every step, at the swept value.
        assert [e.value for e in events.Scalars("lr/g")] == pytest.approx([lr] * 3)


def test_summary_metrics_with_csv_logger_and_without_logger(compose_cfg, tmp_path, mnist_root):
    cfg = compose_cfg(*FAST, "logger=csv", "data=gaussian_mixture", "data.n_samples=256", "model=gan",
                      *METRICS, out=tmp_path / "csv")  # fmt: skip
    metrics = train(cfg, tmp_path / "csv")
    assert {"hp/modes_covered_best", "hp/high_quality_final", "hp/g_loss_final", "val/modes_covered"} <= set(
        metrics
    )
    header = (tmp_path / "csv" / "csv" / "metrics.csv").read_text().splitlines()[0].split(",")
    assert {"hp/modes_covered_best", "hp/g_loss_final"} <= set(header)
    cfg = compose_cfg(*FAST, "logger=none", "metrics=none", f"data.root={mnist_root}", out=tmp_path / "none")
    metrics = train(cfg, tmp_path / "none")
    assert math.isfinite(metrics["hp/g_loss_final"]) and "hp/fid_best" not in metrics
    assert not (tmp_path / "none" / "tensorboard").exists()


class Boom(pl.Callback):
    def on_train_batch_end(self, *args) -> None:
        raise RuntimeError("boom")


def test_a_run_that_crashes_has_status_failure(compose_cfg, tmp_path, mnist_root):
    cfg = compose_cfg(
        *FAST, "metrics=none", f"data.root={mnist_root}", "+callbacks.boom._target_=tests.test_sweeps.Boom"
    )
    with pytest.raises(RuntimeError, match="boom"):
        train(cfg, tmp_path / "run")
    _, start, end, _ = hparams_records(tmp_path / "run")
    assert start.hparams["model.z_dim"].number_value == 100
    assert end.status == api_pb2.STATUS_FAILURE


# --- the value a sweeper optimises ------------------------------------------------------------------


def test_optimized_metric_is_looked_up_by_name():
    assert optimized_value({"hp/fid_best": 3.0}, None) is None
    assert optimized_value({"hp/fid_best": 3.0}, "hp/fid_best") == 3.0
    with pytest.raises(ConfigError, match="optimized_metric=val/fid was not computed.*hp/fid_best"):
        optimized_value({"hp/fid_best": 3.0}, "val/fid")
    with pytest.raises(FloatingPointError, match="NaN"):
        optimized_value({"val/fid": math.nan}, "val/fid")


def test_optuna_study_minimises_fid_and_survives_a_failed_trial(tmp_path, mnist_root, classifier):
    result, jobs = sweep(
        tmp_path, mnist_root, *FAST, *METRICS,
        "hparams_search=fid_optuna", "hydra.sweeper.n_trials=2", "hydra.sweeper.sampler.seed=1",
        "model.z_dim=choice(-1,8)",  # the search space's z_dim -1 fails (a ConfigError at build)
        multirun=False,  # the preset sets hydra.mode=MULTIRUN
    )  # fmt: skip
    assert len(jobs) == 2, output(result)[-3000:]
    z_dims = [yaml.safe_load((j / ".hydra" / "config.yaml").read_text())["model"]["z_dim"] for j in jobs]
    assert sorted(set(z_dims)) == [-1, 8], "seed 1 draws -1, then 8"
    fids = {}
    for job, z_dim in zip(jobs, z_dims, strict=True):
        if z_dim == -1:
            assert (job / "FAILED").read_text().startswith("ConfigError: model.z_dim")
        else:
            assert not (job / "FAILED").exists()
            fids[job.name] = last(hparams_records(job)[3], "hp/fid_best")
    assert "Failed experiment" in output(result)  # Optuna marked the trial failed and went on
    results = yaml.safe_load((tmp_path / "sweep" / "optimization_results.yaml").read_text())
    assert results["best_params"]["model.z_dim"] == 8
    assert results["best_value"] == pytest.approx(min(fids.values()), rel=1e-5)
    assert result.returncode == 1 and "job(s) of the sweep failed" in output(result)


# --- launchers and failed jobs ------------------------------------------------------------------


def test_joblib_launcher_runs_jobs_in_parallel_processes(tmp_path, mnist_root):
    result, jobs = sweep(
        tmp_path, mnist_root, *FAST, "metrics=none", "model.z_dim=8,16",
        "hydra/launcher=joblib", "hydra.launcher.n_jobs=2",
    )  # fmt: skip
    assert result.returncode == 0, output(result)[-3000:]
    assert "Joblib.Parallel(n_jobs=2" in output(result)
    for job, z_dim in zip(jobs, (8, 16), strict=True):
        _, start, end, _ = hparams_records(job)
        assert start.hparams["model.z_dim"].number_value == z_dim
        assert end.status == api_pb2.STATUS_SUCCESS
        assert (job / "checkpoints" / "last.ckpt").is_file()


def check_one_failed_one_done(result, jobs) -> None:
    assert result.returncode == 1, output(result)[-3000:]
    assert [j.name for j in jobs] == ["0", "1"]
    failed, done = jobs
    assert (failed / "FAILED").read_text().startswith("ConfigError: model.z_dim must be a positive integer")
    assert "This job failed: ConfigError" in (failed / "train.log").read_text()
    assert not (done / "FAILED").exists() and (done / "checkpoints" / "last.ckpt").is_file()
    assert hparams_records(done)[2].status == api_pb2.STATUS_SUCCESS
    assert "1 job(s) of the sweep failed" in output(result)
    assert f"{failed}: ConfigError: model.z_dim must be" in output(result)


def test_a_failed_job_is_reported_and_the_sweep_goes_on(tmp_path, mnist_root):
    result, jobs = sweep(tmp_path, mnist_root, *FAST, "metrics=none", "model.z_dim=-1,8")
    check_one_failed_one_done(result, jobs)


@pytest.mark.slow
def test_submitit_local_launcher(tmp_path, mnist_root):
    result, jobs = sweep(
        tmp_path, mnist_root, *FAST, "metrics=none", "model.z_dim=-1,8",
        "hydra/launcher=submitit_local", "hydra.launcher.timeout_min=5",
    )  # fmt: skip
    check_one_failed_one_done(result, jobs)
    assert (tmp_path / "sweep" / ".submitit").is_dir()
