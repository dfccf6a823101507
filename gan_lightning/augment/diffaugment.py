"""DiffAugment: Zhao et al. (2020), "Differentiable Augmentation for Data-Efficient GAN Training".

The same family of random, differentiable transforms is applied to real and to generated images
before D, in D's and in G's steps, so D cannot overfit a small training set while G still gets
gradients through the transform. Each sample draws its own parameters.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from gan_lightning.augment import ops
from gan_lightning.errors import ConfigError

POLICIES = ("color", "translation", "cutout")
TRANSLATION_FRACTION = 1 / 8  # the largest shift, as a fraction of the side
CUTOUT_FRACTION = 1 / 2  # the side of the hole, as a fraction of the image's


def parse_names(names: Sequence[str] | str, valid: Sequence[str], key: str) -> tuple[str, ...]:
    """``"a,b"`` or ``["a", "b"]`` -> ``("a", "b")``, each checked against ``valid`` (ConfigError
    naming the config ``key`` otherwise)."""
    items = names.split(",") if isinstance(names, str) else list(names)
    parsed = tuple(str(item).strip() for item in items if str(item).strip())
    if not parsed:
        raise ConfigError(f"{key} is empty. Give some of: {', '.join(valid)} (or use augment=none).")
    unknown = [name for name in parsed if name not in valid]
    if unknown:
        raise ConfigError(
            f"Unknown {key} entries {unknown}. Valid names: {', '.join(valid)} "
            f"(e.g. {key}={','.join(valid)})."
        )
    return parsed


class DiffAugment(nn.Module):
    """Differentiable augmentation of images (N, C, H, W) in [-1, 1], any C; the shape is kept.

    Policies, applied in the order given, every sample with its own random parameters:

    - ``color``: brightness x + b, b ~ U[-0.5, 0.5]; saturation m + s (x - m), s ~ U[0, 2], m the
      per-pixel channel mean (a no-op for one channel); contrast m + c (x - m), c ~ U[0.5, 1.5], m the
      per-image mean.
    - ``translation``: an integer shift of up to 1/8 of each side (rounded), zeros entering.
    - ``cutout``: a square of half the side (rounded), fully inside the image, set to 0.

    Args:
        policy: some of ``color``, ``translation``, ``cutout``, as a sequence or ``"a,b"`` string.
    """

    def __init__(self, policy: Sequence[str] | str = POLICIES) -> None:
        super().__init__()
        self.policy = parse_names(policy, POLICIES, "augment.policy")

    def extra_repr(self) -> str:
        return f"policy={','.join(self.policy)}"

    def forward(self, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Augment ``x`` (N, C, H, W); all random numbers come from ``generator``."""
        for name in self.policy:
            x = _POLICY_OPS[name](x, generator)
        return x


def color(x: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """Brightness, then saturation (skipped for one channel), then contrast, per sample."""
    n = x.size(0)
    x = x + ops.uniform(n, -0.5, 0.5, x, generator)
    if x.size(1) > 1:
        x = ops.scale_around(x, x.mean(dim=1, keepdim=True), ops.uniform(n, 0.0, 2.0, x, generator))
    return ops.scale_around(x, x.mean(dim=(1, 2, 3), keepdim=True), ops.uniform(n, 0.5, 1.5, x, generator))


def translation(x: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """An integer shift in [-s, s] per sample and axis, s = round(side / 8), zero padding."""
    n, _, h, w = x.shape
    sy, sx = ops.max_shift(h, TRANSLATION_FRACTION), ops.max_shift(w, TRANSLATION_FRACTION)
    shift_y = ops.integers(n, -sy, sy, x.device, generator)
    shift_x = ops.integers(n, -sx, sx, x.device, generator)
    return ops.translate(x, shift_y, shift_x, padding="zeros")


def cutout(x: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """Zero a (round(H/2), round(W/2)) rectangle at a uniform position inside each image."""
    n, _, h, w = x.shape
    size = (ops.max_shift(h, CUTOUT_FRACTION), ops.max_shift(w, CUTOUT_FRACTION))
    top = ops.integers(n, 0, h - size[0], x.device, generator)
    left = ops.integers(n, 0, w - size[1], x.device, generator)
    return ops.cutout(x, top, left, size)


_POLICY_OPS = {"color": color, "translation": translation, "cutout": cutout}
