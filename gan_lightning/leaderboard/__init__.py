"""``python -m gan_lightning.leaderboard data=fashion_mnist models=[gan,dcgan] budget.steps=3000 seeds=3``:
train every model with every seed under one budget and one metric protocol, and rank them.

1. Checks, before anything runs (:mod:`.launch`): the arguments split into the leaderboard's keys
   (``tool_conf/leaderboard.yaml``) and training overrides; unknown models, models that cannot train on
   the data, seeds, the budget (steps or minutes, one of the two), ``runs=`` and ``samples=`` inputs.
2. ``samples=`` are scored with the protocol (:func:`gan_lightning.scoring.score_samples`).
3. The runs: one Hydra multirun of the training command, ``python -m gan_lightning -m model=...
   seed=...`` with the budget and every metric option given explicitly, into the sweep directory
   ``out`` (any launcher: ``hydra/launcher=slurm``).
4. Every run is read as ``report`` reads it (:mod:`gan_lightning.report.runs`): its last logged
   metrics, the protocol text it logged (``val/protocol``), steps and minutes reached, curves, sample
   grids; ``runs=`` adds finished runs.
5. Rows (a model's seeds) in one section per protocol, ranked by ``rank_by`` (:mod:`.table`), written
   into ``out`` (:mod:`.write`).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from omegaconf import DictConfig

from gan_lightning.checkpoints import resolve_device
from gan_lightning.errors import ConfigError
from gan_lightning.leaderboard.launch import (
    Plan,
    check_new_directory,
    compose_config,
    metric_options,
    plan,
    run_sweep,
    split_arguments,
)
from gan_lightning.leaderboard.runs import (
    Entry,
    check_run_paths,
    given_run_entries,
    sample_entry,
    trained_entries,
)
from gan_lightning.leaderboard.table import build_sections, check_rank_by
from gan_lightning.leaderboard.write import write_leaderboard
from gan_lightning.sample_files import read_samples
from gan_lightning.scoring import samples_datamodule

__all__ = ["run_leaderboard"]


def run_leaderboard(argv: list[str]) -> int:
    """The whole command; returns its exit status (1 when some training runs failed, after writing)."""
    own, overrides = split_arguments(argv)
    cfg = compose_config("gan_lightning.tool_conf", "leaderboard", own)
    if not (cfg.models or cfg.runs or cfg.samples):
        raise ConfigError(
            "Nothing to rank: give models=[...] to train, runs=[DIR,...] or samples=[PATH,...]."
        )
    check_rank_by(cfg.rank_by)
    training = plan(cfg, overrides)
    out = Path(cfg.out or f"leaderboards/{datetime.now():%Y-%m-%d/%H-%M-%S}").expanduser()
    if training.models:
        check_new_directory(out)
    run_paths = check_run_paths(list(cfg.runs))
    sample_paths = [str(p) for p in cfg.samples]
    entries: list[Entry] = []
    if sample_paths:
        datamodule = samples_datamodule(training.reference.data)
        options = metric_options(training.reference, datamodule)
        for path in sample_paths:  # every file's problem before any work
            read_samples(path, tuple(datamodule.data_shape), options.n_samples)
        device = resolve_device(cfg.device)
        entries += [sample_entry(path, training.reference.data, options, device) for path in sample_paths]
    status = 0
    if training.models:
        status = 1 if run_sweep(training, out) else 0
        entries = trained_entries(out) + entries
    for path in run_paths:
        entries += given_run_entries(path)

    sections = build_sections(entries, cfg.rank_by)
    intro = describe(training, cfg, run_paths, sample_paths)
    report = write_leaderboard(out, sections, entries, cfg.rank_by, intro)
    failed = [e for e in entries if e.problem and e.source == "trained"]
    print(f"{report} ({len(entries)} entries, {len(failed)} failed runs)")
    return 1 if status or failed else 0


def describe(training: Plan, cfg: DictConfig, run_paths: list[Path], sample_paths: list[str]) -> list[str]:
    """The lines under the title: what was trained and with what, what was added."""
    lines = []
    if training.models:
        budget = (f"{cfg.budget.steps} generator steps" if cfg.budget.steps is not None
                  else f"{cfg.budget.minutes} minutes")  # fmt: skip
        lines.append(
            f"Trained: {', '.join(training.models)}; seeds {training.seeds}; budget {budget} per run."
        )
        if training.overrides:
            lines.append("Every run: " + " ".join(f"`{o}`" for o in training.overrides) + ".")
        if training.protocol:
            lines.append(
                "Protocol options given to every run: " + " ".join(f"`{o}`" for o in training.protocol) + "."
            )
    if run_paths:
        lines.append("Finished runs: " + ", ".join(f"`{p}`" for p in run_paths) + ".")
    if sample_paths:
        lines.append("Samples scored: " + ", ".join(f"`{p}`" for p in sample_paths) + ".")
    return [line for text in lines for line in ("", text)]
