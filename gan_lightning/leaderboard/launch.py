"""The training runs of a leaderboard: the command line split into the leaderboard's keys and training
overrides, every check made before any training, and the one Hydra multirun that trains them all.

The runs are an ordinary sweep of the training command, ``python -m gan_lightning -m model=a,b
seed=0,1,2 <overrides> <budget> <protocol> hydra.sweep.dir=OUT``, in a subprocess: any Hydra launcher
(``hydra/launcher=slurm``, ``joblib``) runs them, and the sweep directory is one ``report`` reads too.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_module
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from hydra.utils import get_object
from omegaconf import DictConfig, OmegaConf

from gan_lightning.config import as_plain, build, check_family_options, check_model_data
from gan_lightning.errors import ConfigError
from gan_lightning.metrics.protocol import MetricOptions, extractor_name
from gan_lightning.steps import register_resolvers

#: the leaderboard's own keys (tool_conf/leaderboard.yaml); every other argument goes to the runs
KEYS = ("models", "seeds", "budget", "runs", "samples", "rank_by", "out", "device")
#: training options the leaderboard sets itself, and the key to use instead
OWN = {
    "model": "models=[a,b,...]",
    "seed": "seeds=N (or seeds=[s1,s2,...])",
    "trainer.max_steps": "budget.steps=N",
    "trainer.max_time": "budget.minutes=M",
    "trainer.max_epochs": "budget.steps=N or budget.minutes=M",
    "hydra.sweep.dir": "out=DIR",
    "hydra.sweep.subdir": "out=DIR",
    "hparams_search": "a sweep of its own (python -m gan_lightning ...), then runs=[its dir]",
    "ckpt_path": "runs=[DIR] (finished runs)",
}
GAN_METRICS = "gan_lightning.callbacks.GANMetrics"


@dataclass
class Plan:
    """What a leaderboard trains: the models, the seeds, and the overrides of every run."""

    models: list[str]
    seeds: list[int]
    overrides: list[str]  # the user's training overrides, as typed
    budget: list[str]  # trainer.max_steps / max_time ..., metrics.every_n_steps
    protocol: list[str]  # metrics.<option>=<value> of every MetricOptions field (image models)
    reference: DictConfig  # the training config of the first model (or the default): data, metrics

    def command(self, out: Path) -> list[str]:
        """The multirun of every (model, seed). Hydra composes a multirun's config once before its jobs,
        with the default model (the sweep left out), where an option of the chosen models may not exist:
        options are given as ``++key=value`` (set, or add there); each was checked on every model."""
        overrides = [forced(o) for o in (*self.overrides, *self.budget, *self.protocol)]
        return [
            sys.executable, "-m", "gan_lightning", "-m",
            f"model={','.join(self.models)}", f"seed={','.join(str(s) for s in self.seeds)}",
            *overrides, f"hydra.sweep.dir={hydra_value(str(out))}",
        ]  # fmt: skip


def forced(override: str) -> str:
    """``key=value`` -> ``++key=value`` for a plain config option; a group choice (``data=mnist``),
    Hydra's own options and overrides with a prefix or a package stay as they are."""
    parsed = OverridesParser.create().parse_overrides([override])[0]
    plain = not (parsed.is_hydra_override() or parsed.is_add() or parsed.is_force_add() or parsed.is_delete())
    group = (resources.files("gan_lightning.conf") / parsed.key_or_group.replace(".", "/")).is_dir()
    return f"++{override}" if plain and parsed.package is None and not group else override


