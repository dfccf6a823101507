"""SampleEvaluator: FID and KID against a direct float64 computation, reset, DDP shares, class metrics,
precision / recall / density / coverage and the Inception Score of the extractor's logits."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch
from torch import Tensor, nn

from gan_lightning.errors import ConfigError
from gan_lightning.metrics.evaluator import Precomputed, SampleEvaluator
from gan_lightning.metrics.manifold import density_coverage, knn_radii, precision_recall

D, N = 8, 300


def features(seed: int, shift: float = 0.0, scale: float = 1.0, n: int = N) -> Tensor:
    """(n, D) correlated Gaussian features, shifted and scaled."""
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(D, D)) / np.sqrt(D)
    return torch.from_numpy(rng.normal(size=(n, D)) @ mixing * scale + shift)


def reference_fid(x: np.ndarray, y: np.ndarray) -> float:
    mu1, mu2 = x.mean(0), y.mean(0)
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)  # unbiased (n - 1)
    root = scipy.linalg.sqrtm(s1 @ s2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * root))


def reference_kid(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD^2 with the kernel k(a, b) = (a.b / d + 1)^3."""
    d, m, n = x.shape[1], len(x), len(y)
    k_xx, k_yy, k_xy = ((a @ b.T / d + 1) ** 3 for a, b in ((x, x), (y, y), (x, y)))
    return float(
        (k_xx.sum() - np.trace(k_xx)) / (m * (m - 1))
        + (k_yy.sum() - np.trace(k_yy)) / (n * (n - 1))
        - 2 * k_xy.sum() / (m * n)
    )


def evaluator(real: Tensor, **kwargs) -> SampleEvaluator:
    kwargs.setdefault("kid_subset_size", N)
    metrics = SampleEvaluator(Precomputed(D), real, n_fake=N, **kwargs)
    if metrics.kid is not None:
        metrics.kid.subsets = 3  # each subset is the whole set: 100 of them would only cost time
    return metrics


def test_fid_and_kid_match_a_direct_float64_computation():
    real, fake = features(0), features(1, shift=0.5, scale=1.3)
    metrics = evaluator(real)
    metrics.update(fake)
    values = metrics.compute()
    expected_fid = reference_fid(real.numpy(), fake.numpy())
    expected_kid = reference_kid(real.numpy(), fake.numpy())
    assert expected_fid > 1.0 and expected_kid > 0.1  # really different distributions
    assert values["fid"] == pytest.approx(expected_fid, rel=1e-4)
    # One subset is the whole set (torchmetrics draws subsets without replacement): every subset
    # is a permutation of all features, so KID is exact and its spread over subsets is zero.
    assert metrics.kid_subset_size == N
    assert values["kid"] == pytest.approx(expected_kid, rel=1e-6)
    assert values["kid_std"] == pytest.approx(0.0, abs=1e-9)
    assert set(values) == {"fid", "kid", "kid_std"}


def test_fid_of_a_set_with_itself_is_zero_and_grows_with_the_shift():
    real = features(0)
    fids = []
    for shift in (0.0, 0.5, 1.0):
        metrics = evaluator(real, metrics=("fid",))
        metrics.update(real + shift)
        fids.append(metrics.compute()["fid"])
    assert fids[0] == pytest.approx(0.0, abs=1e-6)
    # A pure shift adds |shift|^2 per dimension and nothing else.
    assert fids[1:] == pytest.approx([0.25 * D, 1.0 * D], rel=1e-6)


def test_reset_forgets_the_fakes_and_keeps_the_reals():
    real, fake = features(0), features(1, shift=0.5)
    metrics = evaluator(real)
    metrics.update(fake)
    first = metrics.compute()
    metrics.reset()
    assert metrics.fid.real_features_num_samples.item() == N
    assert metrics.fid.fake_features_num_samples.item() == 0
    metrics.update(fake)
    again = metrics.compute()
    assert again["fid"] == pytest.approx(first["fid"], rel=1e-12)
    assert again["kid"] == pytest.approx(first["kid"], rel=1e-9)
    metrics.reset()
    metrics.update(features(2, shift=1.0))
    other = metrics.compute()
    assert other["fid"] > first["fid"] + 1.0
    assert other["kid"] != pytest.approx(first["kid"], rel=1e-3)


