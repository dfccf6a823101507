"""Unpaired two-domain datamodule (CycleGAN layout or two folders) on tiny PNG folders."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image

from gan_lightning.config import build
from gan_lightning.data import UnpairedDataModule
from gan_lightning.data.image_files import find_images
from gan_lightning.data.image_to_image import default_load_size
from gan_lightning.errors import ConfigError, DatasetNotFoundError
from tests.conftest import SHAPES, SHARED_DATASETS, make_labelled_domains
from tests.data.folders import write_truncated

A_BASE, B_BASE, STEP = 10, 150, 15  # image i of A has red level 10 + 15 i, of B 150 + 15 i


def make_domain(folder: Path, n: int, base: int, size: int = 20, seed: int = 0) -> Path:
    """``n`` PNGs whose red channel is flat at ``base + STEP * i`` (the image's identity for n <= 8,
    unchanged by resizing, cropping and flipping) and whose green and blue channels are random texture."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        pixels = (rng.random((size, size, 3)) * 255).astype(np.uint8)
        pixels[..., 0] = (base + STEP * i) % 256
        Image.fromarray(pixels).save(folder / f"img_{i:02d}.png")
    return folder


def ids(images: torch.Tensor, base: int) -> list[int]:
    """Which image of a domain each of ``images`` (N, 3, S, S) is, from its flat red channel."""
    red = ((images[:, 0].mean(dim=(1, 2)) + 1) * 127.5).round().long()
    return ((red - base) // STEP).tolist()


def cyclegan_layout(root: Path, tests: bool = True) -> Path:
    make_domain(root / "trainA", 7, A_BASE)
    make_domain(root / "trainB", 4, B_BASE, seed=1)
    if tests:
        make_domain(root / "testA", 2, A_BASE, seed=2)
        make_domain(root / "testB", 3, B_BASE, seed=3)
    return root


def two_folders(root: Path, n_a: int = 7, n_b: int = 4) -> tuple[Path, Path]:
    return make_domain(root / "horses", n_a, A_BASE), make_domain(root / "zebras", n_b, B_BASE, seed=1)


def ready(**kwargs) -> UnpairedDataModule:
    kwargs.setdefault("image_size", 16)
    kwargs.setdefault("batch_size", 2)
    dm = UnpairedDataModule(**kwargs)
    dm.setup("fit")
    return dm


def run(dm: UnpairedDataModule, n: int):
    """The next ``n`` training batches as Lightning would fetch them (epoch after epoch), counting
    ``batches_seen`` as ``on_after_batch_transfer`` does in training."""
    loader = dm.train_dataloader()
    while True:  # each pass starts where the run is (batches_seen)
        for batch in loader:
            dm.batches_seen += 1  # counted on transfer, before the step (and any checkpoint after it)
            yield batch
            n -= 1
            if n == 0:
                return


# --- where the images come from ---------------------------------------------------------------


def test_cyclegan_layout(tmp_path: Path) -> None:
    root = cyclegan_layout(tmp_path / "h2z")
    dm = ready(path=str(root))
    assert dm.name == "unpaired" and dm.is_image and dm.num_classes is None
    assert dm.data_kind == "two_domains"
    assert dm.data_shape == (3, 16, 16)
    assert dm.splits == ("train", "test")
    assert dm.domain_names == ("A", "B")
    assert dm.load_size == 18  # 16 * 286 / 256 = 17.9
    assert dm.domain_sizes("train") == (7, 4) and dm.domain_sizes("test") == (2, 3)
    assert [p.parent.name for p in dm.domain_paths("a", "train")] == ["trainA"] * 7
    assert [p.parent.name for p in dm.domain_paths("b", "test")] == ["testB"] * 3
    assert dm.source == f"folders:{(root / 'trainA').resolve()}|{(root / 'trainB').resolve()}"
    assert dm.stats_name.startswith("unpaired-") and dm.stats_name.endswith("-16px")
    assert dm.stats_name == ready(path=str(root)).stats_name
    assert dm.stats_name != ready(path=str(root), image_size=12).stats_name
    images = dm.domain_images("b", "test")
    assert len(images) == 3
    assert images[2].shape == (3, 16, 16)
    assert ids(torch.stack([images[i] for i in range(3)]), B_BASE) == [0, 1, 2]
    assert torch.equal(images[1], dm.domain_images("b", "test")[1])  # deterministic: no random crop/flip
    x, y = dm.load_split("test")[0]  # the generic metrics' reference: domain B
    assert torch.equal(x, images[0]) and y == -1
    with pytest.raises(ConfigError, match="no 'val' split"):
        dm.domain_images("a", "val")


def test_root_is_the_default_path(tmp_path: Path) -> None:
    root = cyclegan_layout(tmp_path / "h2z")
    assert UnpairedDataModule(root=root, batch_size=1, image_size=16).domain_sizes() == (7, 4)


def test_layout_without_test_folders_holds_out(tmp_path: Path) -> None:
    root = cyclegan_layout(tmp_path / "h2z", tests=False)
    dm = ready(path=str(root), test_fraction=0.3)
    assert dm.domain_sizes("train") == (5, 3) and dm.domain_sizes("test") == (2, 1)
    for domain in "ab":
        train, test = dm.domain_paths(domain, "train"), dm.domain_paths(domain, "test")
        assert not set(train) & set(test)
        assert sorted(train + test) == find_images(root / f"train{domain.upper()}")


def test_two_folders_hold_out_the_same_files_whatever_the_seed(tmp_path: Path) -> None:
    path_a, path_b = two_folders(tmp_path, n_a=20, n_b=10)
    splits = []
    for seed in (1, 2):
        torch.manual_seed(seed)
        dm = ready(path=None, path_a=str(path_a), path_b=str(path_b))
        splits.append([dm.domain_paths(d, s) for d in "ab" for s in ("train", "test")])
    assert splits[0] == splits[1]
    a_train, a_test, b_train, b_test = splits[0]
    assert (len(a_train), len(a_test), len(b_train), len(b_test)) == (18, 2, 9, 1)
    assert sorted(a_train + a_test) == find_images(path_a)
    assert dm.source == f"folders:{path_a.resolve()}|{path_b.resolve()}"
    whole = ready(path_a=str(path_a), path_b=str(path_b), test_fraction=0)
    assert whole.domain_sizes() == (20, 10) and whole.splits == ("train",)


def test_grayscale_file_becomes_rgb(tmp_path: Path) -> None:
    path_a, path_b = two_folders(tmp_path)
    gray = (np.random.default_rng(0).random((20, 20)) * 255).astype(np.uint8)
    Image.fromarray(gray, mode="L").save(path_b / "gray.png")
    dm = ready(path_a=str(path_a), path_b=str(path_b), test_fraction=0)
    index = [p.name for p in dm.domain_paths("b", "train")].index("gray.png")
    x = dm.domain_images("b", "train")[index]
    assert x.shape == (3, 16, 16)
    assert torch.equal(x[0], x[1]) and torch.equal(x[1], x[2])
    assert x.std().item() > 0.1
    a, b = next(iter(dm.train_dataloader()))
    assert a.shape == b.shape == (2, 3, 16, 16)


# --- training batches -------------------------------------------------------------------------


def test_batches(tmp_path: Path) -> None:
    dm = ready(path=str(cyclegan_layout(tmp_path / "h2z")))
    batches = list(dm.train_dataloader())
    assert len(batches) == 3  # 7 // 2: the larger domain sets the epoch
    a, b = batches[0]
    assert a.shape == b.shape == (2, 3, 16, 16)
    assert a.dtype == b.dtype == torch.float32
    for x in (a, b):
        assert x.min().item() >= -1.0 and x.max().item() <= 1.0
        assert x[:, 1:].min().item() < -0.5 and x[:, 1:].max().item() > 0.5  # the random texture
    assert set(ids(a, A_BASE)) <= set(range(7)) and set(ids(b, B_BASE)) <= set(range(4))


def test_domains_are_drawn_independently(tmp_path: Path) -> None:
    dm = ready(path=str(cyclegan_layout(tmp_path / "h2z")), batch_size=1)
    dm.shuffle_seed = 3
    loader = dm.train_dataloader()
    epochs = []
    for _ in range(2):
        batches = list(loader)
        dm.batches_seen += len(batches)
        assert len(batches) == 7
        epochs.append(
            (ids(torch.cat([a for a, _ in batches]), A_BASE), ids(torch.cat([b for _, b in batches]), B_BASE))
        )
    (a0, b0), (a1, b1) = epochs
    assert sorted(a0) == sorted(a1) == list(range(7))  # every A image once per loader epoch
    assert a0 != a1  # reshuffled
    b = b0 + b1  # B (4 images) wraps around on its own: a new permutation every 4 positions
    assert sorted(b[0:4]) == sorted(b[4:8]) == sorted(b[8:12]) == list(range(4))
    assert len(set(b[12:14])) == 2
    pairs = dm.train_samples()
    assert [pairs.index(0, p) for p in range(7)] == a0
    assert [pairs.index(1, p) for p in range(14)] == b


def test_training_crops_and_flips_but_test_images_do_not(tmp_path: Path) -> None:
    dm = ready(path=str(cyclegan_layout(tmp_path / "h2z")), batch_size=1)
    pairs, centre = dm.train_samples(), dm.domain_images("a", "train")
    augmented = [not torch.equal(pairs[p][0], centre[pairs.index(0, p)]) for p in range(14)]
    assert any(augmented)
    plain = ready(path=str(cyclegan_layout(tmp_path / "h2z")), batch_size=1, crop=False, flip=False)
    pairs, centre = plain.train_samples(), plain.domain_images("a", "train")
    assert all(torch.equal(pairs[p][0], centre[pairs.index(0, p)]) for p in range(7))


def test_resume_continues_both_orders_crops_and_flips(tmp_path: Path) -> None:
    root = str(cyclegan_layout(tmp_path / "h2z"))
    torch.manual_seed(0)
    first = ready(path=root)  # 3 batches per loader epoch
    first.shuffle_seed = 5
    stream = run(first, 8)
    for _ in range(4):  # into the second loader epoch
        next(stream)
    state = first.state_dict()
    assert state == {"shuffle_seed": 5, "batches_seen": 4}
    expected = list(stream)  # the uninterrupted run's next 4 batches

    torch.manual_seed(123)  # the global RNG plays no part
    resumed = UnpairedDataModule(path=root, image_size=16, batch_size=2, num_workers=1)
    resumed.load_state_dict(state)
    resumed.setup("fit")
    got = list(run(resumed, 4))
    assert len(got) == len(expected) == 4
    for (a1, b1), (a2, b2) in zip(got, expected, strict=True):
        assert torch.equal(a1, a2) and torch.equal(b1, b2)
    other = ready(path=root)
    other.load_state_dict({"shuffle_seed": 6, "batches_seen": 4})
    a, b = next(run(other, 1))
    assert not (torch.equal(a, expected[0][0]) and torch.equal(b, expected[0][1]))


def test_ddp_ranks_take_disjoint_shares(tmp_path: Path) -> None:
    dm = ready(path=str(cyclegan_layout(tmp_path / "h2z")), batch_size=1)
    ranks = [dm.train_samples(rank, 2) for rank in range(2)]
    a_shares = [{pairs.index(0, p) for p in range(3)} for pairs in ranks]  # 7 // 2 = 3 per rank and epoch
    b_shares = [{pairs.index(1, p) for p in range(2)} for pairs in ranks]
    assert len(a_shares[0]) == len(a_shares[1]) == 3 and not a_shares[0] & a_shares[1]
    assert len(b_shares[0]) == len(b_shares[1]) == 2 and not b_shares[0] & b_shares[1]
    dm.trainer = SimpleNamespace(global_rank=1, world_size=2)
    loader = dm.train_dataloader()
    assert len(loader) == 3
    assert ids(torch.cat([a for a, _ in loader]), A_BASE) == [ranks[1].index(0, p) for p in range(3)]


def test_cache_gives_the_same_images(tmp_path: Path) -> None:
    root = str(cyclegan_layout(tmp_path / "h2z"))
    plain = ready(path=root)
    cached = ready(path=root, root=tmp_path / "data", cache=True)
    plain.shuffle_seed = cached.shuffle_seed = 2
    for (a1, b1), (a2, b2) in zip(plain.train_dataloader(), cached.train_dataloader(), strict=True):
        assert torch.equal(a1, a2) and torch.equal(b1, b2)
    assert torch.equal(plain.domain_images("b", "test")[2], cached.domain_images("b", "test")[2])
    assert len(list((tmp_path / "data" / "image_cache").glob("*.pt"))) == 3  # made when first read


# --- bad input --------------------------------------------------------------------------------


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFoundError, match="nowhere.*trainA/"):
        UnpairedDataModule(path=str(tmp_path / "nowhere"))


