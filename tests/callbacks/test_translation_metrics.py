"""TranslationMetrics feeds the HParams view as GANMetrics does: per-direction (CycleGAN) and pix2pix
metrics as hp/<metric>_best (lowest or highest, as log_names.METRICS says) and hp/<metric>_final;
content preservation on labelled domains in a real run."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from gan_lightning.callbacks import TranslationMetrics
from gan_lightning.callbacks.hparams import metric_names
from gan_lightning.errors import ConfigError
from gan_lightning.train import train
from tests.helpers import QUICK_RUN, QUICK_TRANSLATION, read_events
from tests.test_sweeps import hparams_records

PIX2PIX = (
    *QUICK_RUN,
    "model=pix2pix",
    "data=paired",
    "data.derive=grayscale",
    "data.image_size=32",
    "data.batch_size=2",
    "data.test_fraction=0.25",  # 3 of the 12 images: FID needs two test pairs at least
    "model.networks.generator.base_channels=4",
    "model.networks.discriminator.base_channels=4",
    "model.networks.discriminator.n_layers=1",
)


class Recorder:
    """A logger that keeps what it is given."""

    def __init__(self) -> None:
        self.logged: list[tuple[int, dict[str, float]]] = []

    def log_metrics(self, scalars: dict[str, float], step: int) -> None:
        self.logged.append((step, dict(scalars)))


class Values:
    """A stand-in evaluator that returns the next of ``values`` at each evaluation."""

    def __init__(self, *values: dict[str, float]) -> None:
        self.values = list(values)
        self.scalar_names = tuple(self.values[0])

    def evaluate(self, model) -> dict[str, float]:
        return self.values.pop(0)


def test_each_direction_is_summarised_with_its_best_as_the_registry_says():
    callback = TranslationMetrics()
    assert metric_names(None, callback) == ["hp/d_loss_final", "hp/g_loss_final"]  # before set-up
    callback.evaluator = Values(
        {"fid_a2b": 5.0, "fid_b2a": 4.0, "content_acc_a2b": 0.4, "cycle_l1_a2b": 0.3, "kid_std_a2b": 0.1},
        {"fid_a2b": 6.0, "fid_b2a": 3.0, "content_acc_a2b": 0.7, "cycle_l1_a2b": 0.2, "kid_std_a2b": 0.1},
    )
    assert metric_names(None, callback)[:4] == [
        "hp/fid_a2b_best", "hp/fid_a2b_final", "hp/fid_b2a_best", "hp/fid_b2a_final",
    ]  # fmt: skip
    logger = Recorder()
    trainer = SimpleNamespace(is_global_zero=True, loggers=[logger])
    callback.run(trainer, None, 2)
    callback.run(trainer, None, 4)
    (_, first), (step, second) = logger.logged
    assert first["val/fid_a2b"] == 5.0 and first["hp/content_acc_a2b_best"] == 0.4
    assert step == 4 and second["val/fid_a2b"] == 6.0
    # logged as they improve: the higher content_acc, the lower fid_b2a and cycle_l1; fid_a2b got worse
    assert {k: v for k, v in second.items() if k.startswith("hp/")} == {
        "hp/fid_b2a_best": 3.0,
        "hp/content_acc_a2b_best": 0.7,
        "hp/cycle_l1_a2b_best": 0.2,
    }
    summary = callback.summary()
    assert summary["hp/fid_a2b_best"] == 5.0 and summary["hp/fid_a2b_final"] == 6.0
    assert summary["hp/content_acc_a2b_best"] == summary["hp/content_acc_a2b_final"] == 0.7
    assert not any("kid_std" in name for name in summary)  # no metric of the registry


def test_content_preservation_on_paired_data_is_refused(compose_cfg, tmp_path, image_folder):
    cfg = compose_cfg(*PIX2PIX, f"data.path={image_folder}", "metrics.content_preservation=true")
    with pytest.raises(ConfigError, match="content_preservation=true measures unpaired translation"):
        train(cfg, Path(cfg.paths.output_dir))


def test_cyclegan_on_labelled_domains_logs_content_preservation_and_the_hparams_summary(
    compose_cfg, labelled_domains
):
    cfg = compose_cfg(
        *QUICK_TRANSLATION, "model=cyclegan", f"data.path={labelled_domains}",
        f"data.root={labelled_domains.parent}", "metrics.train_classifier=true", "metrics.every_n_steps=2",
    )  # fmt: skip
    out = Path(cfg.paths.output_dir)
    metrics = train(cfg, out)
    experiment, _, end, events = hparams_records(out)
    scalars = set(events.Tags()["scalars"])
    for direction in ("a2b", "b2a"):
        content = events.Scalars(f"val/content_acc_{direction}")
        assert [e.step for e in content] == [2, 3] and all(0 <= e.value <= 1 for e in content)
        assert metrics[f"hp/content_acc_{direction}_best"] == pytest.approx(max(e.value for e in content))
        fid = events.Scalars(f"val/fid_{direction}")
        assert metrics[f"hp/fid_{direction}_best"] == pytest.approx(min(e.value for e in fid))
        assert metrics[f"hp/fid_{direction}_final"] == pytest.approx(fid[-1].value)
        assert f"hp/content_acc_{direction}_best" in scalars and f"hp/cycle_l1_{direction}_final" in scalars
    listed = [info.name.tag for info in experiment.metric_infos]
    assert listed[:2] == ["hp/fid_a2b_best", "hp/fid_a2b_final"]
    assert {"hp/content_acc_b2a_best", "hp/domain_acc_a2b_final", "hp/g_loss_final"} <= set(listed)
    assert end is not None
    classifiers = sorted(p.name for p in (labelled_domains.parent / "feature_nets").glob("*-classes-*.pt"))
    assert [name.rsplit("-", 2)[1:] for name in classifiers] == [["classes", "a.pt"], ["classes", "b.pt"]]
    protocol = events.Tensors("val/protocol/text_summary")[0].tensor_proto.string_val[0].decode()
    assert "content preservation over 3 classes" in protocol


def test_pix2pix_feeds_l1_and_psnr_to_the_hparams_summary(compose_cfg, image_folder):
    cfg = compose_cfg(
        *PIX2PIX, f"data.path={image_folder}", f"data.root={image_folder.parent}",
        "metrics.train_classifier=true", "metrics.every_n_steps=2",
    )  # fmt: skip
    out = Path(cfg.paths.output_dir)
    metrics = train(cfg, out)
    events = read_events(out / "tensorboard")
    l1, psnr = events.Scalars("val/l1"), events.Scalars("val/psnr")
    assert metrics["hp/l1_best"] == pytest.approx(min(e.value for e in l1))  # the lower the better
    assert metrics["hp/psnr_best"] == pytest.approx(max(e.value for e in psnr))  # the higher the better
    assert metrics["hp/fid_final"] == pytest.approx(events.Scalars("val/fid")[-1].value)
    listed = [info.name.tag for info in hparams_records(out)[0].metric_infos]
    assert listed[:2] == ["hp/fid_best", "hp/fid_final"] and "hp/psnr_final" in listed
