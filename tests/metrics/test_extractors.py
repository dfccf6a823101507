"""Feature extractors: the dataset classifier's features, Inception-v3 from a local file, clear errors."""

from __future__ import annotations

from pathlib import Path
from urllib.error import URLError

import pytest
import torch

from gan_lightning.errors import ConfigError
from gan_lightning.files import file_digest
from gan_lightning.metrics.classifier_net import DatasetClassifier, save_classifier
from gan_lightning.metrics.extractors import (
    INCEPTION_URL,
    ClassifierFeatures,
    InceptionFeatures,
    build_extractor,
    resolve_inception_weights,
)


def small_classifier(seed: int = 0) -> DatasetClassifier:
    torch.manual_seed(seed)
    return DatasetClassifier((1, 28, 28), num_classes=10, width=8, feature_dim=24)


def test_classifier_features_shape_and_predictions():
    classifier = small_classifier()
    extractor = ClassifierFeatures(classifier, tag="classifier-test")
    assert extractor.num_features == 24
    assert not classifier.training  # eval mode: BatchNorm running statistics, no dropout
    x = torch.rand(6, 1, 28, 28) * 2 - 1
    features = extractor(x)
    assert features.shape == (6, 24)
    torch.testing.assert_close(features, classifier.features(x))
    again, predictions = extractor.features_and_predictions(x)
    torch.testing.assert_close(again, features)
    assert predictions.dtype == torch.long
    assert torch.equal(predictions, classifier(x).argmax(1))


def test_classifier_features_take_double_images():
    extractor = ClassifierFeatures(small_classifier(), tag="t")
    x = torch.rand(2, 1, 28, 28) * 2 - 1
    torch.testing.assert_close(extractor(x.double()), extractor(x))


def test_build_classifier_extractor_from_the_cache(tmp_path):
    path = save_classifier(small_classifier(), tmp_path / "classifiers" / "mnist.pt", "mnist", 0.9)
    extractor = build_extractor("classifier", tmp_path, "mnist")
    assert isinstance(extractor, ClassifierFeatures)
    assert extractor.tag == f"classifier-{file_digest(path)}"
    assert len(file_digest(path)) == 10
    x = torch.rand(3, 1, 28, 28)
    torch.testing.assert_close(extractor(x), small_classifier().eval().features(x))


def test_cache_tag_changes_with_the_weights(tmp_path):
    save_classifier(small_classifier(0), tmp_path / "a" / "classifiers" / "mnist.pt", "mnist", 0.9)
    save_classifier(small_classifier(1), tmp_path / "b" / "classifiers" / "mnist.pt", "mnist", 0.9)
    tags = {build_extractor("classifier", tmp_path / d, "mnist").tag for d in "ab"}
    assert len(tags) == 2


def test_build_classifier_extractor_without_classifier_says_how_to_train_it(tmp_path):
    with pytest.raises(ConfigError) as info:
        build_extractor("classifier", tmp_path, "fashion_mnist")
    assert "python -m gan_lightning.classifier data=fashion_mnist" in str(info.value)


def test_unknown_extractor():
    with pytest.raises(ConfigError, match="Unknown feature extractor 'nope'.*classifier, rotation, incep"):
        build_extractor("nope", ".", "mnist")


# --- Inception-v3 without the network -------------------------------------------------------------


@pytest.fixture(scope="module")
def random_inception_weights(tmp_path_factory) -> Path:
    """A state dict of torch-fidelity's Inception-v3 with random weights, made without any download."""
    import torch_fidelity.feature_extractor_inceptionv3 as fidelity

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fidelity, "load_state_dict_from_url", lambda *a, **k: {})
        patch.setattr(fidelity.FeatureExtractorInceptionV3, "load_state_dict", lambda self, *a, **k: None)
        torch.manual_seed(0)
        skeleton = fidelity.FeatureExtractorInceptionV3("inception-v3-compat", ["2048"])
    path = tmp_path_factory.mktemp("inception") / "weights-inception-test.pth"
    torch.save(skeleton.state_dict(), path)
    return path


def test_inception_features_from_a_local_file(random_inception_weights, monkeypatch):
    def no_download(*args, **kwargs):
        raise AssertionError("a local weights file must not trigger a download")

    monkeypatch.setattr(torch.hub, "download_url_to_file", no_download)
    monkeypatch.setattr("torch_fidelity.feature_extractor_inceptionv3.load_state_dict_from_url", no_download)
    extractor = InceptionFeatures(weights_path=random_inception_weights)
    assert extractor.num_features == 2048
    assert extractor.tag == f"inception-{file_digest(random_inception_weights)}"
    # The weights of the file were loaded, not a fresh initialisation.
    saved = torch.load(random_inception_weights, weights_only=False)
    loaded = extractor.net.state_dict()
    assert saved.keys() == loaded.keys()
    assert all(torch.equal(loaded[k], v) for k, v in saved.items())
    images = torch.stack([torch.full((1, 28, 28), -1.0), torch.linspace(-1, 1, 28 * 28).view(1, 28, 28)])
    features = extractor(images)
    assert features.shape == (2, 2048)
    assert torch.isfinite(features).all()
    assert not torch.equal(features[0], features[1])


def test_inception_logits_are_torch_fidelitys_unbiased_logits(random_inception_weights):
    from torchmetrics.image.fid import NoTrainInceptionV3

    extractor = InceptionFeatures(weights_path=random_inception_weights)
    images = torch.rand(2, 3, 32, 32) * 2 - 1
    features, logits = extractor.features_and_logits(images)
    torch.testing.assert_close(features, extractor(images))
    assert logits.shape == (2, 1008)
    # What torchmetrics' InceptionScore takes by default, from the same weights and uint8 images.
    reference = NoTrainInceptionV3(
        name="inception-v3-compat", features_list=["logits_unbiased"],
        feature_extractor_weights_path=str(random_inception_weights), antialias=False,
    )  # fmt: skip
    as_uint8 = ((images + 1) * 127.5).round().to(torch.uint8)
    torch.testing.assert_close(logits, reference(as_uint8), rtol=1e-4, atol=1e-4)


def test_missing_inception_file():
    with pytest.raises(ConfigError, match="metrics.inception_weights=/no/such/weights.pth: no such file"):
        InceptionFeatures(weights_path="/no/such/weights.pth")


def test_offline_without_weights_explains_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    calls = []

    def offline(url, dst, *args, **kwargs):
        calls.append((url, dst))
        raise URLError("no network")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    cached = tmp_path / "torch" / "hub" / "checkpoints" / Path(INCEPTION_URL).name
    with pytest.raises(ConfigError) as info:
        resolve_inception_weights(None)
    message = str(info.value)
    assert "metrics.inception_weights=PATH" in message
    assert str(cached) in message
    assert INCEPTION_URL in message and "metrics.extractor=classifier" in message
    assert calls == [(INCEPTION_URL, str(cached))]


def test_weights_in_the_hub_cache_are_used_without_download(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    cached = tmp_path / "torch" / "hub" / "checkpoints" / Path(INCEPTION_URL).name
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"weights")

    def no_download(*args, **kwargs):
        raise AssertionError("no download when the file is in the cache")

    monkeypatch.setattr(torch.hub, "download_url_to_file", no_download)
    assert resolve_inception_weights(None) == cached
    assert resolve_inception_weights(cached) == cached