def test_missing_domain_folder(tmp_path: Path) -> None:
    make_domain(tmp_path / "h2z" / "trainA", 3, A_BASE)
    expected = r"no trainB/ folder \(sub-folders found: trainA\).*path_a"
    with pytest.raises(DatasetNotFoundError, match=expected):
        UnpairedDataModule(path=str(tmp_path / "h2z"))


def test_empty_domain_folder(tmp_path: Path) -> None:
    root = cyclegan_layout(tmp_path / "h2z", tests=False)
    for file in (root / "trainA").iterdir():
        file.unlink()
    (root / "trainA" / "notes.txt").write_text("no pictures")
    with pytest.raises(ConfigError, match="Domain A folder '.*trainA' holds no images"):
        UnpairedDataModule(path=str(root))


def test_path_and_two_folders_exclude_each_other(tmp_path: Path) -> None:
    path_a, path_b = two_folders(tmp_path)
    with pytest.raises(ConfigError, match="Both data.path="):
        UnpairedDataModule(path=str(tmp_path), path_a=str(path_a), path_b=str(path_b))
    with pytest.raises(ConfigError, match="data.path_a is given but data.path_b is not"):
        UnpairedDataModule(path_a=str(path_a))
    with pytest.raises(ConfigError, match="data.path_b is given but data.path_a is not"):
        UnpairedDataModule(path_b=str(path_b))
    with pytest.raises(DatasetNotFoundError, match="'.*zebraz' \\(data.path_b\\) does not exist"):
        UnpairedDataModule(path_a=str(path_a), path_b=str(tmp_path / "zebraz"))


