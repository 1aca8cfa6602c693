"""The window's run as plain data: what it is, where its live state is, and what its history holds.

No Qt here: `RunController` keeps one `CurrentRun` and sends `HistorySnapshot`s to the plots.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from vae_desktop.core.checkpoint import Checkpoint
from vae_desktop.core.config import ModelConfig, RunSettings, TrainConfig
from vae_desktop.core.datasets import DATASETS, ImageDataset
from vae_desktop.core.errors import CheckpointError
from vae_desktop.core.history import TrainingHistory
from vae_desktop.core.metrics import EpochMetrics
from vae_desktop.core.model import new_model
from vae_desktop.core.resume import ResumePoint, resume_trainer
from vae_desktop.core.runs.owner import OwnedRunFolder
from vae_desktop.core.trainer import Trainer, TrainingProgress


@dataclass(frozen=True)
class HistorySnapshot:
    """A whole loss history for the plots (opened checkpoint, rolled-back run, new run)."""

    steps: np.ndarray
    recon: np.ndarray
    kl: np.ndarray
    epochs: list[EpochMetrics]
    steps_per_epoch: int

    @classmethod
    def of(cls, history: TrainingHistory, steps_per_epoch: int) -> HistorySnapshot:
        arrays = history.batch_arrays()
        return cls(arrays["global_step"], arrays["recon"], arrays["kl"], list(history.epochs), steps_per_epoch)

    @classmethod
    def empty(cls) -> HistorySnapshot:
        return cls(np.zeros(0), np.zeros(0), np.zeros(0), [], 1)


@dataclass
class CurrentRun:
    """The run the window holds: born at the first Start or by opening a checkpoint."""

    dataset: str  # registry name ("shapes", "folder:/path", ...)
    model_config: ModelConfig
    train_config: TrainConfig
    trainer: Trainer | None = None  # set once trained in this window; holds the live state
    checkpoint: Checkpoint | None = None  # an opened checkpoint not trained since
    path: str | None = None  # where it was last opened from or saved to
    saved_step: int = -1
    number: int = 0  # counts the runs of this window
    dataset_steps_per_epoch: int | None = None  # an opened run's, once its dataset has loaded
    folder: OwnedRunFolder | None = None  # the run folder it autosaves into (locked while it is the window's)

    def release(self) -> None:
        """The window lets the run go: its folder's lock is given up (every file stays)."""
        if self.folder is not None:
            self.folder.release()

    @property
    def progress(self) -> TrainingProgress:
        if self.trainer is not None:
            return self.trainer.progress
        return self.checkpoint.progress if self.checkpoint is not None else TrainingProgress()

    @property
    def history(self) -> TrainingHistory:
        if self.trainer is not None:
            return self.trainer.history
        return self.checkpoint.history if self.checkpoint is not None else TrainingHistory()

    @property
    def image_size(self) -> int | None:
        """The size its images were scaled to (`--image-size`), None for the dataset's own."""
        if self.trainer is not None:
            return self.trainer.dataset.image_size
        return self.checkpoint.image_size if self.checkpoint is not None else None

    @property
    def steps_per_epoch(self) -> int | None:
        """Known once trained here, from a checkpoint that has finished an epoch, or from its dataset."""
        if self.trainer is not None:
            return self.trainer.steps_per_epoch
        return recorded_steps_per_epoch(self.progress) or self.dataset_steps_per_epoch

    @property
    def has_unsaved_progress(self) -> bool:
        """Training that is not in a file yet. A run still at step 0 that was never saved (a first
        step that diverged, say) holds nothing to lose: its settings stay in the form."""
        step = self.progress.global_step
        return step != self.saved_step and not (step == 0 and self.saved_step < 0)

    @classmethod
    def begin(cls, settings: RunSettings, dataset: ImageDataset, template: ModelConfig, number: int) -> CurrentRun:
        """A new run of `settings` on `dataset`: a fresh model shaped for its images."""
        c, h, w = dataset.image_shape
        model_config = replace(template, z_dim=settings.z_dim, channels=c, height=h, width=w)
        if settings.architecture is not None:
            model_config = settings.architecture.applied_to(model_config)
        trainer = Trainer(new_model(model_config, settings.train.seed), dataset, settings.train)
        return cls(settings.dataset, model_config, settings.train, trainer=trainer, number=number)

    def continue_training(self, config: TrainConfig, dataset: ImageDataset) -> bool:
        """Make `trainer` a new Trainer that continues this run exactly (core/resume.py) with `config`'s
        epochs, learning rate, beta and device; everything else (batch size, seed, reconstruction loss,
        KL warm-up, free bits: settings the form does not show or a CLI run chose) stays the run's.
        False when there is nothing to continue from yet."""
        if self.trainer is not None:
            point = ResumePoint.of_trainer(self.trainer)
        elif self.checkpoint is not None:
            point = ResumePoint.of_checkpoint(self.checkpoint)
        else:
            return False
        config = replace(self.train_config, epochs=config.epochs, lr=config.lr, beta=config.beta, device=config.device)
        self.trainer, self.checkpoint, self.train_config = resume_trainer(point, dataset, config), None, config
        return True

    @property
    def trained_seconds(self) -> float:
        """Active training seconds recorded in the run's history: its epochs and the one in progress."""
        return sum(epoch.seconds for epoch in self.history.epochs) + self.progress.epoch_seconds


def check_dataset_shape(ckpt: Checkpoint, name: str) -> None:
    """Refuse, before the current run is replaced, a checkpoint whose model cannot take its own dataset's
    images (a built-in dataset's shape is known without loading it; a folder's is checked once loaded)."""
    info = DATASETS.get(ckpt.dataset)
    if info is None:
        return
    channels, height, width = info.image_shape
    if ckpt.image_size is not None:  # trained on the dataset scaled to --image-size
        height = width = ckpt.image_size
    if (channels, height, width) != ckpt.model_config.image_shape:
        raise CheckpointError(
            f"{name} does not fit its dataset: the model takes images of shape {ckpt.model_config.image_shape} "
            f"but {ckpt.dataset} has {(channels, height, width)}."
        )


def recorded_steps_per_epoch(progress: TrainingProgress) -> int | None:
    """Steps per epoch recorded implicitly in a checkpoint's progress (None before the first epoch ends)."""
    if progress.epoch <= 0:
        return None
    return max(1, (progress.global_step - progress.step_in_epoch) // progress.epoch)