def test_fakes_fed_in_batches_equal_one_batch():
    real, fake = features(0), features(1, shift=0.5)
    whole, batched = evaluator(real, metrics=("fid",)), evaluator(real, metrics=("fid",))
    whole.update(fake)
    for chunk in fake.split(64):
        batched.update(chunk)
    assert batched.compute()["fid"] == pytest.approx(whole.compute()["fid"], rel=1e-10)


def test_ranks_hold_complementary_shares_of_the_real_features():
    real = features(0, n=N + 1)
    shares = [evaluator(real, rank=rank, world_size=2) for rank in (0, 1)]
    counts = [s.fid.real_features_num_samples.item() for s in shares]
    assert counts == [151, 150]
    assert sum(counts) == N + 1
    total = shares[0].fid.real_features_sum + shares[1].fid.real_features_sum
    torch.testing.assert_close(total, real.sum(0))  # disjoint and complete
    torch.testing.assert_close(shares[1].fid.real_features_sum, real[1::2].sum(0))
    kid_counts = [sum(len(f) for f in s.kid.real_features) for s in shares]
    assert kid_counts == [151, 150]


class FakeClassifier(nn.Module):
    """'Images' (N, D) whose first column is the class the classifier predicts."""

    num_features = D

    def forward(self, images: Tensor) -> Tensor:
        return images

    def features_and_predictions(self, images: Tensor) -> tuple[Tensor, Tensor]:
        return images, images[:, 0].long()


def with_predictions(predictions: list[int]) -> Tensor:
    images = features(3, n=len(predictions))
    images[:, 0] = torch.tensor(predictions, dtype=images.dtype)
    return images


def test_class_consistency_and_histogram():
    predictions = [0, 1, 2, 3, 3, 3, 9, 9, 0, 1]
    labels = torch.tensor([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])  # the first 4 agree
    metrics = SampleEvaluator(
        FakeClassifier(), features(0), n_fake=10, metrics=("class_acc",), num_classes=10
    )
    assert metrics.fid is None and metrics.kid is None
    metrics.update(with_predictions(predictions), labels)
    values = metrics.compute()
    assert values["class_acc"] == pytest.approx(0.4)
    assert values["class_histogram"] == [2, 2, 1, 3, 0, 0, 0, 0, 0, 2]
    assert set(values) == {"class_acc", "class_histogram"}


def test_class_metrics_accumulate_over_batches_and_reset():
    metrics = SampleEvaluator(
        FakeClassifier(), features(0), n_fake=6, metrics=("fid", "class_acc"), num_classes=4
    )
    metrics.update(with_predictions([0, 1, 2]), torch.tensor([0, 1, 3]))
    metrics.update(with_predictions([3, 3, 3]), torch.tensor([3, 0, 0]))
    values = metrics.compute()
    assert values["class_acc"] == pytest.approx(3 / 6)
    assert values["class_histogram"] == [1, 1, 1, 3]
    metrics.reset()
    metrics.update(with_predictions([1, 1]), torch.tensor([1, 1]))
    values = metrics.compute()
    assert values["class_acc"] == pytest.approx(1.0)
    assert values["class_histogram"] == [0, 2, 0, 0]


def test_histogram_without_class_acc_for_unconditional_models():
    metrics = SampleEvaluator(FakeClassifier(), features(0), n_fake=4, metrics=("fid",), num_classes=10)
    metrics.update(with_predictions([5, 5, 7, 5]))  # no labels needed
    values = metrics.compute()
    assert "class_acc" not in values
    assert values["class_histogram"] == [0, 0, 0, 0, 0, 3, 0, 1, 0, 0]