def test_bad_sizes(tmp_path: Path) -> None:
    root = str(cyclegan_layout(tmp_path / "h2z"))
    with pytest.raises(ConfigError, match="image_size must be positive"):
        UnpairedDataModule(path=root, image_size=0)
    with pytest.raises(ConfigError, match="load_size=12 is smaller than data.image_size=16"):
        UnpairedDataModule(path=root, image_size=16, load_size=12)
    with pytest.raises(ConfigError, match="test_fraction"):
        UnpairedDataModule(path=root, test_fraction=1.0)
    with pytest.raises(ConfigError, match="7 training images, fewer than data.batch_size=8"):
        UnpairedDataModule(path=root, image_size=16, batch_size=8)
    assert [default_load_size(s) for s in (16, 64, 128, 256)] == [18, 72, 143, 286]


def test_broken_file_is_named_or_skipped(tmp_path: Path) -> None:
    root = cyclegan_layout(tmp_path / "h2z")
    write_truncated(root / "trainB" / "cut.png")
    with pytest.raises(ConfigError, match=r"(?s)trainB.*cut\.png \(truncated\).*skip_broken"):
        UnpairedDataModule(path=str(root), image_size=16)
    dm = ready(path=str(root), skip_broken=True)
    assert dm.domain_sizes() == (7, 4)
    assert "cut.png" not in [p.name for p in dm.domain_paths("b", "train")]


