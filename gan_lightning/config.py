"""Turning composed Hydra configs into objects, and the checks that run before any training."""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hydra.utils import get_object
from omegaconf import DictConfig, OmegaConf

from gan_lightning.errors import ConfigError
from gan_lightning.models import FAMILIES


def build(node: DictConfig, **extra: Any) -> Any:
    """Call ``node._target_`` with the node's other keys as plain Python values, plus ``extra``.

    Unlike ``hydra.utils.instantiate`` this passes dicts and lists (never ``DictConfig``), so what a
    model stores with ``save_hyperparameters`` loads back anywhere, and its errors reach the user as
    they were raised.
    """
    kwargs = OmegaConf.to_container(node, resolve=True)
    target = get_object(kwargs.pop("_target_"))
    return target(**kwargs, **extra)


@dataclass(frozen=True)
class DataFacts:
    """What a family reads of its data (:meth:`~gan_lightning.core.AdversarialModule.data_options`), for
    building a model without a datamodule (benchmarks, tests): the attributes of the datamodules."""

    data_shape: tuple[int, ...]
    num_classes: int | None = None
    classes: list[int] | None = field(default=None)
    is_image: bool = True
    source_shape: tuple[int, ...] | None = None  # paired data: the sources' shape (pix2pix)


def build_model(cfg: DictConfig, data: Any) -> Any:
    """The model of a composed run config: its family (``model._target_``) with the options it takes from
    ``data`` (a set-up datamodule or :class:`DataFacts`), the optimizer, scheduler and augment groups,
    and the data config, recorded so that ``sample`` and ``evaluate`` find the dataset again."""
    family = get_object(cfg.model._target_)
    check_family_options(family, cfg.model.keys())
    return build(
        cfg.model,
        **family.data_options(data),
        optimizer=as_plain(cfg.optimizer),
        scheduler=as_plain(cfg.get("scheduler")),
        augment=as_plain(cfg.get("augment")),
        data=as_plain(cfg.get("data")),
    )


def family_options(family: type) -> dict[str, Any]:
    """The options a family's constructor takes, with their defaults (``inspect.Parameter.empty`` for
    none): its own and those of every class it builds on (the core's included), as the ``__init__``
    signatures along its class hierarchy name them (the most derived default wins)."""
    options: dict[str, Any] = {}
    for cls in family.__mro__:
        init = cls.__dict__.get("__init__")
        if init is None or cls.__module__.startswith(("pytorch_lightning", "lightning", "torch")):
            continue
        for p in inspect.signature(init).parameters.values():
            if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) and p.name != "self":
                options.setdefault(p.name, p.default)
    return options


def check_family_options(family: type, keys: Any) -> None:
    """Fail before any work when the model config sets an option its family does not take, saying
    which families take it."""
    unknown = sorted(set(keys) - set(family_options(family)) - {"_target_"})
    if not unknown:
        return
    takers = sorted({cls.__name__ for cls in FAMILIES.values() if set(unknown) <= set(family_options(cls))})
    hint = f" It is an option of {', '.join(takers)}." if takers else ""
    raise ConfigError(
        f"model.{', model.'.join(unknown)}: not an option of {family.__name__}.{hint} Choose the model "
        "config of the family you mean (model=stylegan2, model=stylegan, model=cyclegan ...), or drop it."
    )


def as_plain(node: DictConfig | None) -> Any:
    """A config node as plain containers (``None`` for a missing or empty node)."""
    if node is None:
        return None
    plain = OmegaConf.to_container(node, resolve=True)
    return plain or None


