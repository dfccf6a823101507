"""The first run on a labelled dataset measures itself: a missing classifier is trained before the
run (and before ``evaluate``), reused afterwards, and training it does not change the run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch.utils.data import DataLoader

from gan_lightning.data import FashionMNISTDataModule, MNISTDataModule
from gan_lightning.evaluate import main as evaluate_main
from gan_lightning.files import CACHE_ENV
from gan_lightning.metrics import classifier_training
from gan_lightning.metrics.classifier_net import classifier_path, load_classifier
from gan_lightning.train import train
from tests.eval_helpers import run_main, tiny_checkpoint, tiny_data_root
from tests.helpers import QUICK, read_events

METRICS = (
    "metrics.train_classifier=true", "metrics.every_n_steps=0", "metrics.n_samples=32",
    "metrics.kid_subset_size=16", "metrics.batch_size=16", "metrics.metrics=[fid,kid]",
)  # fmt: skip


def all_weights(out: Path) -> dict[str, torch.Tensor]:
    return torch.load(out / "checkpoints" / "last.ckpt", weights_only=False)["state_dict"]


def test_first_run_trains_the_classifier_and_the_next_reuses_it(
    compose_cfg, mnist_root, tmp_path, monkeypatch
):
    first = tmp_path / "first"  # model=gan: its D's dropout draws from the global random streams
    train(compose_cfg(*QUICK, *METRICS, "model=gan", "seed=0", f"data.root={mnist_root}", out=first), first)
    path = classifier_path(mnist_root, "mnist")
    _, meta = load_classifier(path)
    assert meta["dataset"] == "mnist" and 0.0 <= meta["test_accuracy"] <= 1.0
    assert "val/fid" in read_events(first / "tensorboard").Tags()["scalars"]

    def must_not_train(*args, **kwargs):
        raise AssertionError("the classifier exists: it must not be trained again")

    monkeypatch.setattr(classifier_training, "fit_classifier", must_not_train)
    second = tmp_path / "second"
    evaluated = (*METRICS, "metrics.every_n_steps=2", "callbacks.sample_grid.every_n_steps=3", "model=gan")
    train(compose_cfg(*QUICK, *evaluated, "seed=0", f"data.root={mnist_root}", out=second), second)
    # Training the classifier and the real features first (the first run), or evaluating and drawing
    # grids in the middle of training (the second) left the run's random streams alone (the MLP D's
    # dropout draws from them): same seed, same weights.
    first_weights, second_weights = all_weights(first), all_weights(second)
    assert any(name.startswith("discriminator.") for name in first_weights)
    assert all(torch.equal(first_weights[k], second_weights[k]) for k in first_weights)


def test_switched_off_it_warns_with_the_command(compose_cfg, mnist_root, caplog):
    cfg = compose_cfg(*QUICK, *METRICS, "metrics.train_classifier=false", f"data.root={mnist_root}")
    train(cfg, Path(cfg.paths.output_dir))
    assert not classifier_path(mnist_root, "mnist").exists()
    assert "python -m gan_lightning.classifier data=mnist" in caplog.text


def test_evaluate_trains_a_missing_classifier(tmp_path_factory, tmp_path, capsys, monkeypatch):
    ckpt = tiny_checkpoint("dcgan", tmp_path_factory)
    root = tiny_data_root(tmp_path_factory)
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    code, out, err = run_main(
        evaluate_main, capsys, f"ckpt={ckpt}", "device=cpu", "n=32", "kid_subset_size=16", f"data_root={root}"
    )
    assert code == 0, err
    assert json.loads(out.strip().splitlines()[-1])["fid"] > 0
    assert (tmp_path / "cache" / "classifiers" / "mnist.pt").is_file()


def test_first_run_on_an_unlabelled_folder_trains_a_rotation_net(compose_cfg, tmp_path):
    from tests.conftest import make_image_folder

    folder = make_image_folder(tmp_path / "faces", classes=(), per_class=24)
    cfg = compose_cfg(
        *QUICK, *METRICS, "model=dcgan", "data=image_folder", f"data.path={folder}", f"data.root={tmp_path}",
        "data.image_size=16", "data.batch_size=8",
    )  # fmt: skip
    out = Path(cfg.paths.output_dir)
    train(cfg, out)
    nets = list((tmp_path / "feature_nets").glob("image_folder-*-rotation.pt"))
    assert len(nets) == 1
    assert {"val/fid", "val/kid"} <= set(read_events(out / "tensorboard").Tags()["scalars"])


@pytest.mark.parametrize("module", [MNISTDataModule, FashionMNISTDataModule])
@pytest.mark.parametrize("classes", [None, [1, 3]])
def test_split_tensors_are_the_transformed_samples(mnist_root, module, classes):
    """The training set as one tensor: torchvision's pixel array converted at once gives what the
    per-sample transform gives, bit for bit (and a subset of classes goes through the transform)."""
    dataset = module(root=mnist_root, classes=classes).load_split("train")
    x, y = classifier_training.split_tensors(dataset)
    expected_x, expected_y = next(iter(DataLoader(dataset, batch_size=len(dataset))))
    assert x.dtype == torch.float32 and y.dtype == torch.long
    assert torch.equal(x, expected_x) and torch.equal(y, expected_y)
