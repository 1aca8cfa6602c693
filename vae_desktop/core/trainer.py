"""The training loop as an iterator: each `next()` runs one batch and returns its metrics.

Driving the loop step by step lets the CLI print a progress bar and the GUI run it in a QThread,
both over the same code. `pause`, `resume` and `stop` are thread-safe and act before the next
batch. Runs are reproducible: the shuffle of epoch e and the sampling noise are seeded from
(seed, e), and a checkpoint stores the random state so a resumed run takes the very same next step.
"""

from __future__ import annotations

import copy
import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace
from typing import NoReturn

import numpy as np
import torch

from vae_desktop.core.config import TrainConfig
from vae_desktop.core.datasets.base import ImageDataset, to_float
from vae_desktop.core.device import pick_device
from vae_desktop.core.errors import ConfigError, TrainingDivergedError
from vae_desktop.core.history import TrainingHistory
from vae_desktop.core.inspection import count_active_units
from vae_desktop.core.losses import LossTerms, kl_per_dimension, reconstruction_nats, vae_loss, warmup_beta
from vae_desktop.core.metrics import BatchMetrics, EpochMetrics
from vae_desktop.core.model import VAE, VAEOutput, first_bad_stddev
from vae_desktop.core.optimizer import make_adam

EVAL_BATCH = 1000


@dataclass(frozen=True)
class TrainingProgress:
    """Where a run stands; enough to continue it exactly from a checkpoint."""

    epoch: int = 0  # completed epochs
    step_in_epoch: int = 0  # completed steps of the epoch in progress
    global_step: int = 0
    epoch_recon_sum: float = 0.0  # running sums for the epoch in progress (per-image nats * images)
    epoch_kl_sum: float = 0.0
    epoch_images: int = 0
    epoch_seconds: float = 0.0  # active (unpaused) seconds spent in the epoch in progress

    def to_dict(self) -> dict[str, float]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, float]) -> TrainingProgress:
        return cls(
            epoch=int(data["epoch"]),
            step_in_epoch=int(data["step_in_epoch"]),
            global_step=int(data["global_step"]),
            epoch_recon_sum=float(data["epoch_recon_sum"]),
            epoch_kl_sum=float(data["epoch_kl_sum"]),
            epoch_images=int(data["epoch_images"]),
            epoch_seconds=float(data["epoch_seconds"]),
        )


@dataclass
class _Snapshot:
    """Last weights known to give a finite loss, to roll back to when training diverges."""

    model_state: dict[str, torch.Tensor]
    optimizer_state: dict
    progress: TrainingProgress
    rng_state: torch.Tensor


def epoch_seed(seed: int, epoch: int) -> int:
    return (seed * 1_000_003 + epoch) % (2**63 - 1)


