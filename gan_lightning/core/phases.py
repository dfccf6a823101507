"""Training phases: one optimizer update of the training step, described as data.

A family's training step is a list of phases (StyleGAN2-ADA's ``Gmain``, ``Greg``, ``Dmain``,
``Dreg``). Each phase names the optimizer group it updates, the function that computes its loss, how
often it runs (``every`` generator steps: lazy regularization) and how many times in a row
(``repeats``: the critic's ``n_critic``). :class:`~gan_lightning.core.module.AdversarialModule`
runs them; the zero_grad / backward / step mechanics are written once there.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from torch import Generator, Tensor

# (batch, the step's random-number generator) -> (loss to minimise, values to log)
PhaseLoss = Callable[[tuple[Tensor, ...], Generator], tuple[Tensor, dict[str, Tensor]]]


@dataclass(frozen=True)
class Phase:
    """One optimizer update.

    Attributes:
        name: what the phase is, e.g. ``discriminator``, ``generator``, ``r1``, ``path_length``.
        group: the optimizer group it updates (``generator`` or ``discriminator``).
        loss: computes the phase's loss and the values it logs.
        log_name: the name its loss is logged under (e.g. ``train/d_loss``).
        every: runs at generator steps ``s`` with ``s % every == 0`` (1: every step).
        repeats: updates in a row each time it runs (``n_critic`` for the discriminator).
    """

    name: str
    group: str
    loss: PhaseLoss
    log_name: str
    every: int = 1
    repeats: int = 1

    def runs_at(self, generator_step: int) -> bool:
        return generator_step % self.every == 0

    def optimizer_steps(self, generator_steps: int) -> int:
        """Optimizer steps this phase takes in the first ``generator_steps`` generator steps."""
        return self.repeats * math.ceil(generator_steps / self.every)


def optimizer_steps_for(phases: list[Phase], generator_steps: int) -> int:
    """Lightning's ``global_step`` after ``generator_steps`` batches (-1, no limit, stays -1)."""
    if generator_steps < 0:
        return -1
    return sum(phase.optimizer_steps(generator_steps) for phase in phases)


def lazy_interval(phases: list[Phase], group: str) -> int | None:
    """The interval of ``group``'s lazy phase (its regularizer every N generator steps), or None."""
    intervals = {phase.every for phase in phases if phase.group == group and phase.every > 1}
    if len(intervals) > 1:
        raise ValueError(f"The {group} group has lazy phases at several intervals {sorted(intervals)}.")
    return intervals.pop() if intervals else None


def lazy_optimizer_options(options: dict[str, Any], lr: float, interval: int) -> tuple[dict[str, Any], float]:
    """Adam's hyperparameters for a group regularized every ``interval`` steps (Karras et al. 2020,
    StyleGAN2's ``mb_ratio``): the group takes ``interval + 1`` optimizer steps where it would take
    ``interval``, so the learning rate is scaled by ``c = interval / (interval + 1)`` and each beta is
    raised to the power ``c`` (the moments keep their decay per generator step). Options without betas
    (SGD, RMSprop) get only the learning rate scaled."""
    ratio = interval / (interval + 1)
    scaled = dict(options)
    if "betas" in scaled:
        scaled["betas"] = [float(beta) ** ratio for beta in scaled["betas"]]
    return scaled, lr * ratio
