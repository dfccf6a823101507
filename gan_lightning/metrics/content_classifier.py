"""Content preservation of unpaired translation: does a translation keep its source image's class?

The idea of the CycleGAN paper's FCN score (Zhu et al. 2017, section 5.1.1: a segmentation net of the
target domain labels the translated images and is scored against the source's labels), for two domains
that carry the same classes (:meth:`~gan_lightning.data.unpaired.UnpairedDataModule.domain_labels`:
class sub-folders with the same names on both sides). For each domain the framework trains, once, a
classifier of its classes on its labelled training images (a small
:class:`~gan_lightning.metrics.classifier_net.DatasetClassifier`, no flips: the classes may not be
mirror-symmetric, digits are not), tests it on the domain's test images and caches it as
``<cache root>/feature_nets/<stats_name>-classes-<domain>.pt``. Then

- ``content_acc_a2b``: the share of translated test images G(a) that B's classifier assigns to the
  class of their source a;
- ``content_acc_b2a``: the same for F(b) with A's classifier;

and the classifier's own accuracy on the real test images of the target domain is the ceiling of its
direction (the translation cannot score above what the judge gets right on real images), recorded in
the protocol.

Why beside domain accuracy: a generator that ignores its input and draws any convincing image of the
target domain is fully "in the domain" (domain accuracy 1, a fine FID) but keeps nothing of its source;
content preservation falls to chance (about 1 / number of classes) for it. Only the two together say
"a translation", not "a replacement".
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from gan_lightning.files import cache_root, file_digest
from gan_lightning.metrics import classifier_net as nets
from gan_lightning.metrics.domain_classifier import fit_small_classifier, stack_images

log = logging.getLogger(__name__)
# How the classifier of a domain's classes is trained (fit_small_classifier's options): the dataset
# classifier's stride-2 stem (a quarter of the operations), 4 epochs. No flips: a mirrored digit is not
# always the same digit.
TRAINING: dict[str, Any] = {
    "epochs": 4, "batch_size": 64, "lr": 3e-3, "width": 32, "feature_dim": 128, "stem_stride": 2,
}  # fmt: skip


def content_classifier_path(root: str | Path, stats_name: str, domain: str) -> Path:
    """``<cache root>/feature_nets/<stats_name>-classes-<domain>.pt``."""
    return cache_root(root) / "feature_nets" / f"{stats_name}-classes-{domain}.pt"


def load_or_train_content_classifier(
    datamodule: Any, domain: str, accelerator: str = "auto", train: bool = True, **options: Any
) -> tuple[nets.ResizedClassifier, dict[str, Any]] | None:
    """The classifier of ``domain``'s classes (``"a"`` or ``"b"``) of a labelled unpaired datamodule,
    trained now on the domain's training images when missing and ``train`` (None when it is missing and
    not ``train``). Returns it, tagged ``classes-<domain>-<digest of the file>``, with the file's
    metadata: ``test_accuracy`` on the domain's real test images (the ceiling of content preservation
    into this domain), ``trained_now``. ``options`` override :data:`TRAINING`."""
    path = content_classifier_path(datamodule.root, datamodule.stats_name, domain)
    trained_now = not path.is_file()
    if trained_now:
        if not train:
            return None
        split = {
            s: (stack_images(datamodule.domain_images(domain, s)), datamodule.domain_labels(domain, s))
            for s in ("train", "test")
        }
        options = {**TRAINING, **options}
        log.info(
            "Training the classifier of domain %s's %d classes on its %d training images (%d epochs), once "
            "(content preservation; metrics.train_classifier=false turns this off)",
            domain.upper(), len(datamodule.domain_classes), len(split["train"][1]), options["epochs"],
        )  # fmt: skip
        net, accuracy = fit_small_classifier(
            split["train"], split["test"], len(datamodule.domain_classes), accelerator=accelerator, **options
        )
        nets.save_classifier(net, path, f"{datamodule.stats_name}-classes-{domain}", accuracy)
        log.info("Domain %s's classifier: test accuracy %.4f, saved to %s", domain.upper(), accuracy, path)
    net, meta = nets.load_classifier(path)
    tag = f"classes-{domain}-{file_digest(path)}"
    return nets.ResizedClassifier(net, tag=tag), {**meta, "trained_now": trained_now}
