"""Learning-rate schedules torch lacks, as picklable factors for ``torch.optim.lr_scheduler.LambdaLR``.

Schedulers are stepped once per generator step (:class:`~gan_lightning.core.AdversarialModule`), so
every length here counts generator steps.
"""

from __future__ import annotations

from gan_lightning.errors import ConfigError


class ConstantThenLinear:
    """Factor 1 for the first ``1 - decay_fraction`` of ``total_steps``, then linearly down to 0 at
    ``total_steps``: CycleGAN's schedule (Zhu et al. 2017: 100 epochs at the initial rate, then 100
    epochs of linear decay, i.e. ``decay_fraction=0.5``).

    The reference decays once per epoch and ends one epoch short of zero; here the factor moves every
    step and reaches 0 at the last step.
    """

    def __init__(self, total_steps: int, decay_fraction: float = 0.5) -> None:
        if total_steps is None or total_steps < 1:
            raise ConfigError(
                "scheduler=constant_then_linear decays to zero at the end of the run: set "
                f"trainer.max_steps=N (generator steps); got {total_steps}."
            )
        if not 0.0 <= decay_fraction <= 1.0:
            raise ConfigError(f"scheduler.lr_lambda.decay_fraction must be in [0, 1], got {decay_fraction}.")
        self.total_steps = int(total_steps)
        self.decay_steps = round(decay_fraction * self.total_steps)

    @property
    def decay_start(self) -> int:
        """The first generator step at which the factor is below 1."""
        return self.total_steps - self.decay_steps

    def __call__(self, step: int) -> float:
        if step < self.decay_start:
            return 1.0
        return max(0.0, 1.0 - (step - self.decay_start) / max(1, self.decay_steps))
