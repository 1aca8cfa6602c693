"""The training loop as an iterator: each `next()` runs one batch and returns its metrics.

Driving the loop step by step lets the CLI print a progress bar and the GUI run it in a QThread,
both over the same code. `pause`, `resume` and `stop` are thread-safe and act before the next
batch. Runs are reproducible: the shuffle of epoch e and the sampling noise are seeded from
(seed, e), and a checkpoint stores the random state so a resumed run takes the very same next step.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace
from typing import NoReturn

import torch

from vae_desktop.core.config import TrainConfig
from vae_desktop.core.datasets.base import ImageDataset, to_float
from vae_desktop.core.device import pick_device
from vae_desktop.core.divergence import RAW_STDDEV_HINT, DivergenceGuard, diverged, loss_problem, stddev_problem
from vae_desktop.core.errors import ConfigError
from vae_desktop.core.evaluation import Evaluation, evaluate_model
from vae_desktop.core.history import TrainingHistory
from vae_desktop.core.losses import LossTerms, vae_loss, warmup_beta
from vae_desktop.core.metrics import BatchMetrics, EpochMetrics
from vae_desktop.core.model import VAE, VAEOutput
from vae_desktop.core.optimizer import make_adam


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
        self._divergence = DivergenceGuard(snapshot_every)  # the last good weights, to roll back to
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
        rng_before = torch.get_rng_state() if self._divergence.due(step) else None
        out = self._forward(x)
        if self._check_raw_stddev:
            self._check_stddev(out.posterior.scale, epoch, step)
        terms = vae_loss(out.logits, x, out.posterior, self.kl_weight(), self.config.recon_loss, self.config.free_bits)
        recon, kl = self._finite_losses(terms, epoch, step)
        if rng_before is not None:  # after a finite loss and before the update: these weights are good
            self._divergence.take(self.model, self.optimizer, self.progress, rng_before)
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

    # ---- divergence (core/divergence.py) ---------------------------------------------------------
    def _finite_losses(self, terms: LossTerms, epoch: int, step: int) -> tuple[float, float]:
        """The step's losses as numbers (the step's one wait for the device); if either is not finite,
        the model is rolled back to its last snapshot and TrainingDivergedError raised, before any update."""
        recon, kl = self._batch_means(terms)
        problem = loss_problem(recon, kl)
        if problem is not None:
            self._roll_back_and_raise(epoch, step + 1, problem)
        return recon, kl

    def _check_stddev(self, std: torch.Tensor, epoch: int, step: int) -> None:
        """With `--stddev raw` nothing keeps σ positive: stop at the first step that gives σ <= 0, as
        the NaN path does, before any update."""
        problem = stddev_problem(std)
        if problem is not None:
            self._roll_back_and_raise(epoch, step + 1, problem, hint=RAW_STDDEV_HINT)

    def _roll_back_and_raise(self, epoch: int, step: int, what: str, hint: str = "") -> NoReturn:
        """`what` happened at the step: restore the last good weights (if any) and raise."""
        snap = self._divergence.roll_back(self.model, self.optimizer, self.history)
        if snap is not None:
            self.progress = snap.progress
            self._resume_rng = snap.rng_state
        raise diverged(what, epoch, step, snap, hint)

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
