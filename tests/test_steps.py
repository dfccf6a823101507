"""Generator steps -> Lightning optimizer steps, and the ${optimizer_steps:N} resolver."""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf

from gan_lightning.errors import ConfigError
from gan_lightning.models import GAN
from gan_lightning.steps import optimizer_steps_per_batch, register_resolvers, to_optimizer_steps

ADAM = {"_target_": "torch.optim.Adam", "_partial_": True, "lr_g": 1e-3, "lr_d": 1e-3}


@pytest.mark.parametrize("per_batch", [1, 2, 5])
def test_no_limit_stays_minus_one(per_batch: int) -> None:
    assert to_optimizer_steps(-1, per_batch) == -1


@pytest.mark.parametrize(
    ("n", "n_critic", "expected"), [(0, 1, 0), (1, 1, 2), (100, 1, 200), (100, 4, 500), (7, 5, 42)]
)
def test_to_optimizer_steps(n: int, n_critic: int, expected: int) -> None:
    assert to_optimizer_steps(n, n_critic + 1) == expected


@pytest.mark.parametrize(("n_critic", "expected"), [(1, 2), (4, 5), (0, 1)])
def test_steps_per_batch(n_critic: int, expected: int) -> None:
    assert optimizer_steps_per_batch(OmegaConf.create({"model": {"n_critic": n_critic}})) == expected


def test_steps_per_batch_default() -> None:
    assert optimizer_steps_per_batch(OmegaConf.create({"model": {}})) == 2
    assert optimizer_steps_per_batch(OmegaConf.create({})) == 2


def _cfg(n_critic: int | None, max_steps: int = 100):
    cfg = {
        "trainer": {"max_steps": f"${{optimizer_steps:{max_steps}}}"},
        "ckpt": {"every_n_train_steps": "${optimizer_steps:10}"},
    }
    if n_critic is not None:
        cfg["model"] = {"n_critic": n_critic}
    return OmegaConf.create(cfg)


@pytest.mark.parametrize(("n_critic", "max_steps", "ckpt"), [(1, 200, 20), (4, 500, 50), (None, 200, 20)])
def test_resolver(n_critic: int | None, max_steps: int, ckpt: int) -> None:
    register_resolvers()
    cfg = _cfg(n_critic)
    assert cfg.trainer.max_steps == max_steps
    assert cfg.ckpt.every_n_train_steps == ckpt
    assert isinstance(cfg.trainer.max_steps, int)


def test_resolver_minus_one() -> None:
    register_resolvers()
    assert _cfg(4, max_steps=-1).trainer.max_steps == -1


def test_resolver_follows_overrides() -> None:
    register_resolvers()
    cfg = _cfg(1)
    assert cfg.trainer.max_steps == 200
    cfg.model.n_critic = 4
    assert cfg.trainer.max_steps == 500


def test_register_is_idempotent() -> None:
    register_resolvers()
    register_resolvers()
    assert OmegaConf.has_resolver("optimizer_steps")
    resolved = OmegaConf.to_container(_cfg(2, max_steps=3), resolve=True)
    assert resolved["trainer"]["max_steps"] == 9


@pytest.mark.parametrize("model", [{"r1_gamma": 1.0, "r1_every": 16}, {"pl_weight": 2.0}])
def test_lazy_regularizers_are_refused_with_the_generator_step_option(model: dict) -> None:
    with pytest.raises(ConfigError, match="every_n_steps"):
        optimizer_steps_per_batch(OmegaConf.create({"model": model}))


def test_agrees_with_the_phases_of_the_built_model() -> None:
    cfg = OmegaConf.create({"model": {"n_critic": 3, "r1_gamma": 1.0, "r1_every": 1}})
    model = GAN((2,), arch="mlp", optimizer=ADAM, n_critic=3, r1_gamma=1.0, r1_every=1)
    assert to_optimizer_steps(10, optimizer_steps_per_batch(cfg)) == model.optimizer_steps_for(10)