# --- the config and the real data -------------------------------------------------------------


# --- labels: class sub-folders with the same names in both domains -----------------------------------


def folder_labels(dm: UnpairedDataModule, domain: str, split: str) -> list[int]:
    """The label each image should have: the index of its class folder's name."""
    return [dm.domain_classes.index(p.parent.name) for p in dm.domain_paths(domain, split)]


def test_class_sub_folders_with_the_same_names_label_both_domains(labelled_domains):
    dm = ready(path=str(labelled_domains))
    assert dm.domain_classes == list(SHAPES) and dm.unlabelled_because == ""
    for domain in "ab":
        for split, n in (("train", 6), ("test", 4)):
            labels = dm.domain_labels(domain, split)
            assert labels.dtype == torch.long and len(labels) == len(dm.domain_images(domain, split)) == 3 * n
            assert labels.tolist() == folder_labels(dm, domain, split)
    assert dm.domain_labels("b", "test").tolist() == [0] * 4 + [1] * 4 + [2] * 4


def test_two_labelled_folders_keep_the_labels_of_their_held_out_images(labelled_domains):
    dm = ready(path_a=str(labelled_domains / "trainA"), path_b=str(labelled_domains / "trainB"))
    assert dm.domain_classes == list(SHAPES) and dm.domain_sizes("test") == (2, 2)  # 10% of 18
    for domain in "ab":
        for split in ("train", "test"):
            assert dm.domain_labels(domain, split).tolist() == folder_labels(dm, domain, split)