def test_class_acc_needs_labels():
    metrics = SampleEvaluator(FakeClassifier(), features(0), n_fake=4, metrics=("class_acc",), num_classes=10)
    with pytest.raises(ConfigError, match="conditional model"):
        metrics.update(with_predictions([1, 2]))


def test_class_acc_needs_a_predicting_extractor():
    with pytest.raises(ConfigError, match="metrics.extractor=classifier"):
        SampleEvaluator(Precomputed(D), features(0), n_fake=N, metrics=("fid", "class_acc"), num_classes=10)
    with pytest.raises(ConfigError, match="metrics.extractor=classifier"):
        SampleEvaluator(FakeClassifier(), features(0), n_fake=N, metrics=("class_acc",), num_classes=None)


def test_unknown_metric_is_a_config_error():
    with pytest.raises(ConfigError, match=r"Unknown metrics \['fidd'\]; choose from fid, kid, .*, ppl"):
        SampleEvaluator(Precomputed(D), features(0), n_fake=N, metrics=("fid", "fidd"))


def test_kid_subset_size_is_capped_by_both_sample_counts():
    assert SampleEvaluator(Precomputed(D), features(0), n_fake=50, kid_subset_size=1000).kid_subset_size == 50
    assert SampleEvaluator(Precomputed(D), features(0, n=40), n_fake=500).kid_subset_size == 40


# --- precision, recall, density, coverage, Inception Score ----------------------------------------


def test_manifold_metrics_equal_the_pure_functions_and_survive_reset():
    real, fake = features(0), features(1, shift=0.3, scale=1.2)
    names = ("precision", "recall", "density", "coverage")
    metrics = SampleEvaluator(Precomputed(D), real, n_fake=N, metrics=names, pr_k=4, dc_k=6)
    for chunk in fake.split(70):
        metrics.update(chunk)
    values = metrics.compute()
    expected = {**precision_recall(real, fake, 4), **density_coverage(real, fake, 6)}
    assert values == pytest.approx(expected, abs=1e-12)
    assert set(values) == set(names) and metrics.scalar_names == names
    assert 0.2 < values["precision"] < 0.99 and 0.2 < values["coverage"] < 0.99
    metrics.reset()
    metrics.update(real)  # the real set against itself
    values = metrics.compute()
    assert (values["precision"], values["recall"], values["coverage"]) == (1.0, 1.0, 1.0)
    # Density 1 up to the k-th neighbours exactly on their balls' boundary, which the matrix-product
    # distances of 300 points put inside or outside by rounding (test_manifold: exactly 1 on 20 points).
    assert values["density"] == pytest.approx(1.0, abs=0.01)


def test_precision_alone_skips_the_other_manifold_metrics():
    metrics = SampleEvaluator(Precomputed(D), features(0), n_fake=N, metrics=("fid", "precision"))
    metrics.update(features(1))
    assert set(metrics.compute()) == {"fid", "precision"}


def test_every_rank_holds_all_real_features_for_the_manifold_metrics():
    real = features(0, n=N + 1)
    share = SampleEvaluator(Precomputed(D), real, n_fake=N, metrics=("fid", "coverage"), rank=1, world_size=2)
    assert share.fid.real_features_num_samples.item() == 150  # FID: this rank's share
    torch.testing.assert_close(share.real, real.float())  # coverage: every real point


def test_k_larger_than_the_sets_is_refused_before_any_work():
    with pytest.raises(ConfigError, match=r"pr_k=3: .*\(300 real, 3 generated\)"):
        SampleEvaluator(Precomputed(D), features(0), n_fake=3, metrics=("recall",))
    with pytest.raises(ConfigError, match="dc_k=300"):
        SampleEvaluator(Precomputed(D), features(0), n_fake=N + 5, metrics=("density",), dc_k=300)


