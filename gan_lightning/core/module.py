"""The adversarial core: one LightningModule base that every GAN family builds on.

A family subclasses :class:`AdversarialModule`, builds its networks, names them in ``groups`` (the
optimizer groups: ``discriminator`` and ``generator``, each holding one or more networks), and
describes its training step as a list of :class:`~gan_lightning.core.phases.Phase`. This class owns,
once, what all families share:

- the training step's mechanics: for each phase due at this generator step, ``repeats`` times,
  toggle its optimizer group, compute the loss, ``zero_grad``, ``manual_backward``, ``step``;
- step accounting: ``generator_step`` (a buffer, so it is saved) counts batches, and
  :meth:`optimizer_steps_for` translates a generator-step budget into Lightning's ``global_step``;
  a family whose batch size changes in training says so (:meth:`varying_batch_sizes`): the datamodule's
  loader follows it, and the images seen are counted from it;
- optimizers per group (learning rate ``lr_g`` / ``lr_d`` and per-group overrides), learning-rate
  schedules, gradient clipping per group (after mixed-precision unscaling);
- the generator EMA (``ema_kimg``), spectral normalization, differentiable augmentation of what D
  sees (DiffAugment, ADA with its probability update), the speed switches;
- training noise re-seeded every step from (seed, step, rank), saved random states, the NaN / Inf
  stop: exact resume and distinct noise per DDP rank;
- a step that never waits for the device: the step counters have host mirrors, discrete choices are
  drawn on the host (:meth:`host_rng`), logged values stay tensors, and the NaN / Inf check reads
  its flags once every ``trainer.log_every_n_steps`` steps (and before any checkpoint is written);
- ``init_from`` per network, and the sampling interface that grids, metrics and the ``sample`` /
  ``evaluate`` commands call: :meth:`generate` of inputs that noise families draw
  (``sample_inputs``) and image-to-image families take from their data's test images
  (the datamodule's ``grid_inputs``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pytorch_lightning as pl
import torch
from hydra.utils import get_object, instantiate
from torch import Generator, Tensor, nn

from gan_lightning import devices, log_names
from gan_lightning.augment import AdaptiveAugment, build_augment
from gan_lightning.core.ema import NetworkEMA
from gan_lightning.core.phases import Phase, lazy_interval, lazy_optimizer_options, optimizer_steps_for
from gan_lightning.errors import ConfigError
from gan_lightning.networks.spectral_norm import SPECTRAL_NORM_CHOICES, apply_spectral_norm
from gan_lightning.rng import rng_states, set_rng_states

if TYPE_CHECKING:
    from gan_lightning.data.order import BatchSizes

GROUPS = ("discriminator", "generator")  # optimizer order (as in checkpoints of version 0.1)
COMPILE_MODES = ("default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")


class AdversarialModule(pl.LightningModule):
    """Base class of the GAN families (manual optimization).

    Subclasses set :attr:`groups` and :attr:`ema_networks`, build their networks, call
    :meth:`finish_networks` at the end of ``__init__``, and implement :meth:`data_options`,
    :meth:`build_phases` and :meth:`generate` (noise families also ``sample_inputs``).

    Args:
        optimizer: ``{_target_: torch.optim.X, _partial_: true, lr_g, lr_d, **options}``; optional
            ``generator: {...}`` / ``discriminator: {...}`` override options for one group
            (e.g. ``+optimizer.generator.betas=[0,0.99]``).
        scheduler: ``None`` or a ``{_target_, _partial_: true, ...}`` LR scheduler, stepped once per
            generator step for every group.
        grad_clip: ``{"generator": max, "discriminator": max, "algorithm": "norm" | "value"}``.
        ema_kimg: half-life of the generator EMA in thousands of images; ``None`` = no EMA.
        ema_rampup: the EMA half-life is at most this fraction of the images seen (``None``: off).
        spectral_norm: ``none``, ``discriminator`` or ``both`` (Miyato et al. 2018).
        augment: ``None`` or ``{"kind": "diffaugment" | "ada", **options}`` (the ``augment=`` group):
            what D sees of real and generated images passes through it (:meth:`augmented`).
        compile: ``torch.compile`` every network (GPU speed-up; not stored in checkpoints): ``False``,
            ``True`` (the default mode), or a mode, ``reduce-overhead`` (CUDA graphs: no launch cost
            per kernel) or ``max-autotune``. Penalty phases run eager (:meth:`eager`).
        channels_last: channels-last memory for conv weights and images (not stored either).
        lazy_optimizer_scaling: a group with a lazy regularization phase (every N generator steps)
            gets its learning rate times N / (N + 1) and Adam's betas to that power (StyleGAN2's
            ``mb_ratio``: the lazy steps do not speed the group up); see
            :func:`~gan_lightning.core.phases.lazy_optimizer_options`.
    """

    #: optimizer group -> names of the network attributes it updates
    groups: dict[str, tuple[str, ...]] = {"discriminator": ("discriminator",), "generator": ("generator",)}
    #: networks that get an EMA copy when ``ema_kimg`` is set (empty: the family has no generator)
    ema_networks: tuple[str, ...] = ("generator",)
    #: the data the family trains on: ``samples`` (x, y) or ``two_domains`` (a, b); see the datamodules
    data_kind: str = "samples"
    #: columns of the sample grid of :meth:`generate`'s output (None: the callback's ``nrow``)
    grid_columns: int | None = None
    #: whether ``sample_inputs`` takes class labels, and the label ids it takes (families with labels)
    conditional: bool = False
    classes: list[int] | None = None

    def __init__(
        self,
        optimizer: dict[str, Any] | None = None,
        scheduler: dict[str, Any] | None = None,
        grad_clip: dict[str, Any] | None = None,
        ema_kimg: float | None = None,
        ema_rampup: float | None = None,
        spectral_norm: str = "none",
        augment: dict[str, Any] | None = None,
        compile: bool | str = False,
        channels_last: bool = False,
        lazy_optimizer_scaling: bool = False,
    ) -> None:
        super().__init__()
        if not (isinstance(compile, bool) or compile in COMPILE_MODES):
            raise ConfigError(
                f"model.compile must be true, false or a torch.compile mode ({', '.join(COMPILE_MODES)}); "
                f"got {compile!r}."
            )
        self.automatic_optimization = False
        self.optimizer_config = _check_optimizer(optimizer)
        self.scheduler_config = scheduler
        self.grad_clip = _check_grad_clip(grad_clip)
        self._ema_options = _check_ema(ema_kimg, ema_rampup, self.ema_networks)
        if spectral_norm not in SPECTRAL_NORM_CHOICES:
            raise ConfigError(
                f"model.spectral_norm must be one of {', '.join(SPECTRAL_NORM_CHOICES)}, "
                f"got '{spectral_norm}'."
            )
        self._spectral_norm = spectral_norm
        self.augment = build_augment(**augment) if augment else None
        self._compile, self._channels_last, self._speedups_applied = compile, channels_last, False
        self._lazy_optimizer_scaling = bool(lazy_optimizer_scaling)
        self.ema: NetworkEMA | None = None
        # Generator steps taken so far; a buffer, so that it is saved in checkpoints.
        self.register_buffer("generator_step", torch.zeros((), dtype=torch.long))
        # Seed of the training noise (-1: not drawn yet); see :meth:`training_rng`.
        self.register_buffer("noise_seed", torch.full((), -1, dtype=torch.long))
        # Their host mirrors, so that the step never reads the device (see _load_from_state_dict).
        self._steps_done, self._noise_seed_value = 0, -1
        self._step_rng: Generator | None = None
        self._host_rng = Generator()  # discrete choices on an accelerator (host_rng)
        self._unchecked: list[tuple[int, Tensor, dict[str, Tensor]]] = []  # (step, finite?, losses)
        self._rng_states_to_restore: dict[str, Any] | None = None
        self._phases: list[Phase] | None = None
        self._batch_sizes: BatchSizes | None = None  # set by training_batch_sizes when they vary

    # --- what a family provides -------------------------------------------------------------------

    @classmethod
    def data_options(cls, datamodule: Any) -> dict[str, Any]:
        """The constructor options this family takes from the (set-up) datamodule, e.g. the data shape."""
        raise NotImplementedError

    def build_phases(self) -> list[Phase]:
        """The training step, in order."""
        raise NotImplementedError

    def generate(self, inputs: dict[str, Tensor], ema: bool | None = None) -> Tensor:
        """Samples of ``inputs`` (noise and labels, or source images: see the module docstring), by the
        EMA networks unless ``ema=False``."""
        raise NotImplementedError

    # --- networks -----------------------------------------------------------------------------------

    def finish_networks(self) -> None:
        """Apply spectral normalization and make the EMA copies; call after building the networks."""
        if self._spectral_norm != "none":
            chosen = GROUPS if self._spectral_norm == "both" else ("discriminator",)
            for group in chosen:
                for name in self.groups[group]:
                    apply_spectral_norm(getattr(self, name))
        if self._ema_options is not None:
            half_life, rampup = self._ema_options
            self.ema = NetworkEMA(self.networks_named(self.ema_networks), half_life, rampup)

    def networks_named(self, names: Sequence[str]) -> dict[str, nn.Module]:
        return {name: getattr(self, name) for name in names}

    @property
    def network_names(self) -> tuple[str, ...]:
        return tuple(name for group in GROUPS for name in self.groups[group])

    def augmented(self, images: Tensor, rng: Generator) -> Tensor:
        """What D sees of a batch: the images through the differentiable augmentation, if any."""
        return images if self.augment is None else self.augment(images, rng)

    def sampling_network(self, name: str, ema: bool | None = None) -> nn.Module:
        """The network ``name`` to sample from: its EMA copy when there is one (unless ``ema=False``)."""
        if ema is not False and self.ema is not None and name in self.ema.networks:
            return self.ema.networks[name]
        return getattr(self, name)

    # --- phases and step accounting ----------------------------------------------------------------

    @property
    def steps_done(self) -> int:
        """Generator steps taken so far (what the buffer :attr:`generator_step` holds), as a host integer:
        the step, the schedules and the callbacks read this, never the device."""
        return self._steps_done

    def _load_from_state_dict(self, state_dict: dict[str, Any], prefix: str, *args: Any) -> None:
        super()._load_from_state_dict(state_dict, prefix, *args)
        self._steps_done = int(self.generator_step)  # at load time, never during a step
        self._noise_seed_value = int(self.noise_seed)

    @property
    def phases(self) -> list[Phase]:
        if self._phases is None:
            self._phases = self.build_phases()
        return self._phases

    def optimizer_steps_for(self, generator_steps: int) -> int:
        """Lightning's ``global_step`` after ``generator_steps`` batches: ``trainer.max_steps`` and
        every period count generator steps, whatever the phases."""
        return optimizer_steps_for(self.phases, generator_steps)

    @property
    def optimizer_steps_per_batch(self) -> int:
        """Optimizer steps of the phases that run at every generator step (``n_critic + 1`` for a GAN
        without lazy regularizers)."""
        return sum(phase.repeats for phase in self.phases if phase.every == 1)

    # --- the training step -------------------------------------------------------------------------

    def configure_model(self) -> None:
        """Apply the speed switches once, before the optimizers are built (weights keep their names)."""
        if self._speedups_applied:
            return
        if self._channels_last:
            self.to(memory_format=torch.channels_last)
        if self._compile:
            mode = None if self._compile is True else self._compile
            for name in self.network_names:
                getattr(self, name).compile(mode=mode)
        self._speedups_applied = True

    def on_fit_start(self) -> None:
        if self._noise_seed_value < 0:  # a new run: derive it from the run's seed (seed_everything)
            self._noise_seed_value = torch.initial_seed() % 2**31
            self.noise_seed.fill_(self._noise_seed_value)
        self._step_rng = Generator(device=self.device)

    def on_train_start(self) -> None:
        if self._rng_states_to_restore is not None:  # resuming: continue the global random streams
            set_rng_states(self._rng_states_to_restore)
            self._rng_states_to_restore = None

    @contextmanager
    def eager(self) -> Iterator[None]:
        """Run the networks uncompiled inside this block: gradient penalties (WGAN-GP, R1, path length)
        need a double backward, which ``torch.compile``'s AOT autograd does not support. The graph
        built inside stays eager, so its backward may run after the block."""
        saved = {name: getattr(self, name)._compiled_call_impl for name in self.network_names}
        for name in saved:
            getattr(self, name)._compiled_call_impl = None
        try:
            yield
        finally:
            for name, compiled in saved.items():
                getattr(self, name)._compiled_call_impl = compiled

    def training_rng(self) -> Generator:
        """The random-number generator the step draws from (latents, augmentation, penalties),
        re-seeded at every generator step from (noise seed, step, DDP rank): every rank draws different
        noise (``seed_everything`` alone would give all ranks the same), and a resumed run draws
        exactly what the original would."""
        seed = (self._noise_seed_value * 1_000_003 + self._steps_done) * 1_009 + self.global_rank
        if self._step_rng.device.type != "cpu":
            self._host_rng.manual_seed(seed)
        return self._step_rng.manual_seed(seed)

    def host_rng(self, rng: Generator) -> Generator:
        """The generator of the step's discrete choices (style mixing's coin and cutoff, the image pools'
        seed), drawn on the host and read with ``tolist()``, so that no choice waits for the device: on
        the CPU the step's generator itself, on an accelerator a CPU generator seeded alike."""
        return rng if rng.device.type == "cpu" else self._host_rng

    def prepare_batch(self, batch: Sequence[Tensor]) -> tuple[Tensor, ...]:
        """The batch as the phases see it (channels-last images under that switch)."""
        if not self._channels_last:
            return tuple(batch)
        return tuple(x.contiguous(memory_format=torch.channels_last) if x.dim() == 4 else x for x in batch)

    def training_step(self, batch: Sequence[Tensor], batch_idx: int) -> None:
        batch = self.prepare_batch(batch)
        rng = self.training_rng()
        step = self._steps_done
        optimizers = dict(zip(GROUPS, self.optimizers(), strict=True))
        losses: dict[str, Tensor] = {}
        logs: dict[str, Tensor] = self.before_phases(batch)
        for phase in self.phases:
            if not phase.runs_at(step):
                continue
            for _ in range(phase.repeats):
                loss, values = self._run_phase(phase, optimizers[phase.group], batch, rng)
                losses[phase.log_name] = loss
                logs.update(values)
        logs.update(self.after_phases(batch))
        for scheduler in _as_list(self.lr_schedulers()):
            scheduler.step()
        self.generator_step += 1
        self._steps_done += 1
        finite = torch.isfinite(torch.stack(list(losses.values()))).all()  # read in check_finite
        self._unchecked.append((self._steps_done, finite, dict(losses)))
        if not self.logs_this_step():
            return
        main = {name: losses.pop(name) for name in (log_names.D_LOSS, log_names.G_LOSS) if name in losses}
        self.log_dict(main, prog_bar=True)
        self.log_dict({**losses, **logs})
        self.log_dict(  # as CPU tensors: a float would be copied to the device, and wait for it
            {
                log_names.learning_rate(group): torch.as_tensor(opt.param_groups[0]["lr"])
                for group, opt in optimizers.items()
            }
        )

    def logs_this_step(self) -> bool:
        """Whether this step's values go to Lightning: at the steps its loggers write them (every
        ``trainer.log_every_n_steps``), at the last batch of an epoch, at the last step, and where a
        callback reads them (``reads_logged_values_at(step)``, e.g. the console log). Only then: each
        ``self.log`` costs about a millisecond of Python, and Lightning reads the progress bar's values
        back from the device after every batch that logged them."""
        every, step = self.trainer.log_every_n_steps, self._steps_done
        if every > 0 and step % every == 0:
            return True
        if self.trainer.is_last_batch or 0 < self.trainer.max_steps <= self.trainer.global_step:
            return True
        readers = (getattr(cb, "reads_logged_values_at", None) for cb in self.trainer.callbacks)
        return any(reads(step) for reads in readers if reads is not None)

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        if self._steps_done % max(1, self.trainer.log_every_n_steps) == 0:
            self.check_finite()

    def on_train_end(self) -> None:
        self.check_finite()

    def check_finite(self) -> None:
        """Stop with a clear message if a loss of the steps since the last check was NaN or Inf: one
        host read for all of them (every ``trainer.log_every_n_steps`` steps, at the end, and before a
        checkpoint is written, so no checkpoint holds diverged weights)."""
        unchecked, self._unchecked = self._unchecked, []
        if not unchecked or bool(torch.stack([finite for _, finite, _ in unchecked]).all()):
            return
        step, losses = next((step, losses) for step, finite, losses in unchecked if not bool(finite))
        bad = ", ".join(
            f"{name} = {value.item()}" for name, value in losses.items() if not torch.isfinite(value)
        )
        raise FloatingPointError(
            f"Training diverged at generator step {step}: {bad}. The checkpoints written so far are intact; "
            "lower the learning rates, use gradient clipping or another loss, then resume or restart."
        )

    def _run_phase(
        self, phase: Phase, optimizer, batch: tuple[Tensor, ...], rng: Generator
    ) -> tuple[Tensor, dict[str, Tensor]]:
        with self.toggled_optimizer(optimizer):
            loss, values = phase.loss(batch, rng)
            optimizer.zero_grad(set_to_none=True)
            self.manual_backward(loss)
            optimizer.step()
        return loss.detach(), values

    def before_phases(self, batch: tuple[Tensor, ...]) -> dict[str, Tensor]:
        """Once per generator step before the updates (progressive growing sets the resolution here);
        returns values to log."""
        return {}

    def after_phases(self, batch: tuple[Tensor, ...]) -> dict[str, Tensor]:
        """Once per generator step after the updates: the EMA update, and ADA's probability adjusted
        from D's outputs on real images (families may add more). Both count images, those of the
        batches actually trained on when the batch size changes (:meth:`training_batch_sizes`)."""
        logs: dict[str, Tensor] = {}
        batch_images = batch[0].size(0) * self.trainer.world_size
        step = self._steps_done
        if self.ema is not None:
            seen = self.images_before(step, batch_images)
            beta = self.ema.update(self.networks_named(self.ema_networks), batch_images, seen)
            logs[log_names.EMA_BETA] = torch.tensor(beta)
        if isinstance(self.augment, AdaptiveAugment):
            interval_images = None  # ADA takes batch_images x interval
            if self._batch_sizes is not None:  # the images of the interval's steps first .. step
                first, images = max(0, step + 1 - self.augment.interval), self.images_before
                interval_images = images(step + 1, batch_images) - images(first, batch_images)
            self.augment.update(batch_images, reduce=self._sum_over_ranks, images_in_interval=interval_images)
            logs[log_names.AUGMENT_P] = self.augment.p.detach().clone()
            logs[log_names.AUGMENT_RT] = self.augment.r_t.detach().clone()
        return logs

    # --- batch sizes ---------------------------------------------------------------------------------

    def varying_batch_sizes(self, default: int) -> BatchSizes | None:
        """Family hook: the batch size (per process) of every generator step when it changes in training
        (progressive growing's ``batch_sizes``), ``default`` (``data.batch_size``) where it is not
        set; ``None`` (the default) when every batch has ``default`` samples."""
        return None

    def training_batch_sizes(self, default: int) -> BatchSizes | None:
        """What the training loader follows: the datamodule asks when it builds the loader (with
        ``data.batch_size``), and the answer is kept to count the images seen (:meth:`images_before`)."""
        self._batch_sizes = self.varying_batch_sizes(default)
        return self._batch_sizes

    def images_before(self, step: int, batch_images: int) -> int:
        """Images (all processes) trained on in generator steps 0 .. step-1: ``step * batch_images``, or
        the sum over the loader's batch sizes when they change (:meth:`training_batch_sizes`)."""
        if self._batch_sizes is None:
            return step * batch_images
        return self._batch_sizes.samples_before(step) * self.trainer.world_size

    def _sum_over_ranks(self, tensor: Tensor) -> Tensor:
        return self.trainer.strategy.reduce(tensor, reduce_op="sum")

    # --- optimizers ----------------------------------------------------------------------------------

    def configure_optimizers(self):
        options = dict(self.optimizer_config)
        learning_rates = {"discriminator": options.pop("lr_d"), "generator": options.pop("lr_g")}
        overrides = {group: dict(options.pop(group, None) or {}) for group in GROUPS}
        optimizers = []
        for group in GROUPS:
            group_options = {**options, **overrides[group], "_partial_": True}
            interval = lazy_interval(self.phases, group) if self._lazy_optimizer_scaling else None
            if interval is not None:
                group_options, learning_rates[group] = lazy_optimizer_options(
                    group_options, learning_rates[group], interval
                )
            group_options = devices.fused_optimizer(
                group_options, get_object(group_options["_target_"]), self.device
            )
            make_optimizer = instantiate(group_options)
            params = [p for name in self.groups[group] for p in getattr(self, name).parameters()]
            optimizers.append(make_optimizer(params, lr=learning_rates[group]))
        if not self.scheduler_config:
            return optimizers
        make_scheduler = instantiate(self.scheduler_config)
        schedulers = [
            {"scheduler": make_scheduler(opt), "interval": "step", "name": log_names.learning_rate(group)}
            for group, opt in zip(GROUPS, optimizers, strict=True)
        ]
        return optimizers, schedulers

    def on_before_optimizer_step(self, optimizer: torch.optim.Optimizer) -> None:
        """Clip the group's gradients (called by Lightning after AMP unscaling, before the step)."""
        group = GROUPS[self.trainer.optimizers.index(optimizer)]
        max_value = self.grad_clip[group]
        if max_value is not None:
            self.clip_gradients(
                optimizer, gradient_clip_val=max_value, gradient_clip_algorithm=self.grad_clip["algorithm"]
            )

    # --- checkpoints ---------------------------------------------------------------------------------

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self.check_finite()  # raises before anything is written
        checkpoint["model_class"] = f"{type(self).__module__}.{type(self).__qualname__}"
        checkpoint["rng_states"] = rng_states()

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self._rng_states_to_restore = checkpoint.get("rng_states")

    def load_network_weights(self, checkpoint_path: str, networks: Sequence[str] | None = None) -> None:
        """Copy some networks' weights (default: all) from a checkpoint of a compatible model; the
        optimizers stay fresh. EMA copies come from the checkpoint's EMA, or from the loaded weights."""
        checkpoint = torch.load(checkpoint_path, map_location="cpu", weights_only=False)
        state = checkpoint.get("state_dict") if isinstance(checkpoint, dict) else None
        if state is None:
            raise ConfigError(
                f"'{checkpoint_path}' is not a gan-lightning checkpoint (no 'state_dict' in it)."
            )
        names = list(networks) if networks is not None else list(self.network_names)
        unknown = sorted(set(names) - set(self.network_names))
        if unknown:
            raise ConfigError(
                f"init_networks={unknown}: this model's networks are {', '.join(self.network_names)}."
            )
        for name in names:
            _load_prefixed(getattr(self, name), state, f"{name}.", checkpoint_path, name)
        if self.ema is None:
            return
        for name in set(names) & set(self.ema.networks.keys()):
            prefix = f"ema.networks.{name}."
            if any(k.startswith(prefix) for k in state):
                _load_prefixed(self.ema.networks[name], state, prefix, checkpoint_path, f"EMA {name}")
            else:
                self.ema.reset_to({name: getattr(self, name)})


