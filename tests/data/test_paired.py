"""Paired datamodule (pix2pix: A/ B/ folders matched by name, or sources derived from images) on tiny
PNG folders, and :func:`derive_source` on images known by hand."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf
from PIL import Image

from gan_lightning.config import build, check_model_data
from gan_lightning.data import PairedDataModule
from gan_lightning.data.derive import derive_source, luma
from gan_lightning.errors import ConfigError, DatasetNotFoundError
from tests.conftest import SHARED_DATASETS
from tests.data.folders import write_truncated

BASE, STEP = 10, 15  # target i has red level 10 + 15 i: its identity, unchanged by resize, crop and flip


def target_pixels(i: int, size: tuple[int, int] = (20, 20), seed: int = 0) -> np.ndarray:
    """(H, W, 3) uint8: red flat at ``BASE + STEP * i``, green and blue random texture (so that any
    difference in crop or flip between two images shows)."""
    width, height = size
    pixels = (np.random.default_rng(seed * 1000 + i).random((height, width, 3)) * 255).astype(np.uint8)
    pixels[..., 0] = (BASE + STEP * i) % 256
    return pixels


def make_pairs(
    root: Path, n: int, a: str = "A", b: str = "B", seed: int = 0, ext_b: str = ".png", names=None
) -> Path:
    """``root/a/<name>.png`` and ``root/b/<name><ext_b>``: each source is its target with the colour
    channels reversed (BGR), an exact function of the target through any resize, crop and flip."""
    names = names or [f"{i:04d}" for i in range(n)]
    for i, name in enumerate(names):
        pixels = target_pixels(i, seed=seed)
        for folder, image, ext in ((a, pixels[..., ::-1], ".png"), (b, pixels, ext_b)):
            path = root / folder / f"{name}{ext}"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(np.ascontiguousarray(image)).save(path, quality=95)
    return root


def make_images(folder: Path, n: int) -> Path:
    """A plain folder of ``n`` target images (for ``derive``), one in a sub-folder."""
    for i in range(n):
        path = folder / ("sub" if i == 0 else "") / f"img_{i:02d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(target_pixels(i, seed=7)).save(path)
    return folder


def ids(targets: torch.Tensor) -> list[int]:
    """Which target each of ``targets`` (N, 3, S, S) is, from its flat red channel."""
    red = ((targets[:, 0].mean(dim=(1, 2)) + 1) * 127.5).round().long()
    return ((red - BASE) // STEP).tolist()


def ready(**kwargs) -> PairedDataModule:
    kwargs.setdefault("image_size", 16)
    kwargs.setdefault("batch_size", 2)
    dm = PairedDataModule(**kwargs)
    dm.setup("fit")
    return dm


def run(dm: PairedDataModule, n: int):
    """The next ``n`` training batches as Lightning fetches them (epoch after epoch), counting
    ``batches_seen`` as ``on_after_batch_transfer`` does in training."""
    loader = dm.train_dataloader()
    while True:  # each pass starts where the run is (batches_seen)
        for batch in loader:
            dm.batches_seen += 1
            yield batch
            n -= 1
            if n == 0:
                return


# --- where the pairs come from ----------------------------------------------------------------


def test_folders_pair_by_name(tmp_path: Path) -> None:
    root = make_pairs(tmp_path / "facades", 6, ext_b=".jpg", names=["0001", "0002", "x/0003", "a", "b", "c"])
    dm = ready(path=str(root), test_fraction=0)
    assert dm.name == "paired" and dm.data_kind == "paired" and dm.is_image and dm.num_classes is None
    assert dm.derive is None and dm.splits == ("train",)
    assert dm.data_shape == dm.source_shape == (3, 16, 16)
    assert dm.load_size == 18
    pairs = dm.pair_paths("train")
    assert [(a.relative_to(root).as_posix(), b.relative_to(root).as_posix()) for a, b in pairs] == [
        ("A/0001.png", "B/0001.jpg"),
        ("A/0002.png", "B/0002.jpg"),
        ("A/a.png", "B/a.jpg"),
        ("A/b.png", "B/b.jpg"),
        ("A/c.png", "B/c.jpg"),
        ("A/x/0003.png", "B/x/0003.jpg"),
    ]
    assert dm.source == f"folders:{(root / 'A').resolve()}|{(root / 'B').resolve()}"
    assert dm.stats_name.startswith("paired-") and dm.stats_name.endswith("-16px")
    assert dm.stats_name == ready(path=str(root), test_fraction=0).stats_name
    assert dm.stats_name != ready(path=str(root), test_fraction=0, image_size=12).stats_name
    source, target = dm.pair_images("train")[2]
    assert source.shape == target.shape == (3, 16, 16)
    assert ids(target[None]) == [3]  # a.jpg is the 4th file written: target_pixels(3)
    x, y = dm.load_split("train")[2]  # generic code gets the targets
    assert torch.equal(x, target) and y == -1


def test_train_test_layout(tmp_path: Path) -> None:
    root = make_pairs(tmp_path / "maps", 5, a="trainA", b="trainB")
    make_pairs(root, 3, a="testA", b="testB", seed=1)
    dm = ready(path=str(root))
    assert dm.splits == ("train", "test")
    assert dm.num_pairs("train") == 5 and dm.num_pairs("test") == 3
    assert {b.parent.name for _, b in dm.pair_paths("test")} == {"testB"}
    source, target = dm.pair_images("test")[1]
    assert torch.equal(source, target.flip(0))  # centre crop of both, no flip
    inputs = dm.grid_inputs(8, torch.Generator().manual_seed(0))  # only 3 test pairs
    assert inputs["source"].shape == inputs["target"].shape == (3, 3, 16, 16)
    assert torch.equal(inputs["source"], inputs["target"].flip(1))
    again = dm.grid_inputs(2, torch.Generator().manual_seed(0))
    assert again["target"].shape == (2, 3, 16, 16)


def test_held_out_split_is_fixed(tmp_path: Path) -> None:
    root = str(make_pairs(tmp_path / "p", 20))
    splits = []
    for seed in (1, 2):
        torch.manual_seed(seed)
        dm = ready(path=root)
        splits.append((dm.pair_paths("train"), dm.pair_paths("test")))
    assert splits[0] == splits[1]
    train, test = splits[0]
    assert len(train) == 18 and len(test) == 2 and not set(train) & set(test)
    assert sorted(train + test) == sorted(ready(path=root, test_fraction=0).pair_paths("train"))
    whole = ready(path=root, test_fraction=0)
    assert whole.splits == ("train",)
    with pytest.raises(ConfigError, match="no 'test' split"):
        whole.pair_images("test")
    assert whole.grid_inputs(4, torch.Generator().manual_seed(0))["source"].shape == (4, 3, 16, 16)


def test_derived_pairs(tmp_path: Path) -> None:
    folder = make_images(tmp_path / "photos", 10)
    dm = ready(path=str(folder), derive="grayscale")
    assert dm.derive == "grayscale" and dm.data_kind == "paired"
    assert dm.data_shape == (3, 16, 16) and dm.source_shape == (1, 16, 16)
    assert dm.num_pairs("train") == 9 and dm.num_pairs("test") == 1
    assert [a for a, _ in dm.pair_paths("train")] == [None] * 9
    assert dm.source == f"folder:{folder.resolve()}|derive=grayscale"
    edges = ready(path=str(folder), derive="edges")
    assert edges.stats_name != dm.stats_name and edges.source_shape == (1, 16, 16)
    for module in (dm, edges):
        source, target = module.pair_images("test")[0]
        assert source.shape == (1, 16, 16) and target.shape == (3, 16, 16)
        assert torch.equal(source, derive_source(target[None], module.derive)[0])
        a, b = next(iter(module.train_dataloader()))
        assert a.shape == (2, 1, 16, 16) and b.shape == (2, 3, 16, 16)
        assert a.min().item() >= -1 and a.max().item() <= 1
    inputs = edges.grid_inputs(1, torch.Generator().manual_seed(0))
    assert inputs["source"].shape == (1, 1, 16, 16) and set(inputs["source"].unique().tolist()) <= {-1.0, 1.0}


# --- the same jitter on both sides --------------------------------------------------------------


def test_source_and_target_are_cropped_and_flipped_alike(tmp_path: Path) -> None:
    root = str(make_pairs(tmp_path / "p", 6))
    dm = ready(path=root, test_fraction=0)
    dm.shuffle_seed = 4
    centre = dm.pair_images("train")
    jittered = 0
    for source, target in run(dm, 12):  # four loader epochs of 3 batches
        assert torch.equal(source, target.flip(1))  # BGR of the target: the same crop and flip
        for t, i in zip(target, ids(target), strict=True):
            jittered += not torch.equal(t, centre[i][1])
    assert jittered > 12  # crops and flips did happen
    derived = ready(path=str(make_images(tmp_path / "photos", 6)), derive="grayscale", test_fraction=0)
    for source, target in run(derived, 6):
        assert torch.equal(source, luma(target))
    flips = ready(path=root, test_fraction=0, crop=False, batch_size=1)
    centre = flips.pair_images("train")
    seen = set()
    pairs = flips.train_samples()
    for p in range(12):
        source, target = pairs[p]
        plain = centre[pairs.index(p)][1]
        flipped = torch.equal(target, plain.flip(-1))
        assert flipped or torch.equal(target, plain)
        assert torch.equal(source, target.flip(0))
        seen.add(flipped)
    assert seen == {True, False}
    fixed = ready(path=root, test_fraction=0, crop=False, flip=False)
    pairs, centre = fixed.train_samples(), fixed.pair_images("train")
    for p in range(6):
        assert all(torch.equal(x, y) for x, y in zip(pairs[p], centre[pairs.index(p)], strict=True))


def test_every_pair_once_per_epoch(tmp_path: Path) -> None:
    dm = ready(path=str(make_pairs(tmp_path / "p", 7)), batch_size=1, test_fraction=0)
    dm.shuffle_seed = 3
    loader = dm.train_dataloader()
    epochs = []
    for _ in range(2):
        batches = list(loader)
        dm.batches_seen += len(batches)
        epochs.append(ids(torch.cat([target for _, target in batches])))
    assert sorted(epochs[0]) == sorted(epochs[1]) == list(range(7)) and epochs[0] != epochs[1]


# --- order and resume -------------------------------------------------------------------------


def test_resume_continues_the_order_crops_and_flips(tmp_path: Path) -> None:
    root = str(make_pairs(tmp_path / "p", 8))  # 7 training pairs: 3 batches of 2 per loader epoch
    torch.manual_seed(0)
    first = ready(path=root)
    first.shuffle_seed = 5
    stream = run(first, 8)
    for _ in range(4):  # into the second loader epoch
        next(stream)
    state = first.state_dict()
    assert state == {"shuffle_seed": 5, "batches_seen": 4}
    expected = list(stream)

    torch.manual_seed(123)  # the global RNG plays no part
    resumed = PairedDataModule(path=root, image_size=16, batch_size=2, num_workers=1)
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
    dm = ready(path=str(make_pairs(tmp_path / "p", 7)), batch_size=1, test_fraction=0)
    ranks = [dm.train_samples(rank, 2) for rank in range(2)]
    shares = [{pairs.index(p) for p in range(3)} for pairs in ranks]  # 7 // 2 = 3 per rank and epoch
    assert len(shares[0]) == len(shares[1]) == 3 and not shares[0] & shares[1]
    dm.trainer = SimpleNamespace(global_rank=1, world_size=2)
    loader = dm.train_dataloader()
    assert len(loader) == 3
    assert ids(torch.cat([b for _, b in loader])) == [ranks[1].index(p) for p in range(3)]


def test_cache_gives_the_same_pairs(tmp_path: Path) -> None:
    root = str(make_pairs(tmp_path / "p", 5))
    plain = ready(path=root)
    cached = ready(path=root, root=tmp_path / "data", cache=True)
    plain.shuffle_seed = cached.shuffle_seed = 2
    for (a1, b1), (a2, b2) in zip(plain.train_dataloader(), cached.train_dataloader(), strict=True):
        assert torch.equal(a1, a2) and torch.equal(b1, b2)
    assert len(list((tmp_path / "data" / "image_cache").glob("*.pt"))) == 2  # A and B


# --- derive_source by hand --------------------------------------------------------------------


def test_grayscale_is_the_luma() -> None:
    red, green, blue, some = [1, -1, -1], [-1, 1, -1], [-1, -1, 1], [0.5, 0, -0.5]
    colours = torch.tensor([red, green, blue, [1, 1, 1], [-1, -1, -1], some], dtype=torch.float32)
    images = colours.view(6, 3, 1, 1).expand(6, 3, 4, 4)
    gray = derive_source(images, "grayscale")
    assert gray.shape == (6, 1, 4, 4)
    # Y = 0.299 R + 0.587 G + 0.114 B; the weights sum to 1, so [-1, 1] stays [-1, 1]
    expected = [-0.402, 0.174, -0.772, 1.0, -1.0, 0.0925]  # e.g. red: 0.299 - 0.587 - 0.114
    assert torch.allclose(gray[:, 0, 0, 0], torch.tensor(expected), atol=1e-6)
    assert torch.equal(gray, gray[:, :, :1, :1].expand(6, 1, 4, 4))


def test_edges_of_a_white_square_on_black() -> None:
    image = -torch.ones(1, 3, 32, 32)
    image[..., 8:24, 8:24] = 1.0  # its border lies between pixels 7|8 and 23|24
    edges = derive_source(image, "edges")
    assert edges.shape == (1, 1, 32, 32) and edges.dtype == torch.float32
    assert set(edges.unique().tolist()) == {-1.0, 1.0}  # dark lines on white
    lines = edges[0, 0] < 0
    near = torch.zeros(32, 32, dtype=torch.bool)  # within a pixel of the square's border
    near[6:26, 6:26] = True
    near[10:22, 10:22] = False
    assert not (lines & ~near).any()  # white elsewhere: inside and outside the square
    for i in range(9, 23):  # every row and column crosses the outline on both sides
        assert lines[i, 6:10].any() and lines[i, 22:26].any()
        assert lines[6:10, i].any() and lines[22:26, i].any()
    assert lines.sum() < 4 * 20  # thin lines, not bands
    flat = derive_source(torch.full((2, 3, 16, 16), 0.3), "edges")
    assert torch.equal(flat, torch.ones(2, 1, 16, 16))  # nothing to draw: all white
    batch = torch.cat([image, torch.rand(1, 3, 32, 32) * 2 - 1])
    assert torch.equal(derive_source(batch, "edges")[:1], edges)  # each image on its own
    assert torch.equal(derive_source(image, "edges"), edges)  # deterministic


def test_derive_source_refuses_bad_input() -> None:
    with pytest.raises(ConfigError, match="data.derive='sketch' is not a known derivation.*edges, grayscale"):
        derive_source(torch.zeros(1, 3, 8, 8), "sketch")
    with pytest.raises(ValueError, match=r"RGB images \(N, 3, H, W\), got shape \(1, 1, 8, 8\)"):
        derive_source(torch.zeros(1, 1, 8, 8), "edges")


# --- bad input --------------------------------------------------------------------------------


def test_missing_folder(tmp_path: Path) -> None:
    expected = r"Paired data folder '.*nowhere' does not exist.*A/.*derive"
    with pytest.raises(DatasetNotFoundError, match=expected):
        PairedDataModule(path=str(tmp_path / "nowhere"))
    with pytest.raises(DatasetNotFoundError, match=r"Image folder '.*nowhere' does not exist"):
        PairedDataModule(path=str(tmp_path / "nowhere"), derive="edges")


def test_folder_without_the_layout(tmp_path: Path) -> None:
    (tmp_path / "p" / "photos").mkdir(parents=True)
    expected = r"has no A/ and B/ folders \(sub-folders found: photos\).*data.derive=edges"
    with pytest.raises(DatasetNotFoundError, match=expected):
        PairedDataModule(path=str(tmp_path / "p"))
    make_images(tmp_path / "q" / "A", 2)
    with pytest.raises(DatasetNotFoundError, match="has A/ but no B/ folder"):
        PairedDataModule(path=str(tmp_path / "q"))
    make_images(tmp_path / "r" / "trainB", 2)
    with pytest.raises(DatasetNotFoundError, match="has trainB/ but no trainA/ folder"):
        PairedDataModule(path=str(tmp_path / "r"))


def test_empty_folders(tmp_path: Path) -> None:
    root = make_pairs(tmp_path / "p", 3)
    for file in (root / "B").iterdir():
        file.unlink()
    (root / "B" / "notes.txt").write_text("no pictures")
    with pytest.raises(ConfigError, match="Target folder '.*B' holds no images"):
        PairedDataModule(path=str(root))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="Image folder '.*empty' holds no images.*derive=grayscale"):
        PairedDataModule(path=str(tmp_path / "empty"), derive="grayscale")


def test_names_that_do_not_match(tmp_path: Path) -> None:
    root = make_pairs(tmp_path / "p", 4)
    for name in ("x1", "x2", "x3", "x4", "x5", "x6"):
        Image.fromarray(target_pixels(0)).save(root / "A" / f"{name}.png")
    Image.fromarray(target_pixels(0)).save(root / "B" / "lonely.jpg")
    expected = (
        r"do not match: 6 of the 10 files in A/ have no partner in B/ "
        r"\(x1, x2, x3, x4, x5, \.\.\. \(1 more\)\); "
        r"1 of the 5 files in B/ have no partner in A/ \(lonely\)\. Pairs are matched by file name"
    )
    with pytest.raises(ConfigError, match=expected):
        PairedDataModule(path=str(root))
    Image.fromarray(target_pixels(0)).save(root / "B" / "0001.jpg")
    with pytest.raises(ConfigError, match="holds two files named 0001: 0001.jpg and 0001.png"):
        PairedDataModule(path=str(root))


def test_pair_of_different_sizes(tmp_path: Path) -> None:
    root = make_pairs(tmp_path / "p", 4)
    Image.fromarray(target_pixels(1, size=(30, 20))).save(root / "B" / "0001.png")
    Image.fromarray(target_pixels(3, size=(20, 24))).save(root / "B" / "0003.png")
    expected = (
        r"2 of the 4 pairs have images of different sizes; the first: "
        r"A/0001.png is 20x20 but B/0001.png is 30x20"
    )
    with pytest.raises(ConfigError, match=expected):
        PairedDataModule(path=str(root))


def test_derive_options(tmp_path: Path) -> None:
    root = make_pairs(tmp_path / "p", 4)
    with pytest.raises(ConfigError, match="data.derive='canny' is not a known derivation"):
        PairedDataModule(path=str(root), derive="canny")
    expected = "data.derive=edges derives the sources from images, but .* A/ and B/"
    with pytest.raises(ConfigError, match=expected):
        PairedDataModule(path=str(root), derive="edges")


def test_test_folders_come_in_pairs(tmp_path: Path) -> None:
    root = make_pairs(tmp_path / "p", 4)
    make_images(root / "testA", 2)
    with pytest.raises(ConfigError, match="test images in testA/ but none in testB/"):
        PairedDataModule(path=str(root))


def test_broken_file_is_named_or_its_pair_skipped(tmp_path: Path) -> None:
    root = make_pairs(tmp_path / "p", 5)
    write_truncated(root / "A" / "0002.png", size=20)
    with pytest.raises(ConfigError, match=r"(?s)A'.*0002\.png \(truncated\).*skip_broken"):
        PairedDataModule(path=str(root), image_size=16)
    dm = ready(path=str(root), skip_broken=True, test_fraction=0)
    assert [b.stem for _, b in dm.pair_paths("train")] == ["0000", "0001", "0003", "0004"]
    source, target = dm.pair_images("train")[2]
    assert torch.equal(source, target.flip(0)) and ids(target[None]) == [3]
    photos = make_images(tmp_path / "photos", 4)
    write_truncated(photos / "cut.png")
    with pytest.raises(ConfigError, match=r"cut\.png \(truncated\)"):
        PairedDataModule(path=str(photos), derive="edges")
    assert ready(path=str(photos), derive="edges", skip_broken=True, test_fraction=0).num_pairs() == 4


def test_bad_options(tmp_path: Path) -> None:
    root = str(make_pairs(tmp_path / "p", 4))
    with pytest.raises(ConfigError, match="image_size must be positive"):
        PairedDataModule(path=root, image_size=0)
    with pytest.raises(ConfigError, match="load_size=12 is smaller than data.image_size=16"):
        PairedDataModule(path=root, image_size=16, load_size=12)
    with pytest.raises(ConfigError, match="test_fraction"):
        PairedDataModule(path=root, test_fraction=1.0)
    with pytest.raises(ConfigError, match="3 training pairs, fewer than data.batch_size=4"):
        PairedDataModule(path=root, batch_size=4)
    with pytest.raises(ConfigError, match="data.classes=null"):
        PairedDataModule(path=root, classes=[0])
    with pytest.raises(ConfigError, match="data.subset=null"):
        PairedDataModule(path=root, subset=2)
    with pytest.raises(ConfigError, match="data.on_device=false"):
        PairedDataModule(path=root, on_device=True, num_workers=0)
    single = make_images(tmp_path / "one", 1)
    with pytest.raises(ConfigError, match=r"too few readable pairs \(1\) to hold out a test split"):
        PairedDataModule(path=str(single), derive="edges", batch_size=1)


# --- the config, the model check and the real data ---------------------------------------------


class PairedFamily:
    """Stands for pix2pix in :func:`check_model_data`."""

    data_kind = "paired"


def test_model_and_data_kinds_must_match(tmp_path: Path) -> None:
    paired = ready(path=str(make_pairs(tmp_path / "p", 4)))
    unpaired = SimpleNamespace(name="unpaired", data_kind="two_domains")
    samples = SimpleNamespace(name="mnist", data_kind="samples")
    pix2pix = OmegaConf.create({"_target_": f"{__name__}.PairedFamily"})
    noise = OmegaConf.create({"_target_": "gan_lightning.models.GAN"})
    cyclegan = OmegaConf.create({"_target_": "gan_lightning.models.UnpairedTranslation"})
    check_model_data(pix2pix, paired)
    with pytest.raises(ConfigError, match="PairedFamily translates paired images .* 'mnist' .*data=paired"):
        check_model_data(pix2pix, samples)
    with pytest.raises(ConfigError, match="PairedFamily learns from aligned .* data=unpaired gives"):
        check_model_data(pix2pix, unpaired)
    with pytest.raises(ConfigError, match="data=paired gives aligned .*; GAN generates samples from noise"):
        check_model_data(noise, paired)
    expected = "UnpairedTranslation translates between two unpaired .*model=pix2pix"
    with pytest.raises(ConfigError, match=expected):
        check_model_data(cyclegan, paired)


def test_config_builds_the_datamodule(compose_cfg, tmp_path: Path) -> None:
    root = make_pairs(tmp_path / "p", 4)
    cfg = compose_cfg("data=paired", f"data.path={root}", "data.image_size=16")
    assert cfg.data.batch_size == 1 and cfg.data.crop and cfg.data.flip and cfg.data.derive is None
    dm = build(cfg.data)
    assert isinstance(dm, PairedDataModule)
    assert dm.num_pairs() == 3 and dm.load_size == 18 and dm.batch_size == 1


def _shared_anime_faces() -> Path | None:
    for base in (os.environ.get("GAN_DATA_DIR"), SHARED_DATASETS):
        if base and (Path(base) / "anime-faces" / "faces").is_dir():
            return Path(base) / "anime-faces"
    return None


@pytest.mark.skipif(_shared_anime_faces() is None, reason="anime-faces is not on this machine")
def test_real_anime_faces_as_edges() -> None:
    dm = ready(path=str(_shared_anime_faces()), derive="edges", image_size=64, batch_size=4)
    assert dm.num_pairs("train") + dm.num_pairs("test") == 12_000
    assert dm.data_shape == (3, 64, 64) and dm.source_shape == (1, 64, 64) and dm.load_size == 72
    source, target = next(iter(dm.train_dataloader()))
    assert source.shape == (4, 1, 64, 64) and target.shape == (4, 3, 64, 64)
    assert set(source.unique().tolist()) == {-1.0, 1.0}
    assert target.min().item() >= -1 and target.max().item() <= 1
    share = (source < 0).float().mean().item()  # lines, not blank and not black
    assert 0.02 < share < 0.3
    test_source, test_target = dm.pair_images("test")[0]
    assert torch.equal(test_source, derive_source(test_target[None], "edges")[0])
