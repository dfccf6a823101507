"""Translate generator steps (what users count) into Lightning's optimizer steps.

Under manual optimization Lightning's ``trainer.global_step`` grows by one per ``optimizer.step()``
call: ``n_critic + 1`` per batch for a GAN. Users set ``trainer.max_steps`` and checkpoint periods in
generator steps (batches); these helpers convert them.
"""

from __future__ import annotations

from omegaconf import DictConfig, OmegaConf


def optimizer_steps_per_batch(cfg: DictConfig) -> int:
    """``model.n_critic + 1`` (1 discriminator step by default)."""
    return int(OmegaConf.select(cfg, "model.n_critic", default=1)) + 1


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
