"""``python -m gan_lightning``: train one GAN (or, with ``-m``, a sweep of them) from a Hydra config."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import hydra
import pytorch_lightning as pl
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from pytorch_lightning.callbacks import ProgressBar

from gan_lightning.callbacks.hparams import HParamsSummary
from gan_lightning.callbacks.metrics import GANMetrics
from gan_lightning.checkpoints import check_resumable
from gan_lightning.config import as_plain, build, build_model, check_model_data, check_run
from gan_lightning.devices import configure_cuda
from gan_lightning.errors import exit_on_user_error
from gan_lightning.metrics.classifier_training import ensure_feature_net
from gan_lightning.steps import register_resolvers
from gan_lightning.sweeps import optimized_value, report_failed_job

log = logging.getLogger(__name__)
# GAN checkpoints hold the state after each generator step, by design.
warnings.filterwarnings("ignore", message="Using ModelCheckpoint with manual optimization")
# The datamodules resume their order themselves (batches_seen in their state_dict), mid-epoch included.
warnings.filterwarnings("ignore", message="You.re resuming from a checkpoint that ended before the epoch")


def train(cfg: DictConfig, output_dir: Path) -> dict[str, float]:
    """Build data, model, callbacks, loggers and trainer from ``cfg``; fit; return the final metrics
    (the last logged values, ``val/*`` of the last evaluation, and the ``hp/*`` summary)."""
    check_run(cfg, output_dir)
    configure_cuda(**(cfg.get("cuda") or {}))
    if cfg.seed is not None:
        pl.seed_everything(cfg.seed, workers=True)

    datamodule = build(cfg.data)
    check_model_data(cfg.model, datamodule)
    datamodule.prepare_data()
    datamodule.setup("fit")
    model = build_model(cfg, datamodule)
    if cfg.ckpt_path:
        check_resumable(model, cfg.ckpt_path)
    if cfg.init_from:
        networks = cfg.get("init_networks")
        model.load_network_weights(cfg.init_from, list(networks) if networks is not None else None)
        log.info("Initialised %s from %s", ", ".join(networks or model.network_names), cfg.init_from)

    callbacks = [instantiate(node) for node in (cfg.get("callbacks") or {}).values()]
    if not cfg.trainer.get("enable_progress_bar", True):  # the flag alone turns the bar off
        callbacks = [cb for cb in callbacks if not isinstance(cb, ProgressBar)]
    if cfg.get("metrics") and cfg.metrics.get("_target_"):  # metrics=none leaves an experiment's keys
        callbacks.append(instantiate(cfg.metrics))
    for callback in callbacks:  # a metric the model cannot have (ppl without W) fails before any work
        if isinstance(callback, GANMetrics):
            callback.check_model(model, datamodule)
    metrics = cfg.get("metrics") or {}
    if metrics.get("train_classifier") and metrics.get("extractor") in ("auto", "classifier"):
        ensure_feature_net(as_plain(cfg.data), cfg.trainer.accelerator)  # the first run measures itself
    callbacks.append(HParamsSummary.from_config(cfg))  # TensorBoard's HPARAMS view; final hp/* metrics
    loggers = [instantiate(node) for node in (cfg.get("logger") or {}).values()]
    trainer: pl.Trainer = instantiate(
        cfg.trainer,
        max_steps=model.optimizer_steps_for(cfg.trainer.max_steps),  # the user counts generator steps
        callbacks=callbacks,
        logger=loggers or False,
    )
    for logger in trainer.loggers:
        logger.log_hyperparams(OmegaConf.to_container(cfg, resolve=True))

    log.info("Run directory: %s", output_dir)
    trainer.fit(model, datamodule=datamodule, ckpt_path=cfg.ckpt_path)
    return {k: float(v) for k, v in trainer.callback_metrics.items()}


@hydra.main(version_base="1.3", config_path="conf", config_name="train")
def main(cfg: DictConfig) -> float | None:
    """Hydra entry point; returns the metric named by ``optimized_metric`` (for sweepers such as Optuna).

    A single run prints user errors as one clear message (exit code 2). In a sweep (``-m``) a job that
    fails is reported (train.log, a FAILED file in its run directory) and returns None, and the sweep
    goes on; its end lists the failed jobs and exits with code 1 (``gan_lightning.sweeps``).
    """
    output_dir = Path(HydraConfig.get().runtime.output_dir)
    if HydraConfig.get().mode == RunMode.MULTIRUN:
        try:
            return optimized_value(train(cfg, output_dir), cfg.get("optimized_metric"))
        except Exception as err:
            report_failed_job(err, output_dir)
            return None
    metrics = exit_on_user_error(train, cfg, output_dir)
    return optimized_value(metrics, cfg.get("optimized_metric"))


register_resolvers()

if __name__ == "__main__":
    main()
