"""The CUDA defaults: chosen on CUDA only, so that nothing changes on the CPU; explicit values win."""

from __future__ import annotations

import pytest
import torch

from gan_lightning import devices
from gan_lightning.core.module import AdversarialModule
from gan_lightning.errors import ConfigError

CUDA, CPU = torch.device("cuda"), torch.device("cpu")


@pytest.fixture
def on_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(devices, "cuda_available", lambda: True)


@pytest.fixture
def on_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(devices, "cuda_available", lambda: False)


def test_the_cpu_keeps_what_it_always_did(on_cpu) -> None:
    assert devices.loader_workers(None) == 0
    assert devices.pin_memory(None) is False
    assert devices.decode_cache(None) is False
    adam = {"_target_": "torch.optim.Adam", "fused": None}
    assert devices.fused_optimizer(adam, torch.optim.Adam, CPU) == adam


def test_cuda_loads_with_persistent_workers_pinned_memory_and_the_decode_cache(on_cuda, monkeypatch) -> None:
    monkeypatch.setattr(devices.os, "cpu_count", lambda: 16)
    assert devices.loader_workers(None) == devices.CUDA_LOADER_WORKERS
    assert devices.loader_workers(None, in_memory=True) == 0  # on_device, the decode cache: no copying
    monkeypatch.setattr(devices.os, "cpu_count", lambda: 2)
    assert devices.loader_workers(None) == 2
    assert devices.pin_memory(None) is True
    assert devices.decode_cache(None) is True


def test_explicit_values_win_on_any_device(on_cuda) -> None:
    assert devices.loader_workers(0) == 0
    assert devices.pin_memory(False) is False
    assert devices.decode_cache(False) is False
    adam = {"fused": False}
    assert devices.fused_optimizer(adam, torch.optim.Adam, CUDA) == adam


def test_fused_kernel_on_cuda_for_the_optimizers_that_have_one() -> None:
    assert devices.fused_optimizer({"lr": 1e-3, "fused": None}, torch.optim.Adam, CUDA) == {
        "lr": 1e-3,
        "fused": True,
    }
    assert devices.fused_optimizer({}, torch.optim.AdamW, CUDA)["fused"] is True

    class NoFusedKernel(torch.optim.Optimizer):
        def __init__(self, params, lr: float = 1e-3) -> None:
            super().__init__(params, {"lr": lr})

    assert devices.fused_optimizer({}, NoFusedKernel, CUDA) == {}


def test_configure_cuda_sets_tf32_and_the_autotuner(on_cuda) -> None:
    saved = (
        torch.backends.cuda.matmul.allow_tf32,
        torch.backends.cudnn.allow_tf32,
        torch.backends.cudnn.benchmark,
    )
    try:
        devices.configure_cuda(tf32=True, cudnn_benchmark=True)
        assert torch.backends.cuda.matmul.allow_tf32 and torch.backends.cudnn.allow_tf32
        assert torch.backends.cudnn.benchmark
        devices.configure_cuda(tf32=False, cudnn_benchmark=False)  # full fp32
        assert not torch.backends.cuda.matmul.allow_tf32 and not torch.backends.cudnn.allow_tf32
        assert not torch.backends.cudnn.benchmark
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved[:2]
        torch.backends.cudnn.benchmark = saved[2]


def test_configure_cuda_does_nothing_without_cuda(on_cpu) -> None:
    before = torch.backends.cuda.matmul.allow_tf32
    devices.configure_cuda(tf32=not before)
    assert torch.backends.cuda.matmul.allow_tf32 == before


ADAM = {"_target_": "torch.optim.Adam", "_partial_": True, "lr_g": 1e-3, "lr_d": 1e-3}


def test_compile_takes_a_mode(monkeypatch) -> None:
    modes = []
    monkeypatch.setattr(torch.nn.Module, "compile", lambda self, mode=None: modes.append(mode))

    class Tiny(AdversarialModule):
        groups = {"discriminator": ("discriminator",), "generator": ("generator",)}

        def __init__(self, compile) -> None:
            super().__init__(optimizer=ADAM, compile=compile)
            self.generator, self.discriminator = torch.nn.Linear(2, 2), torch.nn.Linear(2, 1)

    Tiny("reduce-overhead").configure_model()
    Tiny(True).configure_model()
    assert modes == ["reduce-overhead", "reduce-overhead", None, None]
    with pytest.raises(ConfigError, match="model.compile must be true, false or a torch.compile mode"):
        Tiny("fastest")
