"""ADA: Karras et al. (2020), "Training Generative Adversarial Networks with Limited Data".

Every op is applied to each image independently with probability p (times the op's multiplier). p is
tuned during training from the overfitting heuristic r_t = E[sign D(x_real)]: every ``interval`` steps
it moves by ``images * interval / (speed_kimg * 1000)`` up when r_t > target (D is too sure of the
real images) and down otherwise, so it can cross [0, 1] in ``speed_kimg`` thousand images.

The ops are the ``bgc`` pipeline of NVlabs' stylegan2-ada-pytorch (``training/augment.py``,
``AugmentPipe``), in its order: pixel blitting (``xflip``, ``rotate90``, ``translation`` = the
reference's ``xint``), general geometry (``scale``, ``rotate``, ``aniso``, ``xfrac``) and colour
(``brightness``, ``contrast``, ``lumaflip``, ``hue``, ``saturation``); ``multipliers`` are the
reference's per-op probability multipliers. Where this differs from the reference:

- Geometry. Consecutive general geometric ops are composed into one inverse affine matrix per image
  and resampled once, as the reference does, but with bilinear ``grid_sample`` whose reflection
  mirrors about the edge pixels (the reference's ``reflect`` padding, with no black borders), not the
  reference's explicit padding (its margin is read back on the host: a device sync) and 2x upsampling
  with a sym6 wavelet filter around the resampling. Bilinear interpolation is not anti-aliased: it
  softens the images a little where a transform is applied. An image none of whose geometric ops
  fired is returned exactly (``torch.where``), not resampled through the identity.
- Pixel blitting stays exact: ``xflip``, ``rotate90`` and ``translation`` are gathers applied one by
  one, not folded into the matrix. ``xflip`` flips every image it selects and ``rotate90`` turns by
  k * 90 degrees, k in {1, 2, 3}, where the reference draws a flip in {0, 1} / k in {0, 1, 2, 3} for
  the selected images (so it flips with probability p / 2 and rotates with 3 p / 4). ``translation``
  draws an integer shift uniform in [-round(side / 8), round(side / 8)].
- ``rotate`` is two rotations by angles uniform in [-pi, pi), each with probability
  p_rot = 1 - sqrt(1 - m p), so that one at least happens with probability m p, as in the reference:
  the first at its place in the op list, the second after ``aniso`` when ``aniso`` follows in the same
  run of geometric ops (the default order, as the reference), else right after the first.
- Colour ops are applied one after another (each exact per image), not composed into one 4x4 colour
  matrix. ``contrast`` scales about the image mean (the reference: about 0, mid-grey). ``lumaflip``
  flips every image it selects (the reference: half of them, probability p / 2); with one channel it
  negates the image, as the reference's grey reduction does. ``hue`` needs 3 channels (skipped
  otherwise; the reference skips one channel), ``saturation`` 2 or more.
- Random numbers: each op draws its selection mask first, then its parameters, all from the
  ``generator`` given (the reference: parameters first, torch's global generator). The draws do not
  depend on p, which is never read on the host. An op whose multiplier is 0 draws nothing, as in the
  reference. The reference's ``imgfilter``, ``noise`` and ``cutout`` (``bgcfnc``) are not here.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from gan_lightning.augment import matrices, ops
from gan_lightning.augment.diffaugment import parse_names
from gan_lightning.errors import ConfigError

#: The reference's bgc pipeline, in its order.
OPS = (
    "xflip",
    "rotate90",
    "translation",
    "scale",
    "rotate",
    "aniso",
    "xfrac",
    "brightness",
    "contrast",
    "lumaflip",
    "hue",
    "saturation",
)
#: Composed into one affine matrix per run of consecutive ops.
GEOMETRIC = ("scale", "rotate", "aniso", "xfrac")
TRANSLATION_FRACTION = 1 / 8
SCALE_STD = 0.2 * math.log(2)  # of log(factor), isotropic
ANISO_STD = 0.2 * math.log(2)  # of log(factor), x by the factor and y by its inverse
XFRAC_STD = 0.125  # of the shift, as a fraction of the side
BRIGHTNESS_STD = 0.2
CONTRAST_STD = 0.5 * math.log(2)  # of log(factor)
SATURATION_STD = math.log(2)  # of log(factor)
_STATE = ("p", "sign_sum", "sign_count", "r_t")  # float32 whatever the module's dtype


class AdaptiveAugment(nn.Module):
    """Adaptive augmentation of images (N, C, H, W) in [-1, 1]; the shape is kept.

    Ops, in the order given, each applied per sample with probability m p, m its multiplier (masks
    on the batch, so the result is differentiable with respect to the images, twice for R1):

    - ``xflip``: horizontal flip.  ``rotate90``: by k * 90 degrees, k uniform in {1, 2, 3} (square
      images only; skipped otherwise).  ``translation``: an integer shift of up to 1/8 of each side,
      reflect padding (the reference's ``xint``).
    - ``scale``: isotropic, by exp(N(0, (0.2 ln 2)^2)).  ``rotate``: by an angle uniform in
      [-pi, pi), twice, each time with probability 1 - sqrt(1 - m p) (see the module docstring).
      ``aniso``: x by exp(N(0, (0.2 ln 2)^2)) and y by its inverse.  ``xfrac``: a shift by
      N(0, 0.125^2) of each side.  Consecutive ones are one affine transform, resampled once
      (bilinear, mirrored about the edge pixels).
    - ``brightness``: + b, b ~ N(0, 0.2^2).  ``contrast``: the deviation from the image mean times
      exp(N(0, (0.5 ln 2)^2)).  ``lumaflip``: each pixel's colour reflected about the plane
      orthogonal to the luma axis (the luma negated, the chroma kept).  ``hue``: the colour rotated
      about the luma axis by an angle uniform in [-pi, pi) (3 channels only; skipped otherwise).
      ``saturation``: the deviation from the per-pixel channel mean (the luma axis) times
      exp(N(0, (ln 2)^2)); skipped for one channel.

    Buffers (saved in checkpoints, so a resumed run continues exactly): ``p``, the accumulators
    ``sign_sum`` / ``sign_count``, ``steps_since_update`` and the last ``r_t`` (for logging).

    Args:
        target: the r_t that p steers to, in (0, 1) (0.6 in the paper).
        interval: p is adjusted every this many :meth:`update` calls (training steps).
        speed_kimg: p moves by at most 1 per this many thousand images (500 in the paper).
        p_init: the initial probability, in [0, 1].
        ops: the ops to use, some of :data:`OPS`, as a sequence or ``"a,b"`` string (all by default).
        multipliers: op name -> probability multiplier m >= 0 (the reference's ``xflip=1, ...``):
            the op is applied with probability m p (m p >= 1: always); 0 turns it off. Ops left out
            have 1; a multiplier of an op not in ``ops`` has no effect.
    """

    def __init__(
        self,
        target: float = 0.6,
        interval: int = 4,
        speed_kimg: float = 500.0,
        p_init: float = 0.0,
        ops: Sequence[str] | str = OPS,
        multipliers: Mapping[str, float] | None = None,
    ) -> None:
        super().__init__()
        _check(target, interval, speed_kimg, p_init)
        self.target = float(target)
        self.interval = int(interval)
        self.speed_kimg = float(speed_kimg)
        self.ops = parse_names(_no_xint(ops, "augment.ops"), OPS, "augment.ops")
        self.multipliers = {name: 1.0 for name in OPS} | _check_multipliers(multipliers)
        self._stages = _stages([name for name in self.ops if self.multipliers[name] > 0])
        self.register_buffer("p", torch.tensor(float(p_init)))
        self.register_buffer("sign_sum", torch.tensor(0.0))
        self.register_buffer("sign_count", torch.tensor(0.0))
        self.register_buffer("steps_since_update", torch.tensor(0, dtype=torch.long))
        self.register_buffer("r_t", torch.tensor(0.0))
        self._steps_since_update = 0  # host mirror of the buffer: the step never reads the device

    def extra_repr(self) -> str:
        changed = {name: m for name, m in self.multipliers.items() if m != 1.0 and name in self.ops}
        return (
            f"target={self.target}, interval={self.interval}, speed_kimg={self.speed_kimg}, "
            f"ops={','.join(self.ops)}" + (f", multipliers={changed}" if changed else "")
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
        """Augment ``x`` (N, C, H, W) with probability m p per op and sample (p = 0: the values of
        ``x``). All random numbers come from ``generator``; p stays on the device (it is never read on
        the host, so the draws are the same whatever p is, as in the reference)."""
        for stage in self._stages:
            if isinstance(stage, str):
                x = _OPS[stage](x, self._probability(stage), generator)
            else:
                probabilities = {name: self._probability(name) for name in set(stage)}
                x = geometric(x, stage, probabilities, generator)
        return x

    def _probability(self, name: str) -> Tensor:
        """m p for the op ``name``: p itself (the same tensor) when m = 1."""
        multiplier = self.multipliers[name]
        return self.p if multiplier == 1.0 else self.p * multiplier

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


def _no_xint(names: Sequence[str] | str, key: str) -> Sequence[str] | str:
    """Point a user of the reference to its integer translation's name here."""
    items = names.split(",") if isinstance(names, str) else list(names)
    if any(str(item).strip() == "xint" for item in items):
        raise ConfigError(
            f"{key}: the reference's xint (integer translation) is called translation here; "
            "write translation instead of xint."
        )
    return names


def _check_multipliers(multipliers: Mapping[str, float] | None) -> dict[str, float]:
    """The multipliers given, as floats; ConfigError for an unknown op or a value that is not >= 0."""
    if multipliers is None:
        return {}
    if not isinstance(multipliers, Mapping):
        raise ConfigError(
            "augment.multipliers must map op names to probability multipliers, e.g. "
            f"augment.multipliers={{scale: 0.5, hue: 0}}; got {multipliers!r}."
        )
    _no_xint(list(multipliers), "augment.multipliers")
    unknown = [name for name in multipliers if name not in OPS]
    if unknown:
        raise ConfigError(
            f"Unknown augment.multipliers entries {unknown}. Valid names: {', '.join(OPS)} "
            "(e.g. augment.multipliers={scale: 0.5})."
        )
    checked = {}
    for name, value in multipliers.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < math.inf:
            raise ConfigError(
                f"augment.multipliers.{name} must be a number >= 0 (the op is applied with probability "
                f"multiplier x p; 0 turns it off, 1 is the reference's), got {value!r}."
            )
        checked[name] = float(value)
    return checked


def _stages(names: Sequence[str]) -> list[str | tuple[str, ...]]:
    """The ops in order, each run of consecutive geometric ops grouped into one tuple (one resampling)."""
    stages: list[str | tuple[str, ...]] = []
    for name in names:
        if name not in GEOMETRIC:
            stages.append(name)
        elif stages and isinstance(stages[-1], tuple):
            stages[-1] = (*stages[-1], name)
        else:
            stages.append((name,))
    return stages


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


def lumaflip(x: Tensor, p: Tensor | float, generator: torch.Generator | None = None) -> Tensor:
    """With probability p, reflect each pixel's colour about the plane orthogonal to the luma axis:
    x - 2 m, m the channel mean (the luma negated, the chroma kept; one channel: -x)."""
    mask = ops.bernoulli(x.size(0), p, x.device, generator)
    return _where(mask, matrices.luma_flip(x), x)


def hue(x: Tensor, p: Tensor | float, generator: torch.Generator | None = None) -> Tensor:
    """With probability p, rotate each pixel's colour about the luma axis by an angle uniform in
    [-pi, pi) (the luma kept); 3 channels only (skipped otherwise)."""
    if x.size(1) != 3:
        return x
    n = x.size(0)
    mask = ops.bernoulli(n, p, x.device, generator)
    theta = ops.uniform(n, -math.pi, math.pi, _float32(x), generator).view(n)
    return _where(mask, matrices.color_transform(x, matrices.hue_rotation(theta)), x)


# --- the general geometric ops: one affine matrix per run, one resampling --------------------------


def geometric(
    x: Tensor,
    names: Sequence[str],
    probabilities: Mapping[str, Tensor | float],
    generator: torch.Generator | None = None,
) -> Tensor:
    """Apply the geometric ops ``names`` (some of :data:`GEOMETRIC`, in this order) as one transform.

    Each op draws its mask (probability ``probabilities[name]``; for ``rotate`` 1 - sqrt(1 - p) for
    each of its two rotations), then its parameters, an identity where the mask is False. The
    inverse matrices are chained and ``x`` (N, C, H, W) is resampled once (bilinear, mirrored about
    the edge pixels); images where no op fired are returned exactly.
    """
    n, _, h, w = x.shape
    like = _float32(x)
    inverse = matrices.identity(n, like)
    applied = torch.zeros(n, dtype=torch.bool, device=x.device)
    for step in _geometric_steps(names):
        p = probabilities[step]
        mask = ops.bernoulli(n, rotation_probability(p) if step == "rotate" else p, x.device, generator)
        inverse = inverse @ _GEOMETRIC_INVERSES[step](mask, (h, w), like, generator)
        applied = applied | mask
    return _where(applied, matrices.resample(x, inverse), x)


def rotation_probability(p: Tensor | float) -> Tensor | float:
    """p_rot = 1 - sqrt(1 - p) (p clamped to [0, 1]): one of two independent rotations, each with
    probability p_rot, happens with probability p."""
    if isinstance(p, Tensor):
        return 1 - (1 - p).clamp(0.0, 1.0).sqrt()
    return 1 - math.sqrt(min(max(1 - p, 0.0), 1.0))


def _geometric_steps(names: Sequence[str]) -> list[str]:
    """The draws of a run of geometric ops: ``rotate`` is two rotations, the second right after a
    later ``aniso`` of the run (the reference's pre- and post-rotation), else right after the first."""
    steps: list[str] = []
    pending = 0
    for i, name in enumerate(names):
        steps.append(name)
        if name == "rotate":
            if "aniso" in names[i + 1 :]:
                pending += 1
            else:
                steps.append("rotate")
        elif name == "aniso" and pending:
            steps.extend(["rotate"] * pending)
            pending = 0
    return steps


def _float32(x: Tensor) -> Tensor:
    """An (N,) float32 tensor on x's device: the draws and matrices of a batch stay float32."""
    return torch.zeros(x.size(0), device=x.device, dtype=torch.float32)


def _lognormal(std: float, like: Tensor, generator: torch.Generator | None) -> Tensor:
    return ops.normal(like.size(0), std, like, generator).view(-1).exp()


def _scale_inverse(
    mask: Tensor, size: tuple[int, int], like: Tensor, generator: torch.Generator | None
) -> Tensor:
    s = torch.where(mask, _lognormal(SCALE_STD, like, generator), 1.0)
    return matrices.scaling(1 / s, 1 / s)


def _rotate_inverse(
    mask: Tensor, size: tuple[int, int], like: Tensor, generator: torch.Generator | None
) -> Tensor:
    theta = ops.uniform(like.size(0), -math.pi, math.pi, like, generator).view(-1)
    return matrices.rotation(-torch.where(mask, theta, 0.0))


def _aniso_inverse(
    mask: Tensor, size: tuple[int, int], like: Tensor, generator: torch.Generator | None
) -> Tensor:
    s = torch.where(mask, _lognormal(ANISO_STD, like, generator), 1.0)
    return matrices.scaling(1 / s, s)


def _xfrac_inverse(
    mask: Tensor, size: tuple[int, int], like: Tensor, generator: torch.Generator | None
) -> Tensor:
    n, (h, w) = like.size(0), size
    tx = torch.where(mask, ops.normal(n, XFRAC_STD * w, like, generator).view(-1), 0.0)
    ty = torch.where(mask, ops.normal(n, XFRAC_STD * h, like, generator).view(-1), 0.0)
    return matrices.translation(-tx, -ty)


#: name -> (mask (N,), (H, W), like, generator) -> its (N, 3, 3) inverse matrix, the identity where
#: the mask is False. Each draws its parameters whatever the mask (the draws do not depend on p).
_GEOMETRIC_INVERSES = {
    "scale": _scale_inverse,
    "rotate": _rotate_inverse,
    "aniso": _aniso_inverse,
    "xfrac": _xfrac_inverse,
}


def scale(x: Tensor, p: Tensor | float, generator: torch.Generator | None = None) -> Tensor:
    """With probability p, scale about the centre by exp(N(0, (0.2 ln 2)^2)) (> 1: zoom in)."""
    return geometric(x, ("scale",), {"scale": p}, generator)


def rotate(x: Tensor, p: Tensor | float, generator: torch.Generator | None = None) -> Tensor:
    """Rotate about the centre by an angle uniform in [-pi, pi), twice, each with 1 - sqrt(1 - p)."""
    return geometric(x, ("rotate",), {"rotate": p}, generator)


def aniso(x: Tensor, p: Tensor | float, generator: torch.Generator | None = None) -> Tensor:
    """With probability p, scale x by s = exp(N(0, (0.2 ln 2)^2)) and y by 1 / s."""
    return geometric(x, ("aniso",), {"aniso": p}, generator)


def xfrac(x: Tensor, p: Tensor | float, generator: torch.Generator | None = None) -> Tensor:
    """With probability p, shift by N(0, 0.125^2) of the width and of the height (fractional)."""
    return geometric(x, ("xfrac",), {"xfrac": p}, generator)


_OPS = {
    "xflip": xflip,
    "rotate90": rotate90,
    "translation": translation,
    "scale": scale,
    "rotate": rotate,
    "aniso": aniso,
    "xfrac": xfrac,
    "brightness": brightness,
    "contrast": contrast,
    "lumaflip": lumaflip,
    "hue": hue,
    "saturation": saturation,
}
