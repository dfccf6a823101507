"""The run's hyperparameters and summary metrics for TensorBoard's HPARAMS view.

At train start every TensorBoard logger gets the hparams plugin's records: the config flattened to
dotted keys (``model.z_dim``, ``optimizer.lr_g``, plus the group choices ``model``, ``optimizer``, ...)
and the names of the summary metrics (``hp/fid_best``, ``hp/fid_a2b_best``, ``hp/g_loss_final``, ...).
The metric values are ordinary scalars under those names: the best ones are logged by the metric
callbacks (:class:`~gan_lightning.callbacks.metrics.GANMetrics`,
:class:`~gan_lightning.callbacks.translation_metrics.TranslationMetrics`) as they improve, the final
ones here at the end of training; which value is best (the lowest FID, the highest domain accuracy)
is stated once in :data:`gan_lightning.log_names.METRICS`. The run's status (success or failure) is
recorded too.

With ``tensorboard --logdir <sweep dir>`` every job is one row of the HPARAMS table.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf
from pytorch_lightning.loggers import TensorBoardLogger

from gan_lightning import log_names
from gan_lightning.callbacks.periodic import MetricEvaluation

# Config sections that are not hyperparameters: where and how a run writes, what a sweeper reads.
NOT_HYPERPARAMETERS = ("hydra", "paths", "callbacks", "logger", "trainer.plugins", "optimized_metric")
LOSSES = {log_names.D_LOSS: "hp/d_loss_final", log_names.G_LOSS: "hp/g_loss_final"}


def flat_hparams(cfg: DictConfig) -> dict[str, bool | int | float | str]:
    """The config as one flat dict of scalars: dotted keys, lists as strings, ``null`` as ``"null"``.

    The group choices of the run (``model: dcgan``, ``optimizer: sgd``) come first under the group's
    name; Hydra's own ``_target_``-style keys and the sections in ``NOT_HYPERPARAMETERS`` are left out.
    """
    flat: dict[str, Any] = {}
    if HydraConfig.initialized():
        for group, option in HydraConfig.get().runtime.choices.items():
            if option is not None and not _excluded(group.replace("/", ".")):
                flat[group.replace("/", ".")] = str(option)
    _flatten(OmegaConf.to_container(cfg, resolve=True), "", flat)
    return flat


def highlighted_keys(flat: dict[str, Any]) -> set[str]:
    """The keys TensorBoard should list first: a sweep's swept keys, else those set on the command line.

    Swept keys are the sweeper's ``params`` and, for Hydra's basic sweeper, the comma lists and ranges
    of the command line (read back from the sweep's ``multirun.yaml``).
    """
    if not HydraConfig.initialized():
        return set()
    hydra_cfg = HydraConfig.get()
    given = [o.split("=", 1)[0].lstrip("+~").split("@", 1)[0] for o in hydra_cfg.overrides.task]
    swept = []
    if hydra_cfg.mode == RunMode.MULTIRUN:
        swept = list((hydra_cfg.sweeper.get("params") or {}).keys()) + _swept_on_command_line(hydra_cfg)
    keys = set()
    for key in swept or given:
        parents = [key.rsplit(".", n)[0] for n in range(key.count(".") + 1)]  # betas.0 -> betas
        found = [k for k in parents if k in flat][:1] or [k for k in flat if k.startswith(key + ".")]
        keys.update(found)
    return keys


def _swept_on_command_line(hydra_cfg: DictConfig) -> list[str]:
    sweep_config = Path(hydra_cfg.sweep.dir) / "multirun.yaml"
    try:
        task = OmegaConf.load(sweep_config).hydra.overrides.task
        overrides = OverridesParser.create().parse_overrides(list(task))
    except Exception:  # no multirun.yaml (other sweepers), or one this Hydra cannot read: no highlight
        return []
    return [o.key_or_group for o in overrides if o.is_sweep_override()]


def metric_names(*evaluations: MetricEvaluation | None) -> list[str]:
    """The summary metrics a run reports, most useful first (TensorBoard shows the first five): the
    best and final value of each metric of the run's metric callbacks (GANMetrics: ``hp/fid_best``, ...;
    TranslationMetrics: ``hp/fid_a2b_best``, ..., pix2pix ``hp/l1_best``, ...), then the final losses."""
    names = [
        f"hp/{name}_{kind}"
        for evaluation in evaluations
        if evaluation is not None
        for name in evaluation.scalar_names()
        for kind in ("best", "final")
    ]
    return list(dict.fromkeys(names)) + list(LOSSES.values())


class HParamsSummary(pl.Callback):
    """Write the hparams records at train start and the final summary metrics at the end.

    Args:
        hparams: the flat hyperparameters (:func:`flat_hparams`).
        highlighted: keys TensorBoard lists first (marked ``differs``; :func:`highlighted_keys`).
    """

    def __init__(self, hparams: dict[str, Any], highlighted: set[str] | None = None) -> None:
        self.hparams = hparams
        self.highlighted = highlighted or set()
        self.values: dict[str, float] = {}

    @classmethod
    def from_config(cls, cfg: DictConfig) -> HParamsSummary:
        hparams = flat_hparams(cfg)
        return cls(hparams, highlighted_keys(hparams))

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not trainer.is_global_zero:
            return
        metrics = metric_names(*_evaluations(trainer))
        for writer in _tensorboard_writers(trainer):
            for summary in _hparams_summaries(self.hparams, metrics, self.highlighted):
                writer.add_summary(summary)
            writer.flush()

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        values = {k: v for evaluation in _evaluations(trainer) for k, v in evaluation.summary().items()}
        for loss, name in LOSSES.items():
            if loss in trainer.callback_metrics:
                values[name] = float(trainer.callback_metrics[loss])
        self.values = values
        # Put them where the caller of fit() finds them (also after ddp_spawn, which sends them back).
        trainer.callback_metrics.update({k: torch.tensor(v) for k, v in values.items()})
        if trainer.is_global_zero:
            hp = {k: v for k, v in values.items() if k.startswith("hp/")}
            for logger in trainer.loggers:
                logger.log_metrics(hp, step=pl_module.steps_done)
            self._end(trainer, success=True)

    def on_exception(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException
    ) -> None:
        if trainer.is_global_zero:
            self._end(trainer, success=False)

    def _end(self, trainer: pl.Trainer, success: bool) -> None:
        from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2

        status = api_pb2.Status.STATUS_SUCCESS if success else api_pb2.Status.STATUS_FAILURE
        end = plugin_data_pb2.SessionEndInfo(status=status, end_time_secs=time.time())
        for writer in _tensorboard_writers(trainer):
            writer.add_summary(_summary(metadata.SESSION_END_INFO_TAG, session_end_info=end))
            writer.flush()


def _evaluations(trainer: pl.Trainer) -> list[MetricEvaluation]:
    """The run's metric callbacks (GANMetrics or TranslationMetrics)."""
    return [c for c in trainer.callbacks if isinstance(c, MetricEvaluation)]


