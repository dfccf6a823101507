"""Perceptual path length: a generator linear in w has a known PPL, slerp's geometry, the percentile
filter against NumPy, the normalised feature distance, a real StyleGAN2, models without W refused, and
LPIPS loaded from a local VGG16 file."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import Tensor, nn

from gan_lightning.errors import ConfigError
from gan_lightning.metrics.evaluator import SampleEvaluator
from gan_lightning.metrics.path_length import (
    FeatureDistance,
    LPIPSDistance,
    check_ppl_model,
    lerp,
    lpips_backbone_keys,
    model_path_lengths,
    path_lengths,
    ppl_of,
    slerp,
)
from gan_lightning.metrics.protocol import MetricOptions, evaluate_images

Z_DIM, W_DIM = 4, 5


class LinearW(nn.Module):
    """A generator with a latent W, linear in w: w = z M, image = w A as (n, 1, 2, 3) (float64)."""

    has_latent_w = True
    conditional = False
    classes = None

    def __init__(self) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.M = torch.randn(Z_DIM, W_DIM, generator=g, dtype=torch.float64)
        self.A = torch.randn(W_DIM, 6, generator=g, dtype=torch.float64)

    def sample_inputs(self, n, rng=None, labels=None, truncation=None) -> dict[str, Tensor]:
        return {"z": torch.randn(n, Z_DIM, generator=rng).double()}

    def latents_w(self, inputs, ema=None) -> Tensor:
        return inputs["z"] @ self.M

    def generate(self, inputs, ema=None) -> Tensor:
        w = inputs["w"] if "w" in inputs else self.latents_w(inputs)
        return (w @ self.A).view(-1, 1, 2, 3)


def squared(a: Tensor, b: Tensor) -> Tensor:
    return (a - b).flatten(1).square().sum(1)


def test_a_generator_linear_in_w_has_the_squared_image_of_the_latent_difference_as_length():
    model = LinearW()
    for sampling in ("end", "full"):
        rng = torch.Generator().manual_seed(1)
        lengths = model_path_lengths(model, 50, rng, squared, "w", sampling)
        again = torch.Generator().manual_seed(1)
        z0, z1 = model.sample_inputs(50, again)["z"], model.sample_inputs(50, again)["z"]
        # G(lerp(w0, w1, t + eps)) - G(lerp(w0, w1, t)) = eps (w1 - w0) A, whatever t: length |(w1 - w0) A|^2.
        expected = ((z1 - z0) @ model.M @ model.A).square().sum(1)
        torch.testing.assert_close(lengths, expected, rtol=1e-6, atol=0)


def test_ppl_of_the_linear_generator_through_the_evaluator():
    model = LinearW()
    flat = nn.Flatten()
    flat.num_features = 6
    options = MetricOptions(metrics=("ppl",), n_samples=8, ppl_samples=300, batch_size=600, seed=3)
    evaluator = SampleEvaluator(
        flat, torch.randn(10, 6), n_fake=8, metrics=("ppl",), path_distance=lambda a, b: squared(a, b)
    )
    values = evaluate_images(model, evaluator, options)
    rng = torch.Generator().manual_seed(3)  # the evaluation's draws: 300 z0 then 300 z1 (one batch)
    z0, z1 = torch.randn(300, Z_DIM, generator=rng).double(), torch.randn(300, Z_DIM, generator=rng).double()
    lengths = ((z1 - z0) @ model.M @ model.A).square().sum(1).numpy()
    kept = lengths[(lengths >= np.percentile(lengths, 1, method="lower"))]
    kept = kept[kept <= np.percentile(lengths, 99, method="higher")]
    assert len(kept) == 300 - 2 - 2  # percentile 1 (lower) is the 3rd lowest, 99 (higher) the 3rd highest
    assert values == {"ppl": pytest.approx(float(kept.mean()), rel=1e-6)}


def test_slerp_walks_the_great_circle_at_constant_speed():
    g = torch.Generator().manual_seed(0)
    a, b = 3 * torch.randn(6, 8, generator=g, dtype=torch.float64), torch.randn(6, 8, generator=g).double()
    unit_a, unit_b = a / a.norm(dim=1, keepdim=True), b / b.norm(dim=1, keepdim=True)
    omega = torch.acos((unit_a * unit_b).sum(1))
    torch.testing.assert_close(slerp(a, b, torch.zeros(6)), unit_a)
    torch.testing.assert_close(slerp(a, b, torch.ones(6)), unit_b)
    t = torch.rand(6, generator=g, dtype=torch.float64)
    point = slerp(a, b, t)
    torch.testing.assert_close(point.norm(dim=1), torch.ones(6, dtype=torch.float64))
    torch.testing.assert_close(torch.acos((point * unit_a).sum(1).clamp(-1, 1)), t * omega)
    torch.testing.assert_close(torch.acos((point * unit_b).sum(1).clamp(-1, 1)), (1 - t) * omega)
    # Parallel ends: no division by sin(0).
    assert torch.isfinite(slerp(a, 2 * a, t)).all()
    torch.testing.assert_close(slerp(a, 2 * a, t), unit_a)


def test_end_point_length_in_z_is_the_slerp_derivative_through_the_linear_maps():
    model = LinearW()
    rng = torch.Generator().manual_seed(2)
    lengths = model_path_lengths(model, 20, rng, squared, "z", "end", epsilon=1e-5)
    again = torch.Generator().manual_seed(2)
    z0, z1 = model.sample_inputs(20, again)["z"], model.sample_inputs(20, again)["z"]
    u0, u1 = z0 / z0.norm(dim=1, keepdim=True), z1 / z1.norm(dim=1, keepdim=True)
    cos = (u0 * u1).sum(1, keepdim=True)
    omega = torch.acos(cos)
    tangent = (u1 - cos * u0) / torch.sin(omega)  # d slerp / dt at t = 0 is omega * tangent
    expected = (omega * tangent @ model.M @ model.A).square().sum(1)
    torch.testing.assert_close(lengths, expected, rtol=1e-4, atol=0)


def test_path_lengths_evaluate_both_ends_in_one_batch():
    calls = []

    def images_of(latents: Tensor) -> Tensor:
        calls.append(len(latents))
        return latents.view(-1, 1, 1, 2)

    a0, a1 = torch.zeros(3, 2, dtype=torch.float64), torch.tensor([[1.0, 0], [0, 2], [3, 4]]).double()
    lengths = path_lengths(images_of, squared, a0, a1, torch.full((3,), 0.5, dtype=torch.float64), 1e-3, lerp)
    assert calls == [6]
    torch.testing.assert_close(lengths, torch.tensor([1.0, 4.0, 25.0], dtype=torch.float64))


def test_ppl_drops_the_lengths_outside_the_1st_and_99th_percentiles_as_numpy():
    values = torch.arange(1, 1001, dtype=torch.float64)
    # Percentile 1 (lower): 10; 99 (higher): 991; kept 10..991.
    assert ppl_of(values) == pytest.approx((10 + 991) / 2)
    spiky = torch.cat([torch.ones(998), torch.tensor([1e9, 1e9])]).double()
    assert ppl_of(spiky) == 1.0
    g = np.random.default_rng(0)
    random = g.lognormal(size=777)
    lo, hi = np.percentile(random, 1, method="lower"), np.percentile(random, 99, method="higher")
    expected = random[(random >= lo) & (random <= hi)].mean()
    assert ppl_of(torch.from_numpy(random)) == pytest.approx(expected, rel=1e-12)


def test_feature_distance_is_the_squared_distance_of_unit_features():
    scale = nn.Linear(6, 3, bias=False).double().requires_grad_(False)
    distance = FeatureDistance(nn.Sequential(nn.Flatten(), scale))
    a, b = torch.randn(4, 1, 2, 3).double(), torch.randn(4, 1, 2, 3).double()
    fa, fb = scale(a.flatten(1)), scale(b.flatten(1))
    expected = (fa / fa.norm(dim=1, keepdim=True) - fb / fb.norm(dim=1, keepdim=True)).square().sum(1)
    torch.testing.assert_close(distance(a, b), expected)
    torch.testing.assert_close(distance(a, 7 * a), torch.zeros(4, dtype=torch.float64))  # scale-free
    assert float(distance(a, -a).max()) == pytest.approx(4.0)  # opposite unit vectors


def test_a_real_stylegan2_walks_w_without_truncation_and_with_fixed_noise():
    from tests.models.test_stylegan import stylegan2

    model = stylegan2().eval()
    flat = lambda a, b: squared(a.double(), b.double())  # noqa: E731
    lengths = model_path_lengths(model, 3, torch.Generator().manual_seed(0), flat, "w", "full")
    rng = torch.Generator().manual_seed(0)
    z0, z1 = model.sample_z(3, rng), model.sample_z(3, rng)
    t = torch.rand(3, generator=rng)[:, None]
    generator = model.generator
    w0, w1 = generator.mapping(z0), generator.mapping(z1)
    ends = torch.cat([w0 + t * (w1 - w0), w0 + (t + 1e-4) * (w1 - w0)])
    images = generator.synthesis(ends, noise_mode="const")
    expected = squared(images[:3].double(), images[3:].double()) / 1e-8
    torch.testing.assert_close(lengths, expected, rtol=1e-5, atol=0)
    assert (lengths > 0).all()
    in_z = model_path_lengths(model, 3, torch.Generator().manual_seed(0), flat, "z", "end")
    assert in_z.shape == (3,) and torch.isfinite(in_z).all() and (in_z > 0).all()


def test_models_without_w_are_refused():
    class DCGANLike(nn.Module):
        has_latent_w = False

    with pytest.raises(ConfigError, match="ppl .* DCGANLike has none.*model=stylegan2"):
        check_ppl_model(DCGANLike())
    with pytest.raises(ConfigError, match="DCGANLike has none"):
        model_path_lengths(DCGANLike(), 2, torch.Generator(), squared)


def test_bad_ppl_options():
    with pytest.raises(ConfigError, match="metrics.ppl_space=x: choose w"):
        MetricOptions(ppl_space="x")
    with pytest.raises(ConfigError, match="metrics.ppl_sampling=middle"):
        MetricOptions(ppl_sampling="middle")
    with pytest.raises(ConfigError, match="metrics.ppl_epsilon=0"):
        MetricOptions(ppl_epsilon=0)


# --- LPIPS from a local VGG16 file --------------------------------------------------------------------

VGG_CONVS = {0: (3, 64), 2: (64, 64), 5: (64, 128), 7: (128, 128), 10: (128, 256), 12: (256, 256),
             14: (256, 256), 17: (256, 512), 19: (512, 512), 21: (512, 512), 24: (512, 512),
             26: (512, 512), 28: (512, 512)}  # fmt: skip


def vgg16_state(seed: int = 0) -> dict[str, Tensor]:
    """A state dict shaped as torchvision's VGG16 (its ``features`` layers, plus one classifier layer),
    random, small-scale weights."""
    g = torch.Generator().manual_seed(seed)
    state = {}
    for index, (c_in, c_out) in VGG_CONVS.items():
        state[f"features.{index}.weight"] = torch.randn(c_out, c_in, 3, 3, generator=g) / math.sqrt(9 * c_in)
        state[f"features.{index}.bias"] = torch.zeros(c_out)
    state["classifier.0.bias"] = torch.zeros(4096)
    return state


def test_vgg16_keys_map_onto_the_lpips_slices():
    keys = lpips_backbone_keys(vgg16_state())
    assert len(keys) == 26 and "classifier.0.bias" not in str(keys)
    some = {"net.slice1.0.weight", "net.slice2.5.bias", "net.slice3.14.weight", "net.slice4.21.bias"}
    assert some <= set(keys)
    assert "net.slice5.28.weight" in keys and "net.slice4.28.weight" not in keys


def test_missing_lpips_file_says_what_to_give():
    with pytest.raises(ConfigError, match="metrics.lpips_weights=/no/vgg.pth: no such file.*vgg16-397923af"):
        LPIPSDistance("/no/vgg.pth")


@pytest.mark.slow
def test_lpips_distance_loads_the_backbone_from_the_file(tmp_path):
    state = vgg16_state()
    torch.save(state, tmp_path / "vgg16.pth")
    distance = LPIPSDistance(tmp_path / "vgg16.pth")
    loaded = distance.net.state_dict()
    assert torch.equal(loaded["net.slice3.12.weight"], state["features.12.weight"])
    assert torch.equal(loaded["net.slice5.26.weight"], state["features.26.weight"])
    a = torch.rand(2, 1, 32, 32) * 2 - 1
    b = a.flip(-1)
    d = distance(a, b)
    assert d.shape == (2,) and (d > 0).all()
    torch.testing.assert_close(distance(a, a), torch.zeros(2))
    torch.save({"features.0.weight": state["features.0.weight"]}, tmp_path / "partial.pth")
    with pytest.raises(ConfigError, match="not torchvision's VGG16 state dict"):
        LPIPSDistance(tmp_path / "partial.pth")