class Trainer:
    """Trains `model` on `dataset`. Iterate `run()`; it yields BatchMetrics and EpochMetrics."""

    def __init__(
        self,
        model: VAE,
        dataset: ImageDataset,
        config: TrainConfig,
        *,
        device: torch.device | str | None = None,
        history: TrainingHistory | None = None,
        optimizer_state: dict | None = None,
        progress: TrainingProgress | None = None,
        rng_state: torch.Tensor | None = None,
        snapshot_every: int = 25,
    ) -> None:
        if tuple(dataset.image_shape) != model.config.image_shape:
            raise ConfigError(
                f"The model expects images of shape {model.config.image_shape} but {dataset.name} has "
                f"{dataset.image_shape}."
            )
        if config.batch_size > dataset.num_train:
            raise ConfigError(
                f"Batch size {config.batch_size} is larger than the training set ({dataset.num_train} images)."
            )
        self.config = config
        self.dataset = dataset
        self.device = torch.device(device) if device is not None else pick_device(config.device)
        self.model = model.to(self.device)
        # exp and softplus are positive by construction (an underflow to 0 is an infinite KL, the NaN path)
        self._check_raw_stddev = model.config.stddev == "raw"
        self.optimizer = make_adam(self.model.parameters(), config.lr, self.device)
        if optimizer_state is not None:
            self.optimizer.load_state_dict(optimizer_state)
            for group in self.optimizer.param_groups:
                group["lr"] = config.lr
        self.history = history if history is not None else TrainingHistory()
        self.progress = progress if progress is not None else TrainingProgress()
        self._resume_rng = rng_state
        self._snapshot_every = max(1, snapshot_every)
        self._snapshot: _Snapshot | None = None
        self._train_images = dataset.train_images.to(self.device)
        self._test_images = dataset.test_images.to(self.device)
        self._running = threading.Event()
        self._running.set()
        self._stop = threading.Event()

    # ---- control (thread-safe) -------------------------------------------------------------
    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def stop(self) -> None:
        self._stop.set()
        self._running.set()

    @property
    def is_paused(self) -> bool:
        return not self._running.is_set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(self.dataset.num_train / self.config.batch_size)

    @property
    def finished(self) -> bool:
        return self.progress.epoch >= self.config.epochs

    # ---- the loop ------------------------------------------------------------------------------
    def run(self, wait_while_paused: Callable[[], None] | None = None) -> Iterator[BatchMetrics | EpochMetrics]:
        """Train until `config.epochs` epochs are complete or `stop()` is called.

        `wait_while_paused` is called before a step whenever the trainer is paused, and must return
        once it is resumed or stopped; the default just waits. The GUI's worker waits its own way (it
        serves saves and tells the window), and being called from here, at the one place the trainer
        looks, it can never miss a pause that lands just before a step."""
        wait = wait_while_paused or self._wait_while_paused
        while not self.finished and not self._stop.is_set():
            yield from self._run_epoch(wait)

    def _run_epoch(self, wait_while_paused: Callable[[], None]) -> Iterator[BatchMetrics | EpochMetrics]:
        """The epoch's remaining steps, each yielded as it is done, then its test pass."""
        epoch = self.progress.epoch + 1
        steps = self.steps_per_epoch
        order = self._start_epoch(epoch)
        rate = 0.0
        for step in range(self.progress.step_in_epoch, steps):
            if self.is_paused:
                wait_while_paused()
            if self._stop.is_set():
                return
            started = time.perf_counter()
            x = self._batch(order, step)
            recon, kl = self._train_step(x, epoch, step)
            elapsed = time.perf_counter() - started
            n = self._step_images(x)
            rate = n / elapsed if rate == 0.0 else 0.9 * rate + 0.1 * n / elapsed
            self._count_step(recon, kl, n, elapsed)
            metrics = BatchMetrics(epoch, step + 1, steps, self.progress.global_step, recon, kl, recon + kl, rate)
            self.history.add_batch(metrics)
            yield metrics

        if self.is_paused:  # paused after the epoch's last step: the test pass waits too
            wait_while_paused()
        result = self._finish_epoch(epoch)
        if result is not None:  # None: stopped during the test pass; the steps are kept, the pass reruns
            yield result

    def _train_step(self, x: torch.Tensor, epoch: int, step: int) -> tuple[float, float]:
        """One optimisation step, as in pytorch/examples' VAE: forward, loss, backward, update.

        Returns the batch's mean reconstruction and KL per image (nats)."""
        rng_before = torch.get_rng_state() if self._snapshot_due(step) else None
        out = self._forward(x)
        if self._check_raw_stddev:
            self._check_stddev(out.posterior.scale, epoch, step)
        terms = vae_loss(out.logits, x, out.posterior, self.kl_weight(), self.config.recon_loss, self.config.free_bits)
        recon, kl = self._finite_losses(terms, epoch, step)
        if rng_before is not None:
            self._take_snapshot(rng_before)
        self.optimizer.zero_grad(set_to_none=True)
        terms.objective.backward()
        self.optimizer.step()
        return recon, kl

    def kl_weight(self) -> float:
        """β for the next step: `config.beta`, ramped up from 0 over the first `kl_warmup_epochs` epochs."""
        warmup_steps = self.config.kl_warmup_epochs * self.steps_per_epoch
        return warmup_beta(self.config.beta, self.progress.global_step, warmup_steps)

    def _start_epoch(self, epoch: int) -> torch.Tensor:
        """The epoch's shuffle (on the device), with the sampling noise seeded for the epoch, or, when a
        checkpoint resumes it mid-way, continued from the random state the checkpoint stored."""
        order = torch.randperm(
            self.dataset.num_train, generator=torch.Generator().manual_seed(epoch_seed(self.config.seed, epoch))
        ).to(self.device)
        if self.progress.step_in_epoch == 0:
            torch.manual_seed(epoch_seed(self.config.seed + 7919, epoch))
        elif self._resume_rng is not None:
            torch.set_rng_state(self._resume_rng)
        self._resume_rng = None
        self.model.train()
        return order

    def _batch(self, order: torch.Tensor, step: int) -> torch.Tensor:
        """Step `step`'s images of the shuffled training set, as floats in [0, 1] (the last batch may be short)."""
        size = self.config.batch_size
        return to_float(self._train_images[order[step * size : (step + 1) * size]])

    # Hooks a distributed trainer (core/distributed_trainer.py) overrides: its process's share of the
    # global batch goes through the model, and the numbers counted are the global batch's.
    def _forward(self, x: torch.Tensor) -> VAEOutput:
        return self.model(x)

    def _batch_means(self, terms: LossTerms) -> tuple[float, float]:
        """The batch's mean recon and KL per image, as numbers."""
        return terms.recon.item(), terms.kl.item()

    def _step_images(self, x: torch.Tensor) -> int:
        """Images the step trained on (the batch's, across all processes)."""
        return x.shape[0]

    def _count_step(self, recon: float, kl: float, images: int, seconds: float) -> None:
        """Add a finished step to the progress and to the epoch's running sums."""
        p = self.progress
        self.progress = replace(
            p,
            step_in_epoch=p.step_in_epoch + 1,
            global_step=p.global_step + 1,
            epoch_recon_sum=p.epoch_recon_sum + recon * images,
            epoch_kl_sum=p.epoch_kl_sum + kl * images,
            epoch_images=p.epoch_images + images,
            epoch_seconds=p.epoch_seconds + seconds,
        )

    def _finish_epoch(self, epoch: int) -> EpochMetrics | None:
        """The test pass and the epoch's record; None when stop() interrupts the pass."""
        eval_started = time.perf_counter()
        test = self.evaluate(self._test_images, stoppable=True)
        if test is None:
            return None
        p = self.progress
        images = max(p.epoch_images, 1)
        result = EpochMetrics(
            epoch=epoch,
            train_recon=p.epoch_recon_sum / images,
            train_kl=p.epoch_kl_sum / images,
            train_total=(p.epoch_recon_sum + p.epoch_kl_sum) / images,
            test_recon=test.recon,
            test_kl=test.kl,
            test_total=test.recon + test.kl,
            samples_per_s=p.epoch_images / max(p.epoch_seconds, 1e-9),
            seconds=p.epoch_seconds + time.perf_counter() - eval_started,
            kl_per_dim=tuple(test.kl_per_dim.tolist()),
            active_units=test.active_units,
        )
        self.progress = TrainingProgress(epoch=epoch, global_step=p.global_step)
        self.history.add_epoch(result)
        return result

    def evaluate(self, images: torch.Tensor | None = None, stoppable: bool = False) -> Evaluation | None:
        """Mean test recon and KL per image. Noise comes from a fixed generator so curves are comparable.

        Returns None only when `stoppable` and stop() was requested during the pass.
        """
        images = self._test_images if images is None else images
        return evaluate_model(self.model, images, self.config.recon_loss, self.config.seed, self._stop if stoppable else None)

    # ---- divergence ----------------------------------------------------------------------------
    def _snapshot_due(self, step: int) -> bool:
        return self._snapshot is None or step % self._snapshot_every == 0

    def _finite_losses(self, terms: LossTerms, epoch: int, step: int) -> tuple[float, float]:
        """The step's losses as numbers (the step's one wait for the device); if either is not finite,
        the model is rolled back to its last snapshot and TrainingDivergedError raised, before any update."""
        recon, kl = self._batch_means(terms)
        if not (math.isfinite(recon) and math.isfinite(kl)):
            bad = "NaN" if math.isnan(recon) or math.isnan(kl) else "infinite"
            self._roll_back_and_raise(epoch, step + 1, f"the loss became {bad}")
        return recon, kl

    def _check_stddev(self, std: torch.Tensor, epoch: int, step: int) -> None:
        """With `--stddev raw` the encoder's output is σ itself, and nothing keeps it positive: stop at
        the first step that gives σ <= 0 (no Normal has it), as the NaN path does, before any update."""
        bad = first_bad_stddev(std.detach())
        if bad is not None:
            image, dim, value = bad
            self._roll_back_and_raise(
                epoch, step + 1, f"the stddev became {'zero' if value == 0 else 'negative'} "
                f"(σ = {value:.4g} in latent dimension {dim} of image {image + 1} of the batch)",
                hint="the raw stddev uses the encoder's output as σ and nothing keeps it positive; "
                "exp (the default) or softplus does",
            )

    def _take_snapshot(self, rng_state: torch.Tensor) -> None:
        """Called after a finite loss and before the update: these weights are known to be good."""
        self._snapshot = _Snapshot(
            model_state={k: v.detach().clone() for k, v in self.model.state_dict().items()},
            optimizer_state=copy.deepcopy(self.optimizer.state_dict()),
            progress=self.progress,
            rng_state=rng_state,
        )

    def _roll_back_and_raise(self, epoch: int, step: int, what: str, hint: str = "") -> NoReturn:
        """`what` happened at the step: restore the last good weights and raise, with `hint` (default:
        try a smaller learning rate) for what to change."""
        snap = self._snapshot
        # No snapshot: the very first step of this session failed, before any update. Nothing needs
        # restoring, and "the initial weights" would be untrue for a resumed run.
        outcome = ("Nothing was changed: the weights this session started from already give that loss, "
                   "before any update, so a smaller learning rate will not help")
        if hint:
            outcome = f"Nothing was changed: this happened before any update; {hint}"
        if snap is not None:
            self.model.load_state_dict(snap.model_state)
            self.optimizer.load_state_dict(snap.optimizer_state)
            self.progress = snap.progress
            self._resume_rng = snap.rng_state
            self.history.truncate(snap.progress.global_step, snap.progress.epoch)
            restored = "its initial weights"
            if snap.progress.global_step > 0:  # a snapshot at step 0 holds the initial weights
                restored = f"its last good weights, after step {snap.progress.global_step:,} of the run"
            outcome = f"The model was restored to {restored}; {hint or 'try a smaller learning rate'}"
        raise TrainingDivergedError(
            f"Training stopped: {what} at epoch {epoch}, step {step}. "
            f"{outcome}.",
            epoch=epoch,
            step=step,
        )

    # ---- state for checkpoints -----------------------------------------------------------------
    def _wait_while_paused(self) -> None:
        while not self._running.wait(timeout=0.1):
            if self._stop.is_set():
                return

    def rng_state(self) -> torch.Tensor:
        """Random state to store in a checkpoint (call when the loop is not mid-step)."""
        if self._resume_rng is not None:
            return self._resume_rng
        return torch.get_rng_state()


