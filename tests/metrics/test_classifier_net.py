"""The dataset classifier: shapes, where it lives, saving and loading."""

from __future__ import annotations

import pytest
import torch

from gan_lightning.errors import ConfigError
from gan_lightning.metrics.classifier_net import (
    DatasetClassifier,
    classifier_path,
    load_classifier,
    save_classifier,
)


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32)])
def test_logits_and_features_shapes(shape):
    net = DatasetClassifier(shape, num_classes=10).eval()
    x = torch.rand(5, *shape) * 2 - 1
    assert net(x).shape == (5, 10)
    assert net.features(x).shape == (5, 128)
    assert net.config == {
        "in_shape": list(shape), "num_classes": 10, "width": 32, "feature_dim": 128, "stem_stride": 1,
    }  # fmt: skip


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32)])
def test_a_stride_2_stem_keeps_the_shapes_and_the_weights(shape):
    wide, strided = DatasetClassifier(shape, 10), DatasetClassifier(shape, 10, stem_stride=2)
    x = torch.rand(5, *shape) * 2 - 1
    assert strided.eval()(x).shape == (5, 10) and strided.features(x).shape == (5, 128)
    assert strided.config["stem_stride"] == 2
    assert {k: v.shape for k, v in wide.state_dict().items()} == {
        k: v.shape for k, v in strided.state_dict().items()
    }  # the same tensors: only the config tells the two apart


def test_files_without_a_stem_stride_load_as_stride_1(tmp_path):
    net = DatasetClassifier((1, 28, 28), num_classes=10, width=8, feature_dim=16).eval()
    path = save_classifier(net, tmp_path / "mnist.pt", "mnist", 0.5)
    payload = torch.load(path, weights_only=True)
    del payload["config"]["stem_stride"]  # as written before the option existed
    torch.save(payload, path)
    loaded, _ = load_classifier(path)
    x = torch.randn(3, 1, 28, 28)
    assert loaded.config["stem_stride"] == 1
    torch.testing.assert_close(loaded(x), net(x), rtol=0, atol=0)


def test_stem_stride_must_be_1_or_2():
    with pytest.raises(ConfigError, match="stem_stride must be 1 or 2"):
        DatasetClassifier((1, 28, 28), num_classes=10, stem_stride=3)


def test_feature_dim_and_classes_follow_the_config():
    net = DatasetClassifier((1, 28, 28), num_classes=4, width=8, feature_dim=16).eval()
    x = torch.zeros(2, 1, 28, 28)
    assert net(x).shape == (2, 4) and net.features(x).shape == (2, 16)


def test_save_and_load_round_trip(tmp_path):
    torch.manual_seed(0)
    net = DatasetClassifier((1, 28, 28), num_classes=10, width=8, feature_dim=16)
    net.train()(torch.randn(8, 1, 28, 28))  # move the BatchNorm running statistics off their defaults
    net.eval()
    path = tmp_path / "classifiers" / "mnist.pt"
    assert save_classifier(net, path, "mnist", 0.875) == path
    assert sorted(p.name for p in path.parent.iterdir()) == ["mnist.pt"]  # no temporary file left
    loaded, meta = load_classifier(path, "mnist")
    assert meta == {"config": net.config, "dataset": "mnist", "test_accuracy": 0.875}
    assert not loaded.training and not any(p.requires_grad for p in loaded.parameters())
    for key, value in net.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key
    x = torch.randn(3, 1, 28, 28)
    torch.testing.assert_close(loaded(x), net(x), rtol=0, atol=0)


def test_saving_again_replaces_the_file(tmp_path):
    path = tmp_path / "mnist.pt"
    net = DatasetClassifier((1, 28, 28), num_classes=10, width=8, feature_dim=16)
    save_classifier(net, path, "mnist", 0.5)
    save_classifier(net, path, "mnist", 0.9)
    assert load_classifier(path)[1]["test_accuracy"] == 0.9
    assert [p.name for p in tmp_path.iterdir()] == ["mnist.pt"]


def test_missing_classifier_says_how_to_train_it(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_classifier(tmp_path / "classifiers" / "mnist.pt", "mnist")
    message = str(info.value)
    assert "python -m gan_lightning.classifier data=mnist" in message
    assert str(tmp_path / "classifiers" / "mnist.pt") in message


def test_unwritable_location_points_to_gan_cache_dir(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    net = DatasetClassifier((1, 28, 28), num_classes=10, width=8, feature_dim=16)
    with pytest.raises(ConfigError, match="GAN_CACHE_DIR") as info:
        save_classifier(net, blocker / "classifiers" / "mnist.pt", "mnist", 0.5)
    assert str(blocker / "classifiers" / "mnist.pt") in str(info.value)
    assert blocker.read_text() == "not a folder"


def test_classifier_path_follows_gan_cache_dir(tmp_path, monkeypatch):
    assert classifier_path(tmp_path / "data", "mnist") == tmp_path / "data" / "classifiers" / "mnist.pt"
    monkeypatch.setenv("GAN_CACHE_DIR", str(tmp_path / "cache"))
    assert classifier_path(tmp_path / "data", "cifar10") == tmp_path / "cache" / "classifiers" / "cifar10.pt"