class LogitClassifier(FakeClassifier):
    """'Images' (N, D) whose first column is the predicted class, with confident logits for it."""

    def features_and_logits(self, images: Tensor) -> tuple[Tensor, Tensor]:
        return images, 40.0 * nn.functional.one_hot(images[:, 0].long(), 10).double()


def test_inception_score_of_the_classifier_logits():
    extractor = LogitClassifier()
    extractor.is_name = "is_classifier"
    metrics = SampleEvaluator(
        extractor, features(0), n_fake=40, metrics=("is", "class_acc"), num_classes=10, is_splits=4
    )
    assert metrics.scalar_names == ("class_acc", "is_classifier")
    predictions = [0, 1, 2, 3, 4] * 8  # five classes, each split balanced: IS 5
    labels = torch.tensor(predictions)
    for start in (0, 20):
        metrics.update(with_predictions(predictions[start : start + 20]), labels[start : start + 20])
    values = metrics.compute()
    assert values["is_classifier"] == pytest.approx(5.0) and values["is_classifier_std"] == pytest.approx(0.0)
    assert values["class_acc"] == 1.0  # predictions from the same logits
    assert values["class_histogram"] == [8] * 5 + [0] * 5
    metrics.reset()
    metrics.update(with_predictions([7] * 40), torch.full((40,), 7))
    assert metrics.compute()["is_classifier"] == pytest.approx(1.0)


def test_the_classifier_extractor_reports_is_classifier():
    from gan_lightning.metrics.classifier_net import DatasetClassifier
    from gan_lightning.metrics.extractors import ClassifierFeatures, InceptionFeatures

    assert ClassifierFeatures.is_name == "is_classifier" and InceptionFeatures.is_name == "is"
    classifier = ClassifierFeatures(DatasetClassifier((1, 28, 28), 10, width=8, feature_dim=16), "t")
    images = torch.rand(4, 1, 28, 28) * 2 - 1
    features, logits = classifier.features_and_logits(images)
    torch.testing.assert_close(features, classifier(images))
    torch.testing.assert_close(logits, classifier.classifier(images))  # eval mode: no dropout
    metrics = SampleEvaluator(classifier, torch.randn(10, 16), n_fake=4, metrics=("is",), is_splits=1)
    metrics.update(images)
    assert set(metrics.compute()) == {"is_classifier", "is_classifier_std"}


def test_inception_score_needs_logits():
    with pytest.raises(ConfigError, match="metrics.extractor=inception .* or classifier"):
        SampleEvaluator(Precomputed(D), features(0), n_fake=N, metrics=("fid", "is"))
    with pytest.raises(ConfigError, match="metrics.is_splits=50: needs 1 <= splits <= the 40"):
        SampleEvaluator(LogitClassifier(), features(0), n_fake=40, metrics=("is",), is_splits=50)


def test_real_radii_of_both_k_are_computed_once(monkeypatch):
    import gan_lightning.metrics.evaluator as module

    calls = []

    def counting(points, ks, *args):
        calls.append((len(points), ks))
        return knn_radii(points, ks, *args)

    monkeypatch.setattr(module, "knn_radii", counting)
    names = ("precision", "recall", "density", "coverage")
    metrics = SampleEvaluator(Precomputed(D), features(0), n_fake=100, metrics=names)
    for _ in range(2):
        metrics.reset()
        metrics.update(features(1, n=100))
        metrics.compute()
    assert calls == [(N, (3, 5)), (100, 3), (100, 3)]  # the real set once, the generated one per evaluation


def test_ppl_in_inception_space_needs_lpips():
    class Quantizing(Precomputed):
        quantizes = True

    with pytest.raises(ConfigError, match="8-bit images hide: give metrics.lpips_weights"):
        SampleEvaluator(Quantizing(D), features(0), n_fake=N, metrics=("fid", "ppl"))
    distance = SampleEvaluator(Quantizing(D), features(0), N, ("ppl",), path_distance=nn.Identity())
    assert isinstance(distance.path_distance, nn.Identity)
