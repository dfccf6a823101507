"""``${optimizer_steps:N}``: N generator steps (what users count) as Lightning optimizer steps, in configs.

Under manual optimization Lightning's ``trainer.global_step`` grows by one per ``optimizer.step()``
call. Every period of gan-lightning counts generator steps already (``trainer.max_steps``,
``callbacks.periodic_checkpoint.every_n_steps``, ``metrics.every_n_steps``); this resolver is for
Lightning's own options that count optimizer steps, such as ``every_n_train_steps``. It is exact when
every phase runs at every generator step (``n_critic`` discriminator steps and one generator step);
with lazy regularizers (R1 every k steps, path length) an optimizer-step period cannot be a fixed number
of generator steps, and the resolver says so.
"""

from __future__ import annotations

from omegaconf import DictConfig, OmegaConf

from gan_lightning.errors import ConfigError


def optimizer_steps_per_batch(cfg: DictConfig) -> int:
    """Optimizer steps per generator step of the composed config: ``n_critic + 1``, or an error when a
    lazy regularizer makes the number vary from step to step."""
    model = cfg.get("model") or {}
    lazy_r1 = model.get("r1_gamma", 0) > 0 and model.get("r1_every", 1) > 1
    if lazy_r1 or model.get("pl_weight", 0) > 0:
        raise ConfigError(
            "${optimizer_steps:N}: this model has lazy regularizers (model.r1_every > 1 with r1_gamma, or "
            "model.pl_weight), so its optimizer steps per generator step vary. Give periods in generator "
            "steps instead, e.g. callbacks.periodic_checkpoint.every_n_steps=N."
        )
    return int(model.get("n_critic", 1)) + 1


def to_optimizer_steps(generator_steps: int, steps_per_batch: int) -> int:
    """Generator steps -> Lightning optimizer steps; -1 (no limit) stays -1."""
    return generator_steps if generator_steps < 0 else generator_steps * steps_per_batch


def register_resolvers() -> None:
    """Register ``${optimizer_steps:N}`` for configs (N generator steps -> optimizer steps)."""
    if not OmegaConf.has_resolver("optimizer_steps"):
        OmegaConf.register_new_resolver(
            "optimizer_steps",
            lambda n, *, _root_: to_optimizer_steps(int(n), optimizer_steps_per_batch(_root_)),
        )
