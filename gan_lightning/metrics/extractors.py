"""Feature extractors for FID and KID: images in [-1, 1] -> features (N, d); those that classify also
give ``features_and_logits`` (the Inception Score) and the classifier ``features_and_predictions``.

- ``classifier``: penultimate features of the dataset classifier the framework trains itself
  (:mod:`gan_lightning.metrics.classifier_net`); works offline, the usual choice for MNIST-like data.
- ``rotation``: for unlabelled images (an image folder): penultimate features of a net the framework
  trains itself on the folder to predict rotations (:mod:`gan_lightning.metrics.rotation_net`).
- ``inception``: the 2048-d pool features of FID's Inception-v3 (torch-fidelity's port of the
  TensorFlow graph, through torchmetrics). Protocol: grayscale repeated to 3 channels, [-1, 1]
  mapped to uint8 [0, 255], then resized to 299x299 inside the network with torch-fidelity's
  TF1-compatible bilinear resize (``antialias=False``, as in the original TTUR code).
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor, nn

from gan_lightning.errors import ConfigError
from gan_lightning.files import file_digest
from gan_lightning.metrics.classifier_net import DatasetClassifier, classifier_path, load_classifier
from gan_lightning.metrics.rotation_net import load_rotation_features, rotation_features_path

EXTRACTORS = ("classifier", "rotation", "inception")
INCEPTION_URL = "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/weights-inception-2015-12-05-6726825d.pth"


class ClassifierFeatures(nn.Module):
    """Images (N, C, S, S) in [-1, 1] -> classifier features (N, feature_dim); also predicts classes."""

    is_name = "is_classifier"  # the Inception Score of its logits is not the IS of the papers

    def __init__(self, classifier: DatasetClassifier, tag: str) -> None:
        super().__init__()
        self.classifier = classifier.eval().requires_grad_(False)
        self.num_features = classifier.config["feature_dim"]
        self.tag = tag  # identifies the extractor in cache keys and metric protocols

    def forward(self, images: Tensor) -> Tensor:
        return self.classifier.features(images.float())

    def features_and_predictions(self, images: Tensor) -> tuple[Tensor, Tensor]:
        """(features (N, d), predicted class (N,)) in one pass."""
        features, logits = self.features_and_logits(images)
        return features, logits.argmax(1)

    def features_and_logits(self, images: Tensor) -> tuple[Tensor, Tensor]:
        """(features (N, d), class logits (N, num_classes)) in one pass."""
        features = self.classifier.features(images.float())
        return features, self.classifier.head(features)


class InceptionFeatures(nn.Module):
    """Images (N, 1 or 3, H, W) in [-1, 1] -> 2048-d Inception-v3 pool features (FID's standard)."""

    num_features = 2048
    is_name = "is"
    quantizes = True  # images go through uint8, as in FID's protocol: too coarse for PPL's small steps

    def __init__(self, weights_path: str | Path | None = None) -> None:
        super().__init__()
        from torchmetrics.image.fid import NoTrainInceptionV3

        path = resolve_inception_weights(weights_path)
        self.net = NoTrainInceptionV3(
            name="inception-v3-compat", features_list=["2048"], feature_extractor_weights_path=str(path),
            antialias=False,
        )  # fmt: skip
        self.tag = f"inception-{file_digest(path)}"

    def forward(self, images: Tensor) -> Tensor:
        as_uint8 = ((images.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
        if as_uint8.size(1) == 1:
            as_uint8 = as_uint8.repeat(1, 3, 1, 1)
        return self.net(as_uint8).reshape(images.size(0), -1)

    def features_and_logits(self, images: Tensor) -> tuple[Tensor, Tensor]:
        """(pool features (N, 2048), the 1008 unbiased logits (N, 1008)): the Inception Score's logits
        (torch-fidelity's ``logits_unbiased``: the last layer without its bias)."""
        features = self(images)
        return features, features @ self.net.fc.weight.T


def resolve_inception_weights(weights_path: str | Path | None) -> Path:
    """The Inception weights file: the given path, else torch's hub cache, else a download."""
    if weights_path is not None:
        path = Path(weights_path).expanduser()
        if not path.is_file():
            raise ConfigError(f"metrics.inception_weights={weights_path}: no such file.")
        return path
    cached = Path(torch.hub.get_dir()) / "checkpoints" / Path(INCEPTION_URL).name
    if cached.is_file():
        return cached
    try:
        torch.hub.download_url_to_file(INCEPTION_URL, str(cached), progress=False)
    except Exception as err:  # no network, proxy, HTTP error...
        raise ConfigError(
            f"The Inception-v3 weights of FID are not on this machine and could not be downloaded ({err}).\n"
            f"  Download {INCEPTION_URL}\n"
            f"  on a machine with internet, then pass metrics.inception_weights=PATH\n"
            f"  or copy it to {cached}.\n"
            "  Offline, metrics.extractor=classifier computes FID in the dataset classifier's feature space."
        ) from err
    return cached


def build_extractor(
    name: str,
    data_root: str | Path,
    dataset: str,
    inception_weights: str | Path | None = None,
    stats_name: str | None = None,
) -> nn.Module:
    """The extractor called ``name`` for ``dataset`` (classifier from ``<data_root>/classifiers``, the
    rotation net of an unlabelled folder from ``<data_root>/feature_nets/<stats_name>-rotation.pt``)."""
    if name == "rotation":
        return load_rotation_features(rotation_features_path(data_root, stats_name or dataset))
    if name == "classifier":
        path = classifier_path(data_root, dataset)
        classifier, _ = load_classifier(path, dataset)
        return ClassifierFeatures(classifier, tag=f"classifier-{file_digest(path)}")
    if name == "inception":
        return InceptionFeatures(inception_weights)
    raise ConfigError(f"Unknown feature extractor '{name}'. Choose one of: {', '.join(EXTRACTORS)}.")