@dataclass(frozen=True)
class Evaluation:
    """Test-set means per image in nats; kl_per_dim (z_dim,) sums to kl; active_units counts the
    dimensions whose posterior mean varies over the images by more than 0.01 (Burda et al. 2015)."""

    recon: float
    kl: float
    kl_per_dim: np.ndarray
    active_units: int = 0

    @property
    def negative_elbo(self) -> float:
        return self.recon + self.kl


@torch.no_grad()
def evaluate_model(
    model: VAE,
    images: torch.Tensor,
    recon_loss: str = "bernoulli",
    seed: int = 0,
    stop: threading.Event | None = None,
) -> Evaluation | None:
    """Mean recon and KL per image (nats) over uint8 `images`, with z = mean + stddev * eps.

    This is exactly `Normal(mean, stddev).rsample()`, with eps from a seeded generator so the
    estimate does not depend on (or disturb) the global random state.
    """
    sums = evaluation_sums(model, images, recon_loss, seed, stop)
    if sums is None:
        return None
    return evaluation_from_sums(sums, len(images))


@torch.no_grad()
def evaluation_sums(
    model: VAE,
    images: torch.Tensor,
    recon_loss: str = "bernoulli",
    seed: int = 0,
    stop: threading.Event | None = None,
    part: tuple[int, int] = (0, 1),
) -> torch.Tensor | None:
    """Summed recon, per-dimension KL, posterior means and their squares (float64, shape (1 + 3 z_dim,))
    over part (index, count) of `images`.

    Part i of n takes the i-th of n near-equal slices of every EVAL_BATCH chunk, and every part draws
    the whole chunk's noise, so the parts' sums add up to the one-process sums (each image exactly once,
    with the noise one process gives it) whatever n is. None when `stop` is set during the pass."""
    index, count = part
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    gen = torch.Generator(device=device).manual_seed(seed)
    recon_sum = 0.0
    kl_sums = torch.zeros(model.config.z_dim, dtype=torch.float64)
    mean_sums = torch.zeros(model.config.z_dim, dtype=torch.float64)
    mean_squares = torch.zeros(model.config.z_dim, dtype=torch.float64)
    try:
        for start in range(0, len(images), EVAL_BATCH):
            if stop is not None and stop.is_set():
                return None
            chunk = images[start : start + EVAL_BATCH]
            eps = torch.randn((len(chunk), model.config.z_dim), generator=gen, device=device)
            rows = slice(index * len(chunk) // count, (index + 1) * len(chunk) // count)
            x = to_float(chunk[rows].to(device))
            posterior = model.posterior(x)
            z = posterior.loc + posterior.scale * eps[rows]
            recon_sum += reconstruction_nats(model.decode_logits(z), x, recon_loss).sum().item()
            kl_sums += kl_per_dimension(posterior).sum(0).double().cpu()
            loc = posterior.loc.double().cpu()
            mean_sums += loc.sum(0)
            mean_squares += (loc**2).sum(0)
    finally:
        model.train(was_training)
    return torch.cat([torch.tensor([recon_sum], dtype=torch.float64), kl_sums, mean_sums, mean_squares])


def evaluation_from_sums(sums: torch.Tensor, images: int) -> Evaluation:
    """Means per image from `evaluation_sums` (added up over every part) of `images` images; the posterior
    means' variance over the images (for the active units) from their sums and sums of squares."""
    count = max(images, 1)
    z_dim = (len(sums) - 1) // 3
    per_dim = (sums[1 : 1 + z_dim] / count).numpy()
    mean = sums[1 + z_dim : 1 + 2 * z_dim] / count
    variance = (sums[1 + 2 * z_dim :] / count - mean**2).clamp(min=0).numpy()
    return Evaluation(float(sums[0]) / count, float(per_dim.sum()), per_dim, count_active_units(variance))
