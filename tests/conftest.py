"""Shared fixtures: tiny datasets written to temp dirs, and Hydra-composed configs of the real app."""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from hydra import compose, initialize_config_module
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict
from PIL import Image

from gan_lightning.steps import register_resolvers

register_resolvers()

SHARED_DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write a uint8 array in the IDX format of MNIST (magic 0x08 = ubyte, then the dims)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def make_mnist_like(
    root: Path, folder: str = "MNIST", n_train: int = 64, n_test: int = 32, seed: int = 0
) -> Path:
    """A tiny MNIST-format dataset under ``root/folder/raw``: blobs whose position encodes the label."""
    rng = np.random.default_rng(seed)
    for split, n in (("train", n_train), ("t10k", n_test)):
        labels = np.arange(n) % 10
        images = (rng.random((n, 28, 28)) * 40).astype(np.uint8)
        for i, label in enumerate(labels):
            r, c = 2 + 2 * label, 4 + label
            images[i, r : r + 8, c : c + 8] = 255
        write_idx(root / folder / "raw" / f"{split}-images-idx3-ubyte", images)
        write_idx(root / folder / "raw" / f"{split}-labels-idx1-ubyte", labels)
    return root


@pytest.fixture(autouse=True)
def _hermetic_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see a developer's GAN_CACHE_DIR (its classifiers would switch on slow metrics)."""
    monkeypatch.delenv("GAN_CACHE_DIR", raising=False)


@pytest.fixture
def one_thread():
    """One intra-op thread: on a small, busy CPU two threads contending make tiny convolutions many
    times slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def mnist_root(tmp_path: Path) -> Path:
    """A data root holding tiny MNIST and Fashion-MNIST files (64 train, 32 test images each)."""
    root = tmp_path / "data"
    make_mnist_like(root, "MNIST")
    make_mnist_like(root, "FashionMNIST", seed=1)
    return root


def make_image_folder(root: Path, classes: tuple[str, ...] = ("cats", "dogs"), per_class: int = 6) -> Path:
    """PNG files of odd sizes, one sub-folder per class (no sub-folders when ``classes`` is empty)."""
    rng = np.random.default_rng(0)
    folders = [root / c for c in classes] or [root]
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            pixels = (rng.random((40 + i, 50, 3)) * 255).astype(np.uint8)
            Image.fromarray(pixels).save(folder / f"img_{i}.png")
    return root


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    return make_image_folder(tmp_path / "images")


def make_two_domains(root: Path, n_train: tuple[int, int] = (10, 8), n_test: int = 4, size: int = 36) -> Path:
    """Two image domains in CycleGAN's layout (trainA/ trainB/ testA/ testB/): A reddish, B bluish noise
    with a bright square, so that a domain classifier can tell them apart."""
    rng = np.random.default_rng(0)
    for domain, tint, n in (("A", 0, n_train[0]), ("B", 2, n_train[1])):
        for split, count in (("train", n), ("test", n_test)):
            folder = root / f"{split}{domain}"
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(count):
                pixels = rng.random((size, size, 3)) * 120
                pixels[..., tint] += 120
                pixels[4 + i % 8 : 12 + i % 8, 6:14] = 255
                name = f"{domain.lower()}_{split}_{i:02d}.png"
                Image.fromarray(pixels.astype(np.uint8)).save(folder / name)
    return root


@pytest.fixture
def two_domains(tmp_path: Path) -> Path:
    return make_two_domains(tmp_path / "domains")


SHAPES = ("cross", "disc", "square")  # the classes of make_labelled_domains, in label order


def shape_mask(shape: str, size: int, rng: np.random.Generator) -> np.ndarray:
    """A (size, size) bool mask of ``shape`` of random radius (8..11 px) near the centre."""
    radius = int(rng.integers(8, 12))
    cy, cx = (int(c) for c in rng.integers(size // 2 - 3, size // 2 + 4, 2))
    y, x = np.mgrid[:size, :size]
    dy, dx = np.abs(y - cy), np.abs(x - cx)
    if shape == "square":
        return (dy <= radius) & (dx <= radius)
    if shape == "disc":
        return dy**2 + dx**2 <= radius**2
    return ((dy <= 2) & (dx <= radius)) | ((dx <= 2) & (dy <= radius))  # cross


def make_labelled_domains(
    root: Path, n_train: int = 6, n_test: int = 4, size: int = 36, names_b: tuple[str, ...] = SHAPES
) -> Path:
    """Two labelled domains in CycleGAN's layout with class sub-folders (``trainA/<shape>/...``): the
    class is the shape (cross, disc, square), the domain its colour (B: a blue shape on dark noise, A:
    the same with the colour channels reversed, a red shape). Each test image of A is its test B twin
    (same name, same noise and shape) with the channels reversed, so a translation that reverses the
    channels maps test A exactly onto test B; training images are drawn independently per domain.
    ``names_b``: B's class folder names (differing names make the domains unlabelled)."""
    rng = np.random.default_rng(0)

    def draw(shape: str) -> np.ndarray:
        pixels = rng.random((size, size, 3)) * 60
        pixels[shape_mask(shape, size, rng)] = (30, 70, 250)
        return pixels.astype(np.uint8)

    for split, n in (("train", n_train), ("test", n_test)):
        for shape, name_b in zip(SHAPES, names_b, strict=True):
            for folder in (root / f"{split}A" / shape, root / f"{split}B" / name_b):
                folder.mkdir(parents=True, exist_ok=True)
            for i in range(n):
                b = draw(shape)
                a = b[..., ::-1] if split == "test" else draw(shape)[..., ::-1]
                Image.fromarray(np.ascontiguousarray(a)).save(root / f"{split}A" / shape / f"{i:02d}.png")
                Image.fromarray(b).save(root / f"{split}B" / name_b / f"{i:02d}.png")
    return root


@pytest.fixture
def labelled_domains(tmp_path: Path) -> Path:
    return make_labelled_domains(tmp_path / "shapes")


@pytest.fixture
def compose_cfg(tmp_path: Path) -> Callable[..., DictConfig]:
    """Compose the app's real config with overrides, as `python -m gan_lightning` would (no run).

    ``out`` is the run directory (default ``tmp_path/run``), what Hydra's run dir would be.
    """

    def _compose(*overrides: str, out: Path | None = None) -> DictConfig:
        GlobalHydra.instance().clear()
        with initialize_config_module(config_module="gan_lightning.conf", version_base="1.3"):
            cfg = compose(config_name="train", overrides=list(overrides), return_hydra_config=True)
        output_dir = out or tmp_path / "run"
        with open_dict(cfg):
            cfg.hydra.runtime.output_dir = str(output_dir)
        HydraConfig.instance().set_config(cfg)
        with open_dict(cfg):
            del cfg["hydra"]  # as in a real run, the job's config holds no `hydra` node
        return cfg

    yield _compose
    GlobalHydra.instance().clear()
