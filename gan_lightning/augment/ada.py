"""ADA: Karras et al. (2020), "Training Generative Adversarial Networks with Limited Data".

Every op is applied to each image independently with probability p. p is tuned during training from
the overfitting heuristic r_t = E[sign D(x_real)]: every ``interval`` steps it moves by
``images * interval / (speed_kimg * 1000)`` up when r_t > target (D is too sure of the real
images) and down otherwise, so it can cross [0, 1] in ``speed_kimg`` thousand images.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from gan_lightning.augment import ops
from gan_lightning.augment.diffaugment import parse_names
from gan_lightning.errors import ConfigError

OPS = ("xflip", "rotate90", "translation", "brightness", "contrast", "saturation")
TRANSLATION_FRACTION = 1 / 8
BRIGHTNESS_STD = 0.2
CONTRAST_STD = 0.5 * math.log(2)  # of log(factor)
SATURATION_STD = math.log(2)  # of log(factor)
_STATE = ("p", "sign_sum", "sign_count", "r_t")  # float32 whatever the module's dtype


class AdaptiveAugment(nn.Module):
    """Adaptive augmentation of images (N, C, H, W) in [-1, 1]; the shape is kept.

    Ops, in the order given, each applied per sample with probability p (one ``torch.where`` on the
    batch, so the result is differentiable with respect to the images):

    - ``xflip``: horizontal flip.  ``rotate90``: by k * 90 degrees, k uniform in {1, 2, 3} (square
      images only; skipped otherwise).  ``translation``: an integer shift of up to 1/8 of each side,
      reflect padding.
    - ``brightness``: + b, b ~ N(0, 0.2^2).  ``contrast``: the deviation from the image mean times
      exp(N(0, (0.5 ln 2)^2)).  ``saturation``: the deviation from the per-pixel channel mean (the
      luma axis) times exp(N(0, (ln 2)^2)); skipped for one channel.

    Buffers (saved in checkpoints, so a resumed run continues exactly): ``p``, the accumulators
    ``sign_sum`` / ``sign_count``, ``steps_since_update`` and the last ``r_t`` (for logging).

    Args:
        target: the r_t that p steers to, in (0, 1) (0.6 in the paper).
        interval: p is adjusted every this many :meth:`update` calls (training steps).
        speed_kimg: p moves by at most 1 per this many thousand images (500 in the paper).
        p_init: the initial probability, in [0, 1].
        ops: the ops to use, a sequence or ``"a,b"`` string.
    """

    def __init__(
        self,
        target: float = 0.6,
        interval: int = 4,
        speed_kimg: float = 500.0,
        p_init: float = 0.0,
        ops: Sequence[str] | str = OPS,
    ) -> None:
        super().__init__()
        _check(target, interval, speed_kimg, p_init)
        self.target = float(target)
        self.interval = int(interval)
        self.speed_kimg = float(speed_kimg)
        self.ops = parse_names(ops, OPS, "augment.ops")
        self.register_buffer("p", torch.tensor(float(p_init)))
        self.register_buffer("sign_sum", torch.tensor(0.0))
        self.register_buffer("sign_count", torch.tensor(0.0))
        self.register_buffer("steps_since_update", torch.tensor(0, dtype=torch.long))
        self.register_buffer("r_t", torch.tensor(0.0))
        self._steps_since_update = 0  # host mirror of the buffer: the step never reads the device

    def extra_repr(self) -> str:
        return (
            f"target={self.target}, interval={self.interval}, speed_kimg={self.speed_kimg}, "
            f"ops={','.join(self.ops)}"
        )

    def _apply(self, fn: Callable[[Tensor], Tensor], *args: Any, **kwargs: Any) -> AdaptiveAugment:
        """Keep p and the statistics in float32 under ``.half()`` / ``.to(bfloat16)``: p moves by
        ~1e-4 per update, below half precision's resolution."""
        super()._apply(fn, *args, **kwargs)
        for name in _STATE:
            buffer = self._buffers[name]
            if buffer is not None and buffer.dtype != torch.float32:
                self._buffers[name] = buffer.float()
        return self

    # --- the augmentation -------------------------------------------------------------------------

    def forward(self, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Augment ``x`` (N, C, H, W) with probability p per op and sample (p = 0: the values of ``x``).
        All random numbers come from ``generator``; p stays on the device (it is never read on the
        host, so the draws are the same whatever p is, as in the reference)."""
        for name in self.ops:
            x = _OPS[name](x, self.p, generator)
        return x

    # --- the feedback loop ------------------------------------------------------------------------

    def accumulate(self, real_logits: Tensor) -> None:
        """Add sum(sign(D(x_real))) and the number of logits to the accumulators."""
        logits = real_logits.detach().float()
        self.sign_sum += torch.sign(logits).sum()
        self.sign_count += logits.numel()

    def update(
        self,
        images_per_step: int,
        reduce: Callable[[Tensor], Tensor] | None = None,
        images_in_interval: int | None = None,
    ) -> bool:
        """Call once per training step. Every ``interval`` calls: r_t = sign_sum / sign_count, then
        p += sign(r_t - target) * images_per_step * interval / (speed_kimg * 1000), clamped to
        [0, 1], and the accumulators are reset. Computed on the device (nothing is read on the host);
        with nothing accumulated, p and r_t stay as they were.

        Args:
            images_per_step: real images per step over all processes (batch size x world size).
            reduce: sums a tensor over processes (DDP); it is applied to the stacked
                [sign_sum, sign_count] on every process at the same steps, so all processes reach
                the same p.
            images_in_interval: the real images of the last ``interval`` steps (all processes), when
                the batch size changes in training (progressive growing); it replaces
                ``images_per_step * interval``.

        Returns:
            True at the steps where p is adjusted (every ``interval`` calls).
        """
        self._steps_since_update += 1
        self.steps_since_update.fill_(self._steps_since_update % self.interval)
        if self._steps_since_update < self.interval:
            return False
        self._steps_since_update = 0
        stats = torch.stack([self.sign_sum, self.sign_count])
        if reduce is not None:
            stats = reduce(stats)
        self.sign_sum.zero_()
        self.sign_count.zero_()
        sign_sum, count = stats.to(self.p.device, torch.float32).unbind()
        seen = count > 0
        self.r_t.copy_(torch.where(seen, sign_sum / count.clamp(min=1.0), self.r_t))
        images = images_per_step * self.interval if images_in_interval is None else images_in_interval
        step = images / (self.speed_kimg * 1000.0)
        adjusted = (self.p + torch.sign(self.r_t - self.target) * step).clamp(0.0, 1.0)
        self.p.copy_(torch.where(seen, adjusted, self.p))
        return True

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args: Any) -> None:
        super()._load_from_state_dict(state_dict, prefix, *args)
        self._steps_since_update = int(self.steps_since_update)  # at load time only


def _check(target: float, interval: int, speed_kimg: float, p_init: float) -> None:
    if not 0.0 < target < 1.0:
        raise ConfigError(f"augment.target must be in (0, 1) (0.6 in the ADA paper), got {target}.")
    if isinstance(interval, bool) or int(interval) != interval or interval < 1:
        raise ConfigError(f"augment.interval must be an integer >= 1 (training steps), got {interval}.")
    if not speed_kimg > 0:
        raise ConfigError(
            f"augment.speed_kimg must be > 0 (thousands of images; 500 in ADA), got {speed_kimg}."
        )
    if not 0.0 <= p_init <= 1.0:
        raise ConfigError(f"augment.p_init must be in [0, 1], got {p_init}.")


# --- the ops: (x, p, generator) -> x ------------------------------------------------------------------


def _where(mask: Tensor, changed: Tensor, x: Tensor) -> Tensor:
    """Per sample: ``changed`` where ``mask`` (N,) is True, ``x`` elsewhere."""
    return torch.where(mask.view(-1, 1, 1, 1), changed, x)


def xflip(x: Tensor, p: Tensor | float, generator: torch.Generator | None = None) -> Tensor:
    """Mirror left-right with probability p."""
    mask = ops.bernoulli(x.size(0), p, x.device, generator)
    return _where(mask, x.flip(3), x)


def rotate90(x: Tensor, p: Tensor | float, generator: torch.Generator | None = None) -> Tensor:
    """Rotate by k * 90 degrees, k uniform in {1, 2, 3}, with probability p (square images only)."""
    if x.size(2) != x.size(3):
        return x
    n = x.size(0)
    mask = ops.bernoulli(n, p, x.device, generator)
    k = ops.integers(n, 1, 3, x.device, generator).view(-1, 1, 1, 1)
    rotated = torch.where(k == 1, x.rot90(1, (2, 3)), x.rot90(2, (2, 3)))
    rotated = torch.where(k == 3, x.rot90(3, (2, 3)), rotated)
    return _where(mask, rotated, x)


def translation(x: Tensor, p: Tensor | float, generator: torch.Generator | None = None) -> Tensor:
    """With probability p, an integer shift in [-s, s] per axis, s = round(side / 8), reflect padding."""
    n, _, h, w = x.shape
    mask = ops.bernoulli(n, p, x.device, generator)
    sy, sx = ops.max_shift(h, TRANSLATION_FRACTION), ops.max_shift(w, TRANSLATION_FRACTION)
    shift_y = ops.integers(n, -sy, sy, x.device, generator)
    shift_x = ops.integers(n, -sx, sx, x.device, generator)
    return _where(mask, ops.translate(x, shift_y, shift_x, padding="reflect"), x)


def brightness(x: Tensor, p: Tensor | float, generator: torch.Generator | None = None) -> Tensor:
    """With probability p, add b ~ N(0, 0.2^2) to every pixel."""
    mask = ops.bernoulli(x.size(0), p, x.device, generator)
    return _where(mask, x + ops.normal(x.size(0), BRIGHTNESS_STD, x, generator), x)


def contrast(x: Tensor, p: Tensor | float, generator: torch.Generator | None = None) -> Tensor:
    """With probability p, scale the deviation from the image mean by exp(N(0, (0.5 ln 2)^2))."""
    mask = ops.bernoulli(x.size(0), p, x.device, generator)
    factor = ops.normal(x.size(0), CONTRAST_STD, x, generator).exp()
    return _where(mask, ops.scale_around(x, x.mean(dim=(1, 2, 3), keepdim=True), factor), x)


def saturation(x: Tensor, p: Tensor | float, generator: torch.Generator | None = None) -> Tensor:
    """With probability p, scale the deviation from the channel mean by exp(N(0, (ln 2)^2)); C > 1."""
    if x.size(1) == 1:
        return x
    mask = ops.bernoulli(x.size(0), p, x.device, generator)
    factor = ops.normal(x.size(0), SATURATION_STD, x, generator).exp()
    return _where(mask, ops.scale_around(x, x.mean(dim=1, keepdim=True), factor), x)


_OPS = {
    "xflip": xflip,
    "rotate90": rotate90,
    "translation": translation,
    "brightness": brightness,
    "contrast": contrast,
    "saturation": saturation,
}