def split_arguments(argv: list[str]) -> tuple[list[str], list[str]]:
    """(the leaderboard's overrides, the training overrides): a ConfigError for a key the leaderboard
    sets itself, a training sweep (``a=1,2``), or an argument Hydra cannot parse."""
    try:
        parsed = OverridesParser.create().parse_overrides(argv)
    except HydraException as err:
        raise ConfigError(f"Cannot parse the arguments: {err}") from err
    own, training = [], []
    for override, text in zip(parsed, argv, strict=True):
        key = override.key_or_group
        top = re.split(r"[./@]", key)[0]
        if top in KEYS:
            if override.is_sweep_override():
                raise ConfigError(f"{text}: write a list, e.g. {key}=[a,b], not a sweep.")
            own.append(text)
        elif key in OWN or key.startswith("hydra.sweep."):
            raise ConfigError(f"{text}: the leaderboard sets {key} itself; use {OWN.get(key, 'out=DIR')}.")
        elif override.is_sweep_override():
            raise ConfigError(
                f"{text}: the leaderboard sweeps models and seeds only; give {key} one value (compare its "
                "values with a sweep of its own, then runs=[its dir])."
            )
        else:
            training.append(text)
    return own, training


def compose_config(module: str, name: str, overrides: list[str], hydra: bool = False) -> DictConfig:
    """``name`` of the config package ``module`` composed with ``overrides`` (a ConfigError saying why
    it cannot be); ``hydra``: with Hydra's own node."""
    register_resolvers()
    GlobalHydra.instance().clear()
    try:
        with initialize_config_module(config_module=module, version_base="1.3"):
            return compose(config_name=name, overrides=overrides, return_hydra_config=hydra)
    except HydraException as err:
        raise ConfigError(f"Cannot compose the {name} config with {' '.join(overrides)}: {err}") from err
    finally:
        GlobalHydra.instance().clear()


def plan(cfg: DictConfig, overrides: list[str]) -> Plan:
    """Check everything a leaderboard's training needs, before any run starts: the models exist and fit
    the data, the seeds, the budget; and derive every run's overrides."""
    models = [str(m) for m in cfg.models]
    known = model_names()
    unknown = [m for m in models if m not in known]
    if unknown:
        raise ConfigError(f"models: unknown model {', '.join(unknown)}; choose from {', '.join(known)}.")
    if len(set(models)) != len(models):
        raise ConfigError(f"models={models} names a model twice.")
    seeds = seed_list(cfg.seeds)
    local = [o for o in overrides if not re.match(r"[+~]*hydra[./]", o)]  # Hydra's own: for the sweep
    first = [f"model={models[0]}"] if models else []  # the overrides may name options of the models
    reference = compose_config("gan_lightning.conf", "train", [*local, *first], hydra=True)
    swept = list((reference.hydra.sweeper.get("params") or {}).keys())
    if swept:
        raise ConfigError(
            f"These overrides sweep {', '.join(swept)} themselves (an experiment's hydra.sweeper.params): "
            "the leaderboard sweeps models and seeds only. Run that sweep, then runs=[its dir]."
        )
    budget = budget_overrides(cfg.budget, overrides) if models else []
    image_models = False
    for model in models:
        composed = compose_config("gan_lightning.conf", "train", [*local, f"model={model}"])
        try:
            check_family_options(get_object(composed.model._target_), composed.model.keys())
            check_model_data(composed.model, build(composed.data))
        except ConfigError as err:
            raise ConfigError(f"model={model} cannot train here: {err}") from err
        metrics = composed.get("metrics") or {}
        if not metrics.get("_target_"):
            raise ConfigError(
                f"model={model} runs without metrics (metrics=none): a leaderboard compares them."
            )
        image_models |= metrics.get("_target_") == GAN_METRICS
    protocol = protocol_overrides(reference, build(reference.data)) if image_models else []
    return Plan(models, seeds, overrides, budget, protocol, reference)


def model_names() -> list[str]:
    """The model configs of ``conf/model/``."""
    folder = resources.files("gan_lightning.conf") / "model"
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))