def _load_prefixed(network: nn.Module, state: dict[str, Tensor], prefix: str, path: str, what: str) -> None:
    weights = {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
    try:
        network.load_state_dict(weights)
    except RuntimeError as err:
        raise ConfigError(
            f"init_from={path}: its {what} does not match this model's (same model, data and sizes "
            f"needed).\n{err}"
        ) from err


def _check_optimizer(optimizer: dict[str, Any] | None) -> dict[str, Any]:
    if optimizer is None:
        raise ConfigError("An optimizer configuration is required (optimizer=adam|sgd|rmsprop).")
    for key in ("lr_g", "lr_d"):
        if not optimizer.get(key, 0) > 0:
            raise ConfigError(f"optimizer.{key} must be positive, got {optimizer.get(key)}.")
    for group in GROUPS:
        if not isinstance(optimizer.get(group) or {}, dict):
            raise ConfigError(
                f"optimizer.{group} holds options for the {group} group only, e.g. "
                f"optimizer.{group}.betas=[0,0.99]; got {optimizer.get(group)!r}."
            )
    return dict(optimizer)


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
    for network in GROUPS:
        value = options[network]
        if value is not None and not value > 0:
            raise ConfigError(
                f"model.grad_clip.{network} must be positive or null (no clipping), got {value}."
            )
    return options


def _check_ema(
    ema_kimg: float | None, ema_rampup: float | None, ema_networks: tuple[str, ...]
) -> tuple[float, float | None] | None:
    if ema_kimg is None:
        return None
    if not ema_networks:
        raise ConfigError(
            "model.ema_kimg is set, but this family has no generator to average. Set model.ema_kimg=null."
        )
    if not ema_kimg > 0:
        raise ConfigError(
            f"model.ema_kimg (EMA half-life in thousands of images) must be positive, or null for no EMA; "
            f"got {ema_kimg}."
        )
    if ema_rampup is not None and not ema_rampup > 0:
        raise ConfigError(f"model.ema_rampup must be positive or null, got {ema_rampup}.")
    return float(ema_kimg), ema_rampup


def _as_list(x: Any) -> list:
    if x is None:
        return []
    return x if isinstance(x, list) else [x]