def test_class_names_that_differ_between_the_domains_leave_them_unlabelled(tmp_path, caplog):
    root = make_labelled_domains(tmp_path / "shapes", names_b=("cross", "circle", "square"))
    with caplog.at_level(logging.WARNING, logger="gan_lightning.data.unpaired"):
        dm = ready(path=str(root))
    assert dm.domain_classes is None and dm.domain_labels("a", "test") is None
    assert "only in A: disc; only in B: circle" in dm.unlabelled_because
    assert "read as unlabelled" in caplog.text


def test_loose_files_flat_folders_and_a_single_folder_are_unlabelled(tmp_path, labelled_domains):
    loose = labelled_domains / "testB" / "stray.png"
    shutil.copy(next((labelled_domains / "testB" / "disc").glob("*.png")), loose)
    dm = ready(path=str(labelled_domains))
    assert dm.domain_classes is None and f"'{loose}' is not in a class sub-folder" in dm.unlabelled_because
    assert ready(path=str(cyclegan_layout(tmp_path / "flat"))).domain_classes is None
    one = tmp_path / "one"
    for name in ("trainA", "trainB"):
        make_domain(one / name / "faces", 3, A_BASE)
    dm = ready(path=str(one), test_fraction=0.0)
    assert dm.domain_classes is None and "one sub-folder ('faces')" in dm.unlabelled_because


def test_config_builds_the_datamodule(compose_cfg, tmp_path: Path) -> None:
    root = cyclegan_layout(tmp_path / "h2z")
    cfg = compose_cfg("data=unpaired", f"data.path={root}", "data.image_size=16")
    assert cfg.data.batch_size == 1 and cfg.data.crop and cfg.data.flip
    dm = build(cfg.data)
    assert isinstance(dm, UnpairedDataModule)
    assert dm.domain_sizes() == (7, 4) and dm.load_size == 18 and dm.batch_size == 1


def _shared_horse2zebra() -> Path | None:
    for base in (os.environ.get("GAN_DATA_DIR"), SHARED_DATASETS):
        if base and (Path(base) / "horse2zebra-128" / "trainA").is_dir():
            return Path(base) / "horse2zebra-128"
    return None


@pytest.mark.skipif(_shared_horse2zebra() is None, reason="horse2zebra-128 is not on this machine")
def test_real_horse2zebra() -> None:
    root = _shared_horse2zebra()
    counts = {name: len(find_images(root / name)) for name in ("trainA", "trainB", "testA", "testB")}
    dm = ready(path=str(root), image_size=64, batch_size=4)
    assert dm.domain_sizes("train") == (counts["trainA"], counts["trainB"])  # 1,067 and 1,334
    assert dm.domain_sizes("test") == (counts["testA"], counts["testB"])  # 120 and 140
    a, b = next(iter(dm.train_dataloader()))
    assert a.shape == b.shape == (4, 3, 64, 64)
    assert a.min().item() >= -1.0 and b.max().item() <= 1.0
    assert len(dm.train_dataloader()) == counts["trainB"] // 4  # the larger domain sets the epoch
    assert dm.domain_images("a", "test")[0].shape == (3, 64, 64)