def seed_list(seeds: Any) -> list[int]:
    """``seeds=N`` -> 0..N-1; ``seeds=[..]`` as given."""
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        if seeds < 1:
            raise ConfigError(f"seeds must be at least 1 (runs per model), got {seeds}.")
        return list(range(seeds))
    values = list(seeds) if OmegaConf.is_list(seeds) or isinstance(seeds, list) else None
    if not values or not all(isinstance(s, int) and not isinstance(s, bool) for s in values):
        raise ConfigError(
            f"seeds must be a count (seeds=3) or a list of integer seeds (seeds=[1,2]), got {seeds}."
        )
    if len(set(values)) != len(values):
        raise ConfigError(f"seeds={values} repeats a seed.")
    return values


def budget_overrides(budget: DictConfig, overrides: list[str]) -> list[str]:
    """The training overrides of ``budget.steps`` (generator steps, evaluations spread over them) or
    ``budget.minutes`` (Lightning's ``max_time``): exactly one of the two."""
    steps, minutes = budget.get("steps"), budget.get("minutes")
    if (steps is None) == (minutes is None):
        raise ConfigError(
            "Give each run's budget: budget.steps=N (generator steps) or budget.minutes=M (wall-clock "
            f"minutes of training), one of the two (got steps={steps}, minutes={minutes})."
        )
    if steps is not None:
        if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
            raise ConfigError(f"budget.steps must be a positive number of generator steps, got {steps}.")
        out = [f"trainer.max_steps={steps}", "trainer.max_epochs=-1"]
        evaluations = budget.get("evaluations") or 1
        if not any(re.match(r"[+]*metrics\.every_n_steps=", o) for o in overrides):
            out.append(f"metrics.every_n_steps={max(1, steps // max(1, int(evaluations)))}")
        return out
    if isinstance(minutes, bool) or not isinstance(minutes, (int, float)) or minutes <= 0:
        raise ConfigError(f"budget.minutes must be a positive number of minutes, got {minutes}.")
    seconds = max(1, round(minutes * 60))
    days, rest = divmod(seconds, 86400)
    clock = f"{days:02d}:{rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"
    return ["trainer.max_steps=-1", "trainer.max_epochs=-1", f"++trainer.max_time='{clock}'"]


def metric_options(reference: DictConfig, datamodule: Any) -> MetricOptions:
    """The protocol: the training config's metric options (with the user's ``metrics.*``), ``auto``
    resolved to the extractor it means for this data."""
    given = as_plain(reference.metrics) or {}
    if given.get("_target_") != GAN_METRICS:
        raise ConfigError("The leaderboard's protocol comes from metrics=default (with metrics.* overrides).")
    options = MetricOptions(**{f.name: given[f.name] for f in fields(MetricOptions) if f.name in given})
    if datamodule.is_image:
        options = MetricOptions(**{**options.__dict__, "extractor": extractor_name(options, datamodule)})
    return options


def protocol_overrides(reference: DictConfig, datamodule: Any) -> list[str]:
    """Every metric option, explicitly: each run measures with the same protocol, whatever its model
    config would change."""
    options = metric_options(reference, datamodule)
    return [f"metrics.{f.name}={hydra_value(getattr(options, f.name))}" for f in fields(MetricOptions)]


def hydra_value(value: Any) -> str:
    """``value`` as a Hydra override's value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(hydra_value(v) for v in value) + "]"
    text = str(value)
    if re.fullmatch(r"[A-Za-z_/][\w./-]*", text) and text.lower() not in ("true", "false", "null"):
        return text
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def check_new_directory(out: Path) -> None:
    """The runs go into a new (or empty) directory."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError(f"out={out} already holds files: choose a new directory for the runs.")


def run_sweep(training: Plan, out: Path) -> int:
    """Train every (model, seed) into ``out``; the sweep's exit status (1 when some runs failed: they
    are named in the leaderboard)."""
    result = subprocess.run(training.command(out), check=False)
    if result.returncode not in (0, 1) or not any(p.name.isdigit() for p in out.glob("*")):
        raise ConfigError(
            f"The training sweep ended with exit code {result.returncode} before its runs (see its output "
            "above)."
        )
    return result.returncode
