"""Rotation-prediction features (Gidaris et al. 2018) for unlabelled folders: rotations, training,
features and their cache tag, and the FID sanity property on tiny structured images."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import TensorDataset

from gan_lightning.errors import ConfigError
from gan_lightning.files import file_digest
from gan_lightning.metrics.classifier_net import DatasetClassifier, save_classifier
from gan_lightning.metrics.evaluator import SampleEvaluator
from gan_lightning.metrics.rotation_net import (
    RotationFeatures,
    held_out_split,
    load_or_train_rotation_features,
    load_rotation_features,
    rotate_batch,
    rotation_features_path,
    train_rotation_net,
)

SHAPE = (3, 16, 16)
TRAIN = {"width": 8, "feature_dim": 16, "batch_size": 16, "accelerator": "cpu", "progress": False}


def upright_images(n: int, seed: int = 0) -> torch.Tensor:
    """(n, 3, 16, 16) in [-1, 1] with a clear "up": bright sky fading down, a bright sun in the upper
    half, a dark ground strip at the bottom, random colours and pixel noise."""
    g = torch.Generator().manual_seed(seed)
    rows = torch.linspace(0.6, -0.6, 16).view(1, 1, 16, 1)
    images = rows * (0.5 + torch.rand(n, 3, 1, 1, generator=g)) + 0.1 * torch.randn(n, 3, 16, 16, generator=g)
    images[:, :, 13:] = -0.8
    for i, (r, c) in enumerate(torch.randint(0, 5, (n, 2), generator=g).tolist()):
        images[i, :, 1 + r : 4 + r, 2 + 2 * c : 5 + 2 * c] = 0.9
    return images.clamp(-1, 1)


def unlabelled(images: torch.Tensor) -> TensorDataset:
    return TensorDataset(images, torch.full((len(images),), -1))


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory):
    """A rotation net trained on 128 tiny images (3 epochs), saved: (dataset, net, accuracy, path)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny convolutions: one thread is fastest on a busy CPU
    try:
        dataset = unlabelled(upright_images(128))
        net, accuracy = train_rotation_net(dataset, SHAPE, epochs=3, **TRAIN)
    finally:
        torch.set_num_threads(threads)
    path = save_classifier(net, tmp_path_factory.mktemp("cache") / "net.pt", "tiny-rotation", accuracy)
    return dataset, net, accuracy, path


def test_rotate_batch_gives_the_four_exact_rotations():
    images = torch.randn(5, 3, 6, 6)
    rotated, targets = rotate_batch(images)
    assert rotated.shape == (20, 3, 6, 6)
    assert targets.dtype == torch.long
    assert targets.tolist() == [k for k in range(4) for _ in range(5)]
    for k in range(4):
        for i in range(5):
            assert torch.equal(rotated[5 * k + i], torch.rot90(images[i], k, dims=(1, 2)))
    assert torch.equal(rotated[5:10, :, 0, :], images[:, :, :, -1])  # 90 deg counter-clockwise
    assert torch.equal(rotated[10:15], images.flip(2, 3))
    with pytest.raises(ValueError, match="square"):
        rotate_batch(torch.zeros(1, 3, 4, 6))


def test_held_out_split_is_fixed_disjoint_and_a_tenth():
    train, held = held_out_split(128)
    assert (train, held) == held_out_split(128)
    assert len(held) == 13 and sorted(train + held) == list(range(128))


def test_training_predicts_rotations_above_chance(trained):
    _, net, accuracy, _ = trained
    assert accuracy > 0.6, accuracy  # chance: 0.25
    assert not net.training and not any(p.requires_grad for p in net.parameters())
    assert net.config["num_classes"] == 4 and net.config["in_shape"] == list(SHAPE)


def test_features_shape_tag_and_save_load_round_trip(trained, tmp_path):
    _, net, _, path = trained
    extractor = load_rotation_features(path)
    assert isinstance(extractor, RotationFeatures)
    assert extractor.num_features == 16
    assert extractor.tag == f"rotation-{file_digest(path)}"
    x = upright_images(6, seed=1)
    features = extractor(x)
    assert features.shape == (6, 16)
    assert torch.equal(features, RotationFeatures(net, tag="in-memory")(x))
    torch.manual_seed(1)
    other = save_classifier(DatasetClassifier(SHAPE, 4, width=8, feature_dim=16), tmp_path / "o.pt", "o", 0.3)
    assert load_rotation_features(other).tag != extractor.tag  # the tag follows the weights


def test_larger_images_are_downsampled_to_the_net_size():
    torch.manual_seed(0)
    net = DatasetClassifier((3, 8, 8), 4, width=8, feature_dim=16).eval()
    x = upright_images(4)
    expected = net.features(F.interpolate(x, size=(8, 8), mode="bilinear", antialias=True))
    torch.testing.assert_close(RotationFeatures(net, tag="t")(x), expected)


def test_fid_halves_close_and_grows_with_noise(trained):
    dataset, net, _, _ = trained
    images = dataset.tensors[0]
    extractor = RotationFeatures(net, tag="t")
    evaluator = SampleEvaluator(extractor, extractor(images[:64]), 64, metrics=("fid",))

    def fid(fake: torch.Tensor) -> float:
        evaluator.reset()
        evaluator.update(fake)
        return evaluator.compute()["fid"]

    half_b = images[64:]
    noise = torch.randn(half_b.shape, generator=torch.Generator().manual_seed(0))
    weak, strong = ((half_b + std * noise).clamp(-1, 1) for std in (0.1, 0.8))
    fid_halves, fid_weak, fid_strong = fid(half_b), fid(weak), fid(strong)
    assert 0 <= fid_halves < fid_strong, (fid_halves, fid_strong)
    assert fid_weak < fid_strong, (fid_weak, fid_strong)


def test_load_or_train_trains_once_then_loads(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_CACHE_DIR", str(tmp_path / "cache"))
    path = rotation_features_path(tmp_path / "data", "tiny")
    assert path == tmp_path / "cache" / "feature_nets" / "tiny-rotation.pt"
    dataset = unlabelled(upright_images(40))
    with pytest.raises(ConfigError, match="No rotation feature net"):
        load_rotation_features(path)
    first, meta = load_or_train_rotation_features(dataset, SHAPE, path, "tiny", epochs=1, **TRAIN)
    assert meta["trained_now"] and meta["dataset"] == "tiny-rotation" and 0 <= meta["test_accuracy"] <= 1
    again, meta = load_or_train_rotation_features(dataset, SHAPE, path, "tiny", epochs=1, **TRAIN)
    assert not meta["trained_now"] and again.tag == first.tag