def _tensorboard_writers(trainer: pl.Trainer) -> list[Any]:
    return [
        logger.experiment._get_file_writer()
        for logger in trainer.loggers
        if isinstance(logger, TensorBoardLogger)
    ]


def _excluded(key: str) -> bool:
    return any(key == e or key.startswith(e + ".") for e in NOT_HYPERPARAMETERS)


def _flatten(node: Any, prefix: str, out: dict[str, Any]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            name = f"{prefix}{key}"
            if not str(key).startswith("_") and not _excluded(name):
                _flatten(value, name + ".", out)
        return
    key = prefix[:-1]
    if node is None:
        out[key] = "null"
    elif isinstance(node, (bool, int, str)) or (isinstance(node, float) and math.isfinite(node)):
        out[key] = node
    else:  # lists, tuples, inf, nan
        out[key] = json.dumps(node, default=str)


def _hparams_summaries(hparams: dict[str, Any], metrics: list[str], differs: set[str]) -> list[Any]:
    """The hparams plugin's experiment and session-start records (what ``torch.utils.tensorboard``'s
    ``hparams()`` writes, with booleans kept as booleans and the command-line keys marked)."""
    from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2

    start = plugin_data_pb2.SessionStartInfo(start_time_secs=time.time())
    infos = []
    for name, value in sorted(hparams.items(), key=lambda item: (item[0] not in differs, item[0])):
        if isinstance(value, bool):
            start.hparams[name].bool_value = value
            kind = api_pb2.DATA_TYPE_BOOL
        elif isinstance(value, (int, float)):
            start.hparams[name].number_value = value
            kind = api_pb2.DATA_TYPE_FLOAT64
        else:
            start.hparams[name].string_value = value
            kind = api_pb2.DATA_TYPE_STRING
        infos.append(api_pb2.HParamInfo(name=name, type=kind, differs=name in differs))
    experiment = api_pb2.Experiment(
        hparam_infos=infos,
        metric_infos=[api_pb2.MetricInfo(name=api_pb2.MetricName(tag=tag)) for tag in metrics],
    )
    return [
        _summary(metadata.EXPERIMENT_TAG, experiment=experiment),
        _summary(metadata.SESSION_START_INFO_TAG, session_start_info=start),
    ]


def _summary(tag: str, **content: Any) -> Any:
    from tensorboard.compat.proto.summary_pb2 import Summary
    from tensorboard.plugins.hparams import metadata, plugin_data_pb2

    smd = metadata.create_summary_metadata(plugin_data_pb2.HParamsPluginData(**content))
    return Summary(value=[Summary.Value(tag=tag, metadata=smd, tensor=metadata.NULL_TENSOR)])
