"""The names everything is logged under, defined once.

TensorBoard tags, CSV columns, the HParams view and the report all read these names; families log
under them so that every family's runs line up in one dashboard. Per-direction values of families
with several generators add a suffix (``train/g_loss_a2b``).
"""

from __future__ import annotations

TRAIN = "train/"

D_LOSS = "train/d_loss"
G_LOSS = "train/g_loss"
D_REAL = "train/D(x)"
D_FAKE_BEFORE_D_STEP = "train/D(G(z))_before_d_step"
D_FAKE_AFTER_D_STEP = "train/D(G(z))_after_d_step"

# Regularizers, each logged with its raw value (before its weight).
GRADIENT_PENALTY = "train/gradient_penalty"
R1 = "train/r1"
PATH_LENGTH = "train/path_length"
PATH_LENGTH_MEAN = "train/path_length_mean"

# Adaptive augmentation (ADA): the probability p and the overfitting heuristic r_t.
AUGMENT_P = "train/augment_p"
AUGMENT_RT = "train/augment_rt"

EMA_BETA = "train/ema_beta"

# Progressive growing (StyleGAN v1): the side being trained and the fade-in of its new layers.
RESOLUTION = "train/resolution"
FADE_ALPHA = "train/fade_alpha"
# Its batch size per resolution (model.progressive.batch_sizes): the samples of this step's batch.
BATCH_SIZE = "train/batch_size"


def learning_rate(group: str) -> str:
    """``lr/g`` for the generator group, ``lr/d`` for the discriminator group."""
    return f"lr/{group[0]}"


MAIN_LOSSES = (
    D_LOSS,
    G_LOSS,
)  # the two losses every family logs (the registry of losses: gan_lightning.losses.LOSSES)
D_OUTPUTS = (D_REAL, D_FAKE_BEFORE_D_STEP, D_FAKE_AFTER_D_STEP)

# The losses of lazy regularization phases (their weight and interval included).
D_REG_LOSS = "train/d_reg_loss"
G_REG_LOSS = "train/g_reg_loss"

# Unpaired translation (CycleGAN, DiscoGAN): one value per direction or domain. ``a2b`` is G: A -> B
# (judged by D_B), ``b2a`` is F: B -> A (judged by D_A).
DIRECTIONS = ("a2b", "b2a")


def per_direction(name: str, direction: str) -> str:
    """``train/g_adv_a2b``: a value of one translation direction (or of one domain's D: ``_a``, ``_b``)."""
    return f"{name}_{direction}"


# D's mean score of translations, per direction (``a2b``: D_B on G(a)), before and after D's update
D_TRANSLATED_BEFORE_D_STEP = "train/D(translated)_before_d_step"
D_TRANSLATED_AFTER_D_STEP = "train/D(translated)_after_d_step"
G_ADVERSARIAL = "train/g_adv"  # the generator's adversarial loss, per direction
CYCLE = "train/cycle"  # |F(G(a)) - a| (a2b) and |G(F(b)) - b| (b2a), raw
IDENTITY = "train/identity"  # |G(b) - b| (a2b) and |F(a) - a| (b2a), raw
FEATURE_MATCHING = "train/feature_matching"  # DiscoGAN: D's mean features of real vs translated, raw
D_DOMAIN_LOSS = "train/d_loss"  # per domain: train/d_loss_a (D_A), train/d_loss_b (D_B)
L1 = "train/l1"  # pix2pix: |G(source) - target|, raw
CYCLE_WEIGHT = "train/cycle_weight"  # the cycle / reconstruction weight in force (DiscoGAN's curriculum)

#: tags of earlier versions -> today's, so that the report reads old runs under today's names
#: (translation runs logged D's scores of translations under the noise models' names, by domain)
RENAMED = {
    "train/D(G(z))_after_d_step_a2b": per_direction(D_TRANSLATED_AFTER_D_STEP, "a2b"),
    "train/D(G(z))_after_d_step_b2a": per_direction(D_TRANSLATED_AFTER_D_STEP, "b2a"),
    "train/D(G(z))_before_d_step_b": per_direction(D_TRANSLATED_BEFORE_D_STEP, "a2b"),
    "train/D(G(z))_before_d_step_a": per_direction(D_TRANSLATED_BEFORE_D_STEP, "b2a"),
}


# --- evaluation metrics -----------------------------------------------------------------------------

#: Every metric logged as ``val/<name>``, and whether a lower value is better (its best value is the
#: lowest, else the highest), stated once: the report's table and plots, the HParams summary
#: (``hp/<name>_best``) and the metric callbacks read it. Unpaired translation logs its metrics per
#: direction (``val/fid_a2b``, ``val/content_acc_b2a``): those go by their metric's entry
#: (:func:`metric_of`).
METRICS: dict[str, bool] = {
    # noise-to-image models (GANMetrics); fid and kid also measure translations
    "fid": True,
    "kid": True,
    "class_acc": False,
    "precision": False,
    "recall": False,
    "density": False,
    "coverage": False,
    "is": False,
    "is_classifier": False,
    "ppl": True,
    "modes_covered": False,
    "high_quality": False,
    # image-to-image models (TranslationMetrics): unpaired per direction, pix2pix as they are
    "content_acc": False,
    "domain_acc": False,
    "cycle_l1": True,
    "cycle_psnr": False,
    "identity_l1": True,
    "l1": True,
    "psnr": False,
    "fid_inception": True,
    "kid_inception": True,
}


def metric_of(name: str) -> str | None:
    """The metric of a logged value's name (without ``val/``): ``fid`` -> ``fid``, ``fid_a2b`` -> ``fid``,
    ``kid_inception_b2a`` -> ``kid_inception``; None for a name that is no metric (``kid_std``)."""
    if name in METRICS:
        return name
    base, _, direction = name.rpartition("_")
    return base if direction in DIRECTIONS and base in METRICS else None


def lower_is_better(name: str) -> bool:
    """Whether a lower value of metric ``name`` (or of one direction of it, ``fid_a2b``) is better."""
    metric = metric_of(name)
    if metric is None:
        raise KeyError(f"{name!r} is not a metric of log_names.METRICS")
    return METRICS[metric]


def metric_order(name: str) -> tuple[int, int]:
    """Sort key of metric names: the registry's order, then the direction (``a2b`` before ``b2a``)."""
    metric = metric_of(name)
    if metric is None:
        raise KeyError(f"{name!r} is not a metric of log_names.METRICS")
    direction = name[len(metric) + 1 :]
    return list(METRICS).index(metric), DIRECTIONS.index(direction) + 1 if direction else 0
