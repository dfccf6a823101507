"""Perceptual path length (Karras et al. 2019, "A Style-Based Generator Architecture for GANs", sec. 4.1).

For pairs of latents (z0, z1) and t ~ U(0, 1) (``sampling="full"``) or t = 0 (``"end"``, the end points
of the paths), the length of one small step of the path between them:

    l = d(G(i(a0, a1, t)), G(i(a0, a1, t + eps))) / eps^2

with i = lerp in W (a = mapping(z), the default) or slerp in Z, eps = 1e-4 and d a perceptual distance:
LPIPS (VGG16) in the paper, here by default the squared distance of unit-normalised features of a
feature net the framework has offline (the dataset classifier, or the rotation net): values are on
that net's scale, comparable only at equal protocol. PPL is the mean of the lengths between their 1st
and 99th percentiles (the paper drops the outliers). The generator's per-layer noise is fixed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import Generator, Tensor, nn

from gan_lightning.errors import ConfigError

SPACES = ("w", "z")
SAMPLINGS = ("end", "full")


def lerp(a: Tensor, b: Tensor, t: Tensor) -> Tensor:
    """``a + t (b - a)`` for rows a, b (n, ...) and t (n,)."""
    return a + t.view(-1, *[1] * (a.dim() - 1)) * (b - a)


def slerp(a: Tensor, b: Tensor, t: Tensor) -> Tensor:
    """Spherical interpolation between the directions of rows ``a``, ``b`` (n, d) at t (n,): a unit vector
    at angle ``t * omega`` from a towards b (omega the angle between them); lerp where they are parallel."""
    a = a / a.norm(dim=1, keepdim=True)
    b = b / b.norm(dim=1, keepdim=True)
    cos = (a * b).sum(dim=1, keepdim=True).clamp(-1.0, 1.0)
    omega = torch.acos(cos)
    t = t.view(-1, 1).to(a.dtype)
    sin = torch.sin(omega)
    parallel = sin.abs() < 1e-6
    safe = torch.where(parallel, torch.ones_like(sin), sin)
    out = (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / safe
    out = torch.where(parallel, lerp(a, b, t.view(-1)), out)
    return out / out.norm(dim=1, keepdim=True)


def path_lengths(
    images_of: Callable[[Tensor], Tensor],
    distance: Callable[[Tensor, Tensor], Tensor],
    a0: Tensor,
    a1: Tensor,
    t: Tensor,
    epsilon: float = 1e-4,
    interpolate: Callable[[Tensor, Tensor, Tensor], Tensor] = lerp,
) -> Tensor:
    """Lengths (n,) of the steps from ``interpolate(a0, a1, t)`` to ``interpolate(a0, a1, t + epsilon)``:
    ``distance(images_of(start), images_of(end)) / epsilon**2``, both ends in one batch of 2n.

    Args:
        images_of: latents (2n, ...) -> images (2n, C, H, W).
        distance: images (n, ...), (n, ...) -> per-pair distances (n,).
        a0, a1: the paths' end points (n, ...); t: where each step starts (n,).
    """
    n = len(a0)
    ends = torch.cat([interpolate(a0, a1, t), interpolate(a0, a1, t + epsilon)])
    images = images_of(ends)
    return distance(images[:n], images[n:]).double() / epsilon**2


def ppl_of(lengths: Tensor) -> float:
    """PPL: the mean of ``lengths`` (n,) between their 1st and 99th percentiles (both kept; the lower
    and higher neighbours of the percentiles, as NVlabs' implementation)."""
    values = lengths.double().flatten()
    lo = torch.quantile(values, 0.01, interpolation="lower")
    hi = torch.quantile(values, 0.99, interpolation="higher")
    return float(values[(values >= lo) & (values <= hi)].mean())


class FeatureDistance(nn.Module):
    """Squared Euclidean distance (n,) between unit-normalised features of two image batches (n, C, H, W).

    ``extractor``: images in [-1, 1] -> features (n, d), e.g. the dataset classifier's."""

    def __init__(self, extractor: nn.Module) -> None:
        super().__init__()
        self.extractor = extractor

    def forward(self, a: Tensor, b: Tensor) -> Tensor:
        fa, fb = (nn.functional.normalize(self.extractor(x).double(), dim=1) for x in (a, b))
        return (fa - fb).square().sum(dim=1)


# Torchvision's VGG16 ``features.<i>`` layers -> torchmetrics' LPIPS slices (first index of each slice),
# and the indices of its convolutions.
_VGG_SLICES = (0, 4, 9, 16, 23, 30)
_VGG_CONVS = (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28)


def lpips_backbone_keys(state: dict[str, Tensor]) -> dict[str, Tensor]:
    """Torchvision's VGG16 state dict (``features.<i>.weight`` ...; the classifier layers are ignored)
    -> the keys of torchmetrics' LPIPS backbone (``net.slice<s>.<i>.weight``)."""
    out = {}
    for key, value in state.items():
        parts = key.split(".")
        if parts[0] != "features" or len(parts) != 3:
            continue
        index = int(parts[1])
        for s in range(5):
            if _VGG_SLICES[s] <= index < _VGG_SLICES[s + 1]:
                out[f"net.slice{s + 1}.{index}.{parts[2]}"] = value
    return out


class LPIPSDistance(nn.Module):
    """LPIPS (Zhang et al. 2018), VGG16 backbone, between image batches in [-1, 1]: (n,) distances.

    The linear layers are those torchmetrics ships; the VGG16 backbone is read from ``weights``, a local
    file of torchvision's ImageNet VGG16 state dict (``vgg16-397923af.pth``; nothing is downloaded).
    Grayscale images are repeated to 3 channels."""

    def __init__(self, weights: str | Path) -> None:
        super().__init__()
        from torchmetrics.functional.image.lpips import _LPIPS

        path = Path(weights).expanduser()
        if not path.is_file():
            raise ConfigError(
                f"metrics.lpips_weights={weights}: no such file. Give torchvision's VGG16 ImageNet "
                "weights (vgg16-397923af.pth, from download.pytorch.org/models/ on a machine with "
                "internet), or leave it null to measure PPL in the extractor's feature space."
            )
        state = torch.load(path, map_location="cpu", weights_only=True)
        missing = [f"features.{i}.{p}" for i in _VGG_CONVS for p in ("weight", "bias")]
        missing = [key for key in missing if not isinstance(state, dict) or key not in state]
        if missing:
            raise ConfigError(
                f"metrics.lpips_weights={weights} is not torchvision's VGG16 state dict (it lacks "
                f"{len(missing)} of the backbone's tensors, e.g. {missing[0]})."
            )
        self.net = _LPIPS(pretrained=True, net="vgg", pnet_rand=True)  # linear layers: bundled file
        self.net.load_state_dict(lpips_backbone_keys(state), strict=False)
        self.net.eval().requires_grad_(False)

    def forward(self, a: Tensor, b: Tensor) -> Tensor:
        a, b = (x.float().expand(-1, 3, -1, -1) if x.size(1) == 1 else x.float() for x in (a, b))
        return self.net(a, b).flatten()


def check_ppl_options(space: str, sampling: str, epsilon: float) -> None:
    """A ConfigError naming the bad option among ``metrics.ppl_space / ppl_sampling / ppl_epsilon``."""
    if space not in SPACES:
        raise ConfigError(f"metrics.ppl_space={space}: choose w (lerp in W, the default) or z (slerp in Z).")
    if sampling not in SAMPLINGS:
        raise ConfigError(
            f"metrics.ppl_sampling={sampling}: choose end (t = 0, the paths' end points) or full "
            "(t ~ U(0, 1))."
        )
    if not 0 < epsilon < 1:
        raise ConfigError(f"metrics.ppl_epsilon={epsilon}: the step must be in (0, 1) (the paper: 1e-4).")


def check_ppl_model(model: Any) -> None:
    """A ConfigError unless ``model`` has a latent W to walk (``has_latent_w``)."""
    if not getattr(model, "has_latent_w", False):
        raise ConfigError(
            "ppl (perceptual path length) walks the latent W of style-based generators, and "
            f"{type(model).__name__} has none. Drop ppl from the metrics (metrics.metrics=[...] when "
            "training, metrics=[...] for evaluate), or use it with model=stylegan2 / model=stylegan."
        )


@torch.no_grad()
def model_path_lengths(
    model: Any,
    n: int,
    rng: Generator,
    distance: Callable[[Tensor, Tensor], Tensor],
    space: str = "w",
    sampling: str = "end",
    epsilon: float = 1e-4,
    labels: Tensor | None = None,
    ema: bool | None = None,
) -> Tensor:
    """Path lengths (n,) of a style-based model (``model.has_latent_w``): latents and t drawn with ``rng``
    (CPU), both ends of a path with the same label (conditional models), no truncation."""
    check_ppl_options(space, sampling, epsilon)
    check_ppl_model(model)
    first = model.sample_inputs(n, rng, labels)
    second = model.sample_inputs(n, rng, labels)
    t = torch.rand(n, generator=rng) if sampling == "full" else torch.zeros(n)
    pair_labels = first.get("labels")
    if space == "w":
        a0, a1 = model.latents_w(first, ema), model.latents_w(second, ema)

        def images_of(w: Tensor) -> Tensor:
            return model.generate({"w": w}, ema=ema)

        interpolate = lerp
    else:
        a0, a1 = first["z"], second["z"]

        def images_of(z: Tensor) -> Tensor:
            inputs = {"z": z}
            if pair_labels is not None:
                inputs["labels"] = pair_labels.repeat(2)
            return model.generate(inputs, ema=ema)

        interpolate = slerp
    t = t.to(a0.device, a0.dtype)
    return path_lengths(images_of, distance, a0, a1, t, epsilon, interpolate)
