"""Every config in ``conf/model/`` composes, builds its family from the registry, and generates."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hydra.utils import get_object

from gan_lightning.config import DataFacts, build_model
from gan_lightning.models import FAMILIES, PairedTranslation, UnpairedTranslation

MODEL_CONFIGS = sorted(p.stem for p in (Path(__file__).parents[2] / "conf" / "model").glob("*.yaml"))


def test_the_list_is_the_folder():
    assert {"gan", "dcgan", "stylegan2_cifar", "transgan_paper", "cyclegan", "discogan", "pix2pix"} <= set(
        MODEL_CONFIGS
    )


@pytest.mark.parametrize("name", MODEL_CONFIGS)
def test_every_model_config_builds_its_family(compose_cfg, name):
    cfg = compose_cfg(f"model={name}", "scheduler=none")
    family = get_object(cfg.model._target_)
    assert family in FAMILIES.values()
    torch.manual_seed(0)
    labels = (10, list(range(10))) if cfg.model.get("conditional") else (None, None)
    model = build_model(cfg, DataFacts((3, 32, 32), *labels, source_shape=(1, 32, 32)))
    assert type(model) is family
    for key in ("optimizer", "scheduler", "augment"):  # the groups reach the model, the core options too
        assert key in model.hparams
    assert model.hparams.get("ema_kimg") == cfg.model.ema_kimg
    model.eval()
    with torch.no_grad():
        if isinstance(model, UnpairedTranslation):
            images = torch.rand(2, 3, 32, 32) * 2 - 1
            out = model.translate(images, "a2b")
        elif isinstance(model, PairedTranslation):
            out = model.translate(torch.rand(2, 1, 32, 32) * 2 - 1)
        else:
            labels = torch.tensor([0, 1]) if model.conditional else None
            out = model.generate(model.sample_inputs(2, torch.Generator().manual_seed(0), labels))
    assert out.shape == (2, 3, 32, 32)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("scaling", [True, False])
def test_stylegan2_scales_the_lazy_groups_optimizers(compose_cfg, scaling):
    """mb_ratio (Karras et al. 2020): D regularized every 16 steps, G every 4."""
    cfg = compose_cfg("model=stylegan2", "scheduler=none", f"model.lazy_optimizer_scaling={scaling}")
    model = build_model(cfg, DataFacts((1, 16, 16)))
    d, g = (opt.param_groups[0] for opt in model.configure_optimizers())
    ratios = {"d": 16 / 17, "g": 4 / 5} if scaling else {"d": 1.0, "g": 1.0}
    for group, ratio in ((d, ratios["d"]), (g, ratios["g"])):
        assert group["lr"] == pytest.approx(0.0025 * ratio)
        assert group["betas"] == pytest.approx((0.0, 0.99**ratio))
