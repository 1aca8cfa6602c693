"""What the views see of the window's run: the mirror's model and dataset, the plots' history, the
form's settings and lock, and the title's path, each sent as a plain value.

`RunController` decides which run is current; this object turns "the run is now X" into the same
few mirror calls and signals every time (a new run, an opened checkpoint, no run, the own run shown
again after following another), so the order the views hear them in is written once.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QObject, Signal

from vae_desktop.core.checkpoint import Checkpoint
from vae_desktop.core.config import Architecture, RunSettings
from vae_desktop.core.datasets import ImageDataset
from vae_desktop.core.history import TrainingHistory
from vae_desktop.core.trainer import Trainer
from vae_desktop.ui.current_run import CurrentRun, HistorySnapshot, recorded_steps_per_epoch
from vae_desktop.ui.model_mirror import ModelMirror, state_to_numpy


class RunDisplay(QObject):
    historyReset = Signal(object)  # HistorySnapshot: the plots replace their data
    settingsRestored = Signal(object)  # RunSettings of an opened checkpoint
    runLocked = Signal(bool)  # a run exists: dataset/z/batch/seed are fixed
    pathChanged = Signal(str)
    errorRaised = Signal(str)  # user-facing message

    def __init__(self, mirror: ModelMirror, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.mirror = mirror

    def show_history(self, history: TrainingHistory, steps_per_epoch: int) -> None:
        self.historyReset.emit(HistorySnapshot.of(history, steps_per_epoch))

    def show_new(self, run: CurrentRun, trainer: Trainer) -> None:
        """A run born at this Start: its fresh model, its (empty or inherited) history, the form locked."""
        self.mirror.set_model(run.model_config, state_to_numpy(trainer.model), run.train_config.recon_loss,
                              run.train_config.beta)
        self.show_history(trainer.history, trainer.steps_per_epoch)
        self.runLocked.emit(True)

    def show_opened(self, run: CurrentRun, ckpt: Checkpoint, path: str) -> None:
        """An opened checkpoint (a file, or a run folder's latest): its model, settings, history and path."""
        self.mirror.set_model(ckpt.model_config, ckpt.model_state, ckpt.train_config.recon_loss, ckpt.train_config.beta)
        self.settingsRestored.emit(RunSettings(ckpt.dataset, ckpt.model_config.z_dim, ckpt.train_config,
                                               Architecture.of(ckpt.model_config)))
        self.runLocked.emit(True)
        self.show_history(ckpt.history, run.steps_per_epoch or 1)
        self.pathChanged.emit(str(path))

    def show_opened_dataset(self, run: CurrentRun, ckpt: Checkpoint, dataset: ImageDataset) -> bool:
        """The opened run's dataset has loaded: shown when its images fit the model (else said why).
        True when it gave the run its steps per epoch (the checkpoint did not record them)."""
        if dataset.image_shape != ckpt.model_config.image_shape:
            self.errorRaised.emit(
                f"The dataset {ckpt.dataset} now has images of shape {dataset.image_shape}, but this model "
                f"expects {ckpt.model_config.image_shape}."
            )
            return False
        self.mirror.set_dataset(dataset)
        if recorded_steps_per_epoch(ckpt.progress) is not None:
            return False
        spe = math.ceil(dataset.num_train / ckpt.train_config.batch_size)
        run.dataset_steps_per_epoch = spe
        self.show_history(run.history, spe)
        return True

    def show_nothing(self) -> None:
        """No run to show: no model, no history."""
        self.mirror.clear_model()
        self.historyReset.emit(HistorySnapshot.empty())

    def show_no_run(self) -> None:
        """The run was forgotten (File > New run): nothing shown, the form free, no file in the title."""
        self.show_nothing()
        self.runLocked.emit(False)
        self.pathChanged.emit("")

    def show_own(self, run: CurrentRun) -> bool:
        """Put the window's own run back into the mirror and the plots (after following another run);
        False when it has no weights to show."""
        if run.trainer is not None:
            state = state_to_numpy(run.trainer.model)
        elif run.checkpoint is not None:
            state = {k: v.detach().cpu().numpy().copy() for k, v in run.checkpoint.model_state.items()}
        else:
            return False
        self.mirror.set_model(run.model_config, state, run.train_config.recon_loss, run.train_config.beta)
        self.show_history(run.history, run.steps_per_epoch or 1)
        return True
