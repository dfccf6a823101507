"""The noise-to-sample GAN: one LightningModule for GAN, DCGAN, conditional GAN and LSGAN.

The variants differ only in configuration: the network architecture (``arch``), the loss
(``loss``) and whether G and D see class labels (``conditional``).

Training step (Goodfellow et al., 2014, Algorithm 1), with manual optimization:

    for each batch (x, y):
        repeat n_critic times:  update D on real x and on G(z), z ~ prior   (G frozen)
        once:                   update G through D(G(z))                      (D frozen)

``trainer.max_steps`` counts generator steps (batches); see :mod:`gan_lightning.steps`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytorch_lightning as pl
import torch
from hydra.utils import instantiate
from torch import Generator, Tensor

from gan_lightning.errors import ConfigError
from gan_lightning.losses import get_loss, gradient_penalty
from gan_lightning.networks import build_networks
from gan_lightning.noise import check_prior, sample_noise
from gan_lightning.rng import rng_states, set_rng_states


class GAN(pl.LightningModule):
    """Generator G: z (N, z_dim) [+ y] -> x (N, *data_shape); discriminator D: x [+ y] -> logits (N,).

    Args:
        data_shape: shape of one sample, e.g. (1, 28, 28), from the datamodule.
        num_classes: size of the label space (needed when ``conditional``).
        classes: label ids present in the training data (sample grids show these), default all.
        tanh_output: G ends in tanh (images in [-1, 1]); False for unbounded toy data.
        arch: network family, ``mlp`` or ``conv`` (see :mod:`gan_lightning.networks`).
        networks: per-arch options, ``{arch: {"generator": {...}, "discriminator": {...}}}``.
        conditional: condition G and D on class labels (cGAN).
        z_dim: latent size. noise: latent prior, ``normal`` or ``uniform`` (in [-1, 1]).
        loss: name in :data:`gan_lightning.losses.LOSSES`; loss_kwargs: its options.
        n_critic: discriminator updates per generator update (k in Algorithm 1).
        real_label: D's target for real samples; 0.9 gives one-sided label smoothing.
        grad_clip: ``{"generator": max, "discriminator": max, "algorithm": "norm" | "value"}``;
            ``None`` entries do not clip. Applied after mixed-precision unscaling.
        optimizer: ``{_target_: torch.optim.X, _partial_: true, lr_g, lr_d, **options}``.
        scheduler: ``None`` or a ``{_target_, _partial_: true, ...}`` LR scheduler, stepped once per
            generator step for both optimizers.
        data: the data config the model is trained on, recorded so that ``sample`` and ``evaluate``
            find the dataset again from the checkpoint alone.
        compile: compile G and D with ``torch.compile`` (GPU speed-up; not stored in checkpoints).
        channels_last: keep conv weights and images in channels-last memory order (GPU speed-up;
            not stored in checkpoints).
    """

    def __init__(
        self,
        data_shape: Sequence[int],
        num_classes: int | None = None,
        classes: Sequence[int] | None = None,
        tanh_output: bool = True,
        arch: str = "mlp",
        networks: dict[str, Any] | None = None,
        conditional: bool = False,
        z_dim: int = 100,
        noise: str = "normal",
        loss: str = "non_saturating",
        loss_kwargs: dict[str, float] | None = None,
        n_critic: int = 1,
        real_label: float = 1.0,
        grad_clip: dict[str, Any] | None = None,
        optimizer: dict[str, Any] | None = None,
        scheduler: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
        compile: bool = False,
        channels_last: bool = False,
    ) -> None:
        super().__init__()
        self.save_hyperparameters(ignore=["compile", "channels_last"])  # how to run, not what the model is
        self._compile, self._channels_last, self._speedups_applied = compile, channels_last, False
        self.automatic_optimization = False
        _check_options(z_dim, n_critic, real_label, optimizer, conditional, num_classes)
        check_prior(noise)
        self.grad_clip = _check_grad_clip(grad_clip)
        self.loss = get_loss(loss, **(loss_kwargs or {}))
        if real_label != 1.0 and not self.loss.probabilistic:
            raise ConfigError(
                f"model.real_label={real_label} (label smoothing) applies to the minimax and non_saturating "
                f"losses only, not to '{loss}'. For least squares set model.loss_kwargs.b instead."
            )
        arch_options = (networks or {}).get(arch, {})
        self.generator, self.discriminator = build_networks(
            arch,
            z_dim=z_dim,
            data_shape=data_shape,
            num_classes=num_classes if conditional else None,
            tanh_output=tanh_output,
            generator_kwargs=arch_options.get("generator"),
            discriminator_kwargs=arch_options.get("discriminator"),
        )
        self.classes = (
            list(classes) if classes is not None else (list(range(num_classes)) if num_classes else None)
        )
        # Generator steps taken so far; a buffer, so that it is saved in checkpoints.
        self.register_buffer("generator_step", torch.zeros((), dtype=torch.long))
        # Seed of the training noise (-1: not drawn yet); see :meth:`training_noise`.
        self.register_buffer("noise_seed", torch.full((), -1, dtype=torch.long))
        self._noise_rng: Generator | None = None
        self._rng_states_to_restore: dict[str, Any] | None = None

    # --- the two networks, with or without labels ------------------------------------------------

    @property
    def conditional(self) -> bool:
        return self.hparams.conditional

    def sample_z(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """n latent vectors (n, z_dim) on the model's device."""
        return sample_noise(self.hparams.noise, n, self.hparams.z_dim, self.device, generator)

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """G(z [, y]): (N, z_dim) -> (N, *data_shape)."""
        return self.generator(z, labels if self.conditional else None)

    def discriminate(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        """D(x [, y]) logits (N,)."""
        return self.discriminator(x, labels if self.conditional else None)

    # --- training ----------------------------------------------------------------------------------

    def configure_model(self) -> None:
        """Apply the speed switches once, before the optimizers are built (weights keep their names)."""
        if self._speedups_applied:
            return
        if self._channels_last:
            self.to(memory_format=torch.channels_last)
        if self._compile:
            self.generator.compile()
            self.discriminator.compile()
        self._speedups_applied = True

    def on_fit_start(self) -> None:
        if int(self.noise_seed) < 0:  # a new run: derive it from the run's seed (seed_everything)
            self.noise_seed.fill_(torch.initial_seed() % 2**31)
        self._noise_rng = Generator(device=self.device)

    def on_train_start(self) -> None:
        if self._rng_states_to_restore is not None:  # resuming: continue the global random streams
            set_rng_states(self._rng_states_to_restore)
            self._rng_states_to_restore = None

    def training_noise(self) -> Generator:
        """The generator that training noise is drawn from, re-seeded at every generator step from
        (noise seed, step, DDP rank): every rank draws different noise (``seed_everything`` alone
        would give all ranks the same), and a resumed run draws exactly what the original would."""
        seed = (int(self.noise_seed) * 1_000_003 + int(self.generator_step)) * 1_009 + self.global_rank
        return self._noise_rng.manual_seed(seed)

    @property
    def optimizer_steps_per_batch(self) -> int:
        """How much Lightning's ``global_step`` grows per batch: n_critic D steps plus one G step."""
        return self.hparams.n_critic + 1

    def training_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        real, labels = batch
        if self._channels_last and real.dim() == 4:
            real = real.contiguous(memory_format=torch.channels_last)
        opt_d, opt_g = self.optimizers()
        noise = self.training_noise()
        for _ in range(self.hparams.n_critic):
            d_stats = self._discriminator_step(opt_d, real, labels, noise)
        g_stats = self._generator_step(opt_g, real.size(0), labels, noise)
        for scheduler in _as_list(self.lr_schedulers()):
            scheduler.step()
        self.generator_step += 1
        losses = {"train/d_loss": d_stats.pop("train/d_loss"), "train/g_loss": g_stats.pop("train/g_loss")}
        _check_finite(losses, int(self.generator_step))
        self.log_dict(losses, prog_bar=True)
        self.log_dict({**d_stats, **g_stats})
        self.log_dict({"lr/g": opt_g.param_groups[0]["lr"], "lr/d": opt_d.param_groups[0]["lr"]})

    def _discriminator_step(self, opt_d, real: Tensor, labels: Tensor, noise: Generator) -> dict[str, Tensor]:
        with self.toggled_optimizer(opt_d):
            with torch.no_grad():
                fake = self(self.sample_z(real.size(0), noise), labels)
            real_logits = self.discriminate(real, labels)
            fake_logits = self.discriminate(fake, labels)
            loss = self.loss.discriminator(real_logits, fake_logits, self.hparams.real_label)
            if self.loss.gradient_penalty_weight > 0:
                penalty = self._gradient_penalty(real, fake, labels, noise)
                loss = loss + self.loss.gradient_penalty_weight * penalty
            opt_d.zero_grad(set_to_none=True)
            self.manual_backward(loss)
            opt_d.step()
        return {
            "train/d_loss": loss.detach(),
            "train/D(x)": self.loss.score(real_logits.detach()).mean(),
            "train/D(G(z))_before_d_step": self.loss.score(fake_logits.detach()).mean(),
        }

    def _generator_step(self, opt_g, n: int, labels: Tensor, noise: Generator) -> dict[str, Tensor]:
        with self.toggled_optimizer(opt_g):
            fake_logits = self.discriminate(self(self.sample_z(n, noise), labels), labels)
            loss = self.loss.generator(fake_logits)
            opt_g.zero_grad(set_to_none=True)
            self.manual_backward(loss)
            opt_g.step()
        return {
            "train/g_loss": loss.detach(),
            "train/D(G(z))_after_d_step": self.loss.score(fake_logits.detach()).mean(),
        }

    def _gradient_penalty(self, real: Tensor, fake: Tensor, labels: Tensor, noise: Generator) -> Tensor:
        """The WGAN-GP penalty, in float32 even under mixed precision (double backward in fp16 overflows)."""
        with torch.autocast(self.device.type, enabled=False):
            return gradient_penalty(
                lambda x: self.discriminate(x, labels), real.float(), fake.float(), generator=noise
            )

    def on_before_optimizer_step(self, optimizer: torch.optim.Optimizer) -> None:
        """Clip G's or D's gradients (called by Lightning after AMP unscaling, before the step)."""
        network = "discriminator" if optimizer is self.trainer.optimizers[0] else "generator"
        max_value = self.grad_clip[network]
        if max_value is not None:
            self.clip_gradients(
                optimizer, gradient_clip_val=max_value, gradient_clip_algorithm=self.grad_clip["algorithm"]
            )

    def configure_optimizers(self):
        options = dict(self.hparams.optimizer)
        lr_d, lr_g = options.pop("lr_d"), options.pop("lr_g")
        make_optimizer = instantiate(options)
        opt_d = make_optimizer(self.discriminator.parameters(), lr=lr_d)
        opt_g = make_optimizer(self.generator.parameters(), lr=lr_g)
        if not self.hparams.scheduler:
            return [opt_d, opt_g]
        make_scheduler = instantiate(self.hparams.scheduler)
        schedulers = [
            {"scheduler": make_scheduler(opt_d), "interval": "step", "name": "lr/d"},
            {"scheduler": make_scheduler(opt_g), "interval": "step", "name": "lr/g"},
        ]
        return [opt_d, opt_g], schedulers

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["model_class"] = f"{type(self).__module__}.{type(self).__qualname__}"
        checkpoint["rng_states"] = rng_states()

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self._rng_states_to_restore = checkpoint.get("rng_states")

    # --- fine-tuning ----------------------------------------------------------------------------

    def load_network_weights(self, checkpoint_path: str) -> None:
        """Copy G's and D's weights from a checkpoint of a compatible model (optimizers stay fresh)."""
        checkpoint = torch.load(checkpoint_path, map_location="cpu", weights_only=False)
        state = checkpoint.get("state_dict") if isinstance(checkpoint, dict) else None
        if state is None:
            raise ConfigError(
                f"'{checkpoint_path}' is not a gan-lightning checkpoint (no 'state_dict' in it)."
            )
        for name in ("generator", "discriminator"):
            network = getattr(self, name)
            prefix = f"{name}."
            weights = {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
            try:
                network.load_state_dict(weights)
            except RuntimeError as err:
                raise ConfigError(
                    f"init_from={checkpoint_path}: its {name} does not match this model's "
                    f"(same model, data and z_dim needed).\n{err}"
                ) from err


def _check_finite(losses: dict[str, Tensor], step: int) -> None:
    """Stop with a clear message at the first NaN or Inf loss (one device sync per step)."""
    if bool(torch.isfinite(torch.stack(list(losses.values()))).all()):
        return
    bad = ", ".join(f"{name} = {value.item()}" for name, value in losses.items() if not torch.isfinite(value))
    raise FloatingPointError(
        f"Training diverged at generator step {step}: {bad}. The checkpoints written so far are intact; "
        "lower the learning rates, use gradient clipping or another loss, then resume or restart."
    )


def _check_grad_clip(grad_clip: dict[str, Any] | None) -> dict[str, Any]:
    options = {"generator": None, "discriminator": None, "algorithm": "norm", **(grad_clip or {})}
    unknown = set(options) - {"generator", "discriminator", "algorithm"}
    if unknown:
        raise ConfigError(
            f"model.grad_clip has unknown keys {sorted(unknown)}; "
            "it takes generator, discriminator and algorithm."
        )
    if options["algorithm"] not in ("norm", "value"):
        raise ConfigError(
            f"model.grad_clip.algorithm must be 'norm' or 'value', got '{options['algorithm']}'."
        )
    for network in ("generator", "discriminator"):
        value = options[network]
        if value is not None and not value > 0:
            raise ConfigError(
                f"model.grad_clip.{network} must be positive or null (no clipping), got {value}."
            )
    return options


def _as_list(x: Any) -> list:
    if x is None:
        return []
    return x if isinstance(x, list) else [x]


def _check_options(
    z_dim: int,
    n_critic: int,
    real_label: float,
    optimizer: dict | None,
    conditional: bool,
    num_classes: int | None,
) -> None:
    if z_dim <= 0:
        raise ConfigError(f"model.z_dim must be a positive integer, got {z_dim}.")
    if n_critic < 1:
        raise ConfigError(
            f"model.n_critic must be at least 1 (discriminator steps per generator step), got {n_critic}."
        )
    if not 0.0 < real_label <= 1.0:
        raise ConfigError(f"model.real_label must be in (0, 1], got {real_label}.")
    if optimizer is None:
        raise ConfigError("An optimizer configuration is required (optimizer=adam|sgd|rmsprop).")
    for key in ("lr_g", "lr_d"):
        if not optimizer.get(key, 0) > 0:
            raise ConfigError(f"optimizer.{key} must be positive, got {optimizer.get(key)}.")
    if conditional and not num_classes:
        raise ConfigError(
            "A conditional model needs labelled data, but this dataset has no labels. Use an unconditional "
            "model (model=gan or model=dcgan), or give the image folder one sub-folder per class."
        )