def check_run(cfg: DictConfig, output_dir: Path) -> None:
    """Checks on the run as a whole, made before any data is loaded or file written."""
    for key in ("ckpt_path", "init_from"):
        path = cfg.get(key)
        if path and not Path(path).is_file():
            raise ConfigError(f"{key}={path}: no such file.")
    if cfg.get("init_networks") is not None and not cfg.get("init_from"):
        raise ConfigError(
            "init_networks=... chooses which networks init_from loads: give init_from=PATH too."
        )
    if cfg.get("ckpt_path") and cfg.get("init_from"):
        raise ConfigError(
            "Give either ckpt_path (resume the same run exactly) or init_from (a new run from its weights), "
            "not both."
        )
    max_steps = cfg.trainer.get("max_steps", -1)
    if max_steps == 0 or max_steps < -1:
        raise ConfigError(
            f"trainer.max_steps must be positive (generator steps) or -1 for no limit, got {max_steps}."
        )
    if cfg.get("scheduler") and cfg.scheduler.get("total_iters", 1) <= 0:
        raise ConfigError("scheduler=linear decays to zero over trainer.max_steps: set trainer.max_steps=N.")
    _check_writable(output_dir)
    existing = sorted((output_dir / "checkpoints").glob("*.ckpt"))
    if existing and not cfg.get("ckpt_path"):
        raise ConfigError(
            f"The run directory {output_dir} already holds checkpoints ({existing[0].name}, ...). "
            "Nothing was changed. Choose a new directory (hydra.run.dir=...) or resume with ckpt_path=...."
        )


def check_model_data(model: DictConfig, datamodule: Any) -> None:
    """The model family and the data must be of the same kind (``data_kind`` of both): noise-to-image
    families train on ``samples``, unpaired translation families on ``two_domains`` (``data=unpaired``),
    paired translation families on ``paired`` (``data=paired``)."""
    family = get_object(model._target_)
    wanted = getattr(family, "data_kind", "samples")
    given = getattr(datamodule, "data_kind", "samples")
    if wanted == given:
        return
    name = family.__name__
    unpaired = (
        "data=unpaired data.path=DIR (with trainA/ trainB/ [testA/ testB/]) "
        "or data.path_a=DIR data.path_b=DIR"
    )
    paired = (
        "data=paired data.path=DIR (with A/ B/ [testA/ testB/], sources and targets paired by file name), or "
        "data=paired data.derive=edges (or grayscale) data.path=DIR of any images"
    )
    if wanted == "two_domains":
        if given == "paired":
            raise ConfigError(
                f"{name} translates between two unpaired image domains, but data=paired gives aligned "
                f"(source, target) pairs, for paired translation (model=pix2pix). Use model=pix2pix, or "
                f"{unpaired} (a folder of pairs works as two domains: data.path_a=DIR/A data.path_b=DIR/B)."
            )
        raise ConfigError(
            f"{name} translates between two image domains, but data '{datamodule.name}' is one set of "
            f"samples. Use {unpaired}."
        )
    if wanted == "paired":
        if given == "two_domains":
            raise ConfigError(
                f"{name} learns from aligned (source, target) pairs, but data=unpaired gives images of two "
                f"domains that are not pairs. Use {paired}; for unpaired domains choose model=cyclegan or "
                "model=discogan."
            )
        raise ConfigError(
            f"{name} translates paired images (source -> target), but data '{datamodule.name}' is one set "
            f"of samples. Use {paired}."
        )
    if given == "paired":
        raise ConfigError(
            f"data=paired gives aligned (source, target) image pairs, for paired translation models "
            f"(model=pix2pix); {name} generates samples from noise. Choose a paired translation model or "
            "a one-domain dataset (e.g. data=image_folder)."
        )
    raise ConfigError(
        f"data=unpaired gives pairs of images from two domains, for translation models (model=cyclegan or "
        f"model=discogan); {name} generates samples from noise. Choose a translation model or "
        "a one-domain dataset (e.g. data=image_folder)."
    )


def _check_writable(output_dir: Path) -> None:
    """Write (and remove) a probe file in the run directory, or say why that fails."""
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        probe = output_dir / ".write_test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise ConfigError(
            f"Cannot write to the output directory {output_dir}: {err.strerror or err}. "
            "Choose a writable place with hydra.run.dir=PATH (sweeps: hydra.sweep.dir=PATH)."
        ) from err
