"""The current run: its model, datasets, training sessions and checkpoints, behind a few Qt signals.

The main window presents; this object decides. It imports torch, so the window creates it only
once the core has loaded (after the first paint). Everything here runs in the GUI thread except
the training loop (a `TrainingSession`) and dataset loading (`DatasetLoads`).

Where the run stands is one `TrainingStatus` (core/training_status.py), kept by `RunStatusBook` and
emitted on `statusChanged` whenever it changes; the window renders it and keeps no copy. Which run
is current (new, opened, none) is `RunAdoption`'s; what the views see of it is sent by `RunDisplay`.

Run lifecycle: a run is born at the first Start (or by opening a checkpoint) and fixes dataset,
architecture, batch size and seed. Start / Stop / Start continues it exactly (core/resume.py, as
`vae-desktop train --resume` does); File > New run ends it.

Autosave: every run trained here is a run folder under `runs_root` (a window setting), made at its
first Start and locked while it is this window's; the training worker's recorder writes it
(core/runs). A run opened from a checkpoint file continues into a new run folder that starts with
the checkpoint's whole history (the file itself is never written again); an opened run folder is
continued in place. Saving, the folder and the one-writer-per-file locks are `RunSaver`'s.
Every step that runs in the GUI thread on behalf of a background one (dataset loaded, start, open)
ends in a usable state: an unexpected exception is logged with its traceback and shown as a message.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import replace

import torch
from PySide6.QtCore import QObject, Signal, Slot

from vae_desktop.core.config import Architecture, ModelConfig, RunSettings
from vae_desktop.core.datasets import ImageDataset
from vae_desktop.core.errors import VaeDesktopError
from vae_desktop.core.metrics import BatchMetrics
from vae_desktop.core.paths import user_runs_dir
from vae_desktop.core.trainer import Trainer
from vae_desktop.core.training_status import TrainingState, TrainingStatus
from vae_desktop.core.wording import counted
from vae_desktop.ui.dataset_loads import DatasetLoads
from vae_desktop.ui.devices import describe_training_device
from vae_desktop.ui.logging_setup import LOGGER_NAME, log_file_path
from vae_desktop.ui.model_mirror import ModelMirror
from vae_desktop.ui.run_adoption import RunAdoption
from vae_desktop.ui.run_display import RunDisplay
from vae_desktop.ui.run_saver import RunSaver
from vae_desktop.ui.run_status_book import RunStatusBook
from vae_desktop.ui.training_worker import SaveResult, TrainingSession

log = logging.getLogger(f"{LOGGER_NAME}.run")

def default_training_threads() -> int:
    """Leave one core to the GUI thread so plots and the event loop stay responsive."""
    return max(1, (os.cpu_count() or 2) - 1)


class RunController(QObject):
    statusChanged = Signal(object)  # TrainingStatus: state, progress and speed, whenever one changes
    batches = Signal(object)  # tuple[BatchMetrics, ...]
    epochFinished = Signal(object)  # EpochMetrics
    historyReset = Signal(object)  # HistorySnapshot: the plots replace their data
    settingsRestored = Signal(object)  # RunSettings of an opened checkpoint
    runLocked = Signal(bool)  # a run exists: dataset/z/batch/seed are fixed
    errorRaised = Signal(str)  # user-facing message
    noticeRaised = Signal(str)
    saved = Signal(str)  # path of a checkpoint that is now on disk
    saveFailed = Signal(str)  # path of a save that failed (the message went out on errorRaised)
    pathChanged = Signal(str)
    autosaved = Signal(int)  # the run folder's latest checkpoint now holds this global step
    runFolderOpened = Signal(str)  # a run folder opened (off the GUI thread) is now the current run

    def __init__(
        self, model_template: ModelConfig | None = None, threads: int | None = None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        # torch's OpenMP thread count is per calling thread. The GUI thread only decodes a handful of
        # images at a time; with the default (all cores) its OpenMP team would spin on the cores the
        # training thread needs, slowing both (measured: 30 ms instead of 2 ms per small decode).
        torch.set_num_threads(1)
        self.mirror = ModelMirror(self)
        self.threads = threads or default_training_threads()
        self._template = model_template or ModelConfig()
        self._session: TrainingSession | None = None
        self._datasets = DatasetLoads(self._report_unexpected, self._leave_loading, parent=self)
        self._datasets.errorRaised.connect(self.errorRaised)
        self._start_token: object | None = None  # the Start waiting for its dataset; None when cancelled
        self._book = RunStatusBook(describe_training_device("auto", self.threads), lambda: self._runs.run,
                                   self.statusChanged.emit)
        self._display = display = RunDisplay(self.mirror, parent=self)
        self._saver = RunSaver(self._report_unexpected, parent=self)
        self._runs = runs = RunAdoption(display, self._datasets, self._book, self._saver, lambda: self._session is None,
                                        self._report_unexpected, parent=self)
        for mine, theirs in ((self._saver.saved, self.saved), (self._saver.saveFailed, self.saveFailed),
                             (self._saver.pathChanged, self.pathChanged), (self._saver.errorRaised, self.errorRaised),
                             (display.historyReset, self.historyReset), (display.settingsRestored, self.settingsRestored),
                             (display.runLocked, self.runLocked), (display.pathChanged, self.pathChanged),
                             (display.errorRaised, self.errorRaised), (runs.errorRaised, self.errorRaised),
                             (runs.noticeRaised, self.noticeRaised), (runs.folderOpened, self.runFolderOpened)):
            mine.connect(theirs)
        self.runs_root = str(user_runs_dir())  # where new runs get their folder (the window sets its setting)

    # ---- state ----------------------------------------------------------------------------------
    @property
    def status(self) -> TrainingStatus:
        """Where the run stands now (the value last sent on `statusChanged`)."""
        return self._book.status

    @property
    def has_run(self) -> bool:
        return self._runs.run is not None

    @property
    def is_training(self) -> bool:
        return self._session is not None

    @property
    def session(self) -> TrainingSession | None:
        """The running training session, until its thread has ended."""
        return self._session

    @property
    def trainer(self) -> Trainer | None:
        """The last Trainer (read it only while not training)."""
        return self._runs.run.trainer if self._runs.run is not None else None

    @property
    def checkpoint_path(self) -> str | None:
        """The file that holds the run: its run folder's latest checkpoint, or the file it was opened from."""
        run = self._runs.run
        if run is None:
            return None
        return str(run.folder.latest_path) if run.folder is not None else run.path

    @property
    def run_folder(self) -> str | None:
        """The run folder the run autosaves into (None before its first Start, or for an opened file)."""
        run = self._runs.run
        return str(run.folder.folder) if run is not None and run.folder is not None else None

    @property
    def saved_step(self) -> int | None:
        """The global step the run's file (`checkpoint_path`) holds; None when it was never saved."""
        run = self._runs.run
        return run.saved_step if run is not None and run.saved_step >= 0 else None

    @property
    def has_unsaved_progress(self) -> bool:
        """Training that is not in a file yet (what the window's title marks with [*])."""
        return self._runs.run is not None and self._runs.run.has_unsaved_progress

    def run_settings(self) -> RunSettings | None:
        run = self._runs.run
        return None if run is None else RunSettings(run.dataset, run.model_config.z_dim, run.train_config,
                                                    Architecture.of(run.model_config))

    def times(self, remaining_steps: int) -> tuple[float, float | None]:
        """The run's active seconds, and the seconds left at this session's pace (None when not training)."""
        return self._book.times(remaining_steps)

    def _leave_loading(self) -> None:
        if self._session is None and self._book.status.state is TrainingState.LOADING:
            self._book.settle()

    # ---- datasets ---------------------------------------------------------------------------------
    def provide_dataset(self, dataset: ImageDataset, name: str | None = None) -> None:
        """Use an already-loaded dataset for `name` (default: its own name) instead of loading it."""
        self._runs.provide_dataset(dataset, name or dataset.name)

    def prefetch_dataset(self, name: str, report_errors: bool = False, seed: int = 0) -> None:
        """Load the selected dataset in the background when no download is needed, so its test images
        show at once and Start is instant. `report_errors`: the user just picked it (an image folder),
        so say at once why it cannot be used; the dataset shown so far stays."""
        if not self.is_training:
            self._runs.preview_dataset(name, seed, report_errors)

    def join_dataset_loads(self, timeout_s: float) -> bool:
        """Wait up to `timeout_s` for dataset loads (and a run folder being read) still running; True
        when none is left."""
        return self._datasets.join(timeout_s) and self._runs.join(timeout_s)

    # ---- training ----------------------------------------------------------------------------------
    def start(self, settings: RunSettings) -> None:
        if self._session is not None or self._book.status.state is TrainingState.LOADING or self._book.status.following:
            return
        run = self._runs.run
        self._book.set_state(TrainingState.LOADING)
        name, seed = (run.dataset, run.train_config.seed) if run is not None else (settings.dataset, settings.train.seed)
        image_size = run.image_size if run is not None else None
        token = self._start_token = object()

        def start_if_still_wanted(dataset: ImageDataset | None) -> None:
            if self._start_token is token:  # not cancelled by Stop while the dataset loaded
                self._start_token = None
                self._start_with(settings, dataset)

        self._datasets.with_dataset(name, seed, start_if_still_wanted, purpose="start training", image_size=image_size)

    def _start_with(self, settings: RunSettings, dataset: ImageDataset | None) -> None:
        if dataset is None:
            self._book.settle()
            return
        try:
            run, trainer = self._runs.for_start(settings, dataset, self._template)
        except VaeDesktopError as exc:
            self.errorRaised.emit(str(exc))
            self._book.settle()
            return
        except Exception as exc:  # never leave the window in "loading" with its controls off
            self._report_unexpected("Could not start training", exc)
            self._book.settle()
            return
        if trainer.finished:
            self.noticeRaised.emit(
                f"This run has already trained {counted(trainer.progress.epoch, 'epoch')}. Raise Epochs to train further."
            )
            self._book.settle()
            return
        recorder = self._saver.recorder_for(run, trainer, self.runs_root)
        if recorder is None:  # no run folder could be made: nothing trains unrecorded
            self._book.settle()
            return
        session = TrainingSession(trainer, run.dataset, self.threads, parent=self, recorder=recorder)
        worker = session.worker
        worker.autosaved.connect(self._on_autosaved)
        worker.batches.connect(self._on_batches)
        worker.epochFinished.connect(self.epochFinished)
        worker.weights.connect(self.mirror.update_weights)
        # Bound slots of this GUI-thread object (not lambdas): they run queued, in the GUI thread.
        worker.paused.connect(self._on_worker_paused)
        worker.resumed.connect(self._on_worker_resumed)
        worker.failed.connect(self.errorRaised)
        worker.saved.connect(self._on_worker_saved)
        session.ended.connect(self._on_session_ended)
        self._session = session
        self._book.training_started(run, describe_training_device(trainer.config.device, self.threads))
        log.info("Training %s on %s from step %d (%s)", run.dataset, trainer.device, trainer.progress.global_step,
                 trainer.config)
        session.start()

    def toggle_pause(self) -> None:
        """Pause while training, resume while paused. The state changes once the worker confirms; a
        toggle before that undoes the one it has not confirmed yet (Space pressed twice)."""
        session, status = self._session, self._book.status
        if session is None or status.state not in (TrainingState.TRAINING, TrainingState.PAUSED):
            return
        training = (status.state is TrainingState.TRAINING) != status.awaiting_worker  # where it is heading
        if training:
            session.pause()
        else:
            session.resume()
        awaiting = status.state is (TrainingState.TRAINING if training else TrainingState.PAUSED)
        self._book.publish(replace(status, awaiting_worker=awaiting))

    def stop(self) -> None:
        """Stop training, or stop waiting for a dataset that is still loading (a slow network folder):
        the load goes on in the background and is kept for the next Start, but nothing starts."""
        if self._session is not None:
            self._session.stop()
            self._book.set_state(TrainingState.STOPPING)
        elif self._book.status.state is TrainingState.LOADING and self._start_token is not None:
            self._start_token = None
            self._book.settle()
            self.noticeRaised.emit("Start cancelled. The dataset goes on loading in the background.")

    def shutdown(self, timeout_ms: int = 1000) -> bool:
        """Stop training and wait for the thread, then give up this window's file locks; True when no
        thread is left running (a thread still running keeps its locks: it may still save)."""
        session = self._session
        if session is not None and not session.shutdown(timeout_ms):
            return False
        self._saver.release_all()
        self._runs.release()
        return True

    def drop_epoch_in_progress(self) -> None:
        """Discard on quit: the training that stops now ends without saving the steps since the last
        autosave (the run folder keeps everything up to it)."""
        if self._session is not None:
            self._session.worker.drop_unsaved()

    @Slot(int)
    def _on_autosaved(self, global_step: int) -> None:
        if self._runs.run is not None:
            self._runs.run.saved_step = global_step
            self.autosaved.emit(global_step)

    @Slot(int)
    def _on_worker_paused(self, _global_step: int) -> None:
        if self._session is not None and self._book.status.state is not TrainingState.STOPPING:
            self._book.set_state(TrainingState.PAUSED)

    @Slot()
    def _on_worker_resumed(self) -> None:
        if self._session is not None and self._book.status.state is not TrainingState.STOPPING:
            self._book.set_state(TrainingState.TRAINING)

    @Slot(object)
    def _on_batches(self, batches: tuple[BatchMetrics, ...]) -> None:
        self._book.steps_done(len(batches))
        self._book.publish(self._book.status.with_batch(batches[-1]))
        self.batches.emit(batches)

    @Slot(str)
    def _on_session_ended(self, reason: str) -> None:
        session = self._session
        if session is None:
            return
        self._session = None
        self._saver.save_unserved(self._runs.run, session)
        run = self._runs.run
        if reason == "failed" and run is not None and run.trainer is not None:
            # The trainer rolled back to its last good weights and truncated its history: show that.
            self._display.show_history(run.trainer.history, run.trainer.steps_per_epoch)
        if reason == "completed" and run is not None:
            self.noticeRaised.emit(f"Training finished: {counted(run.progress.epoch, 'epoch')}.")
        log.info("Training session ended: %s", reason)
        session.deleteLater()
        self._book.settle()

    # ---- runs and checkpoints ---------------------------------------------------------------------
    def new_run(self) -> bool:
        """Forget the current run (the caller asks the user about unsaved progress first)."""
        if self._session is not None:
            return False
        self._runs.forget()
        return True

    def open_checkpoint(self, path: str) -> bool:
        """Replace the current run with a checkpoint; on any error the current run is kept."""
        if self._session is not None:
            self.errorRaised.emit("Stop training before opening a checkpoint.")
            return False
        return self._runs.open_checkpoint(path)

    def open_run_folder(self, folder: str) -> bool:
        """Open a run folder to continue it here: its latest checkpoint with the whole history, read off
        the GUI thread (ui/run_folder_opener.py); `runFolderOpened` (or an error message) follows.
        False when refused at once."""
        if self._session is not None:
            self.errorRaised.emit("Stop training before opening a run folder.")
            return False
        return self._runs.open_run_folder(folder)

    def save(self, path: str) -> bool:
        """Write the run to `path`: now when idle, between two steps when training. False if nothing to save."""
        if self._runs.run is None:
            self.errorRaised.emit("Nothing to save yet: start training or open a checkpoint first.")
            return False
        return self._saver.save(self._runs.run, self._session, str(path))

    @Slot(object)
    def _on_worker_saved(self, result: SaveResult) -> None:
        self._saver.worker_saved(self._runs.run, result)

    def _report_unexpected(self, what: str, exc: BaseException) -> None:
        log.error("%s", what, exc_info=exc)
        self.errorRaised.emit(f"{what}: an unexpected error ({type(exc).__name__}: {exc}). "
                              f"Details are in {log_file_path()}.")

    # ---- following another process's run (ui/follow) ----------------------------------------------
    def set_following(self, following: bool) -> bool:
        """The window shows a followed run (read-only) or its own again. Refused while training or
        loading: the window's own run must be settled to step aside."""
        return self._book.set_following(following)

    def load_dataset(self, name: str, seed: int, done: Callable[[ImageDataset | None], None],
                     image_size: int | None = None) -> None:
        """Load (or reuse) dataset `name` (at `image_size`) without downloading, quietly; `done` gets None
        when unavailable."""
        self._datasets.with_dataset(name, seed, done, download=False, quiet=True, image_size=image_size)

    def show_own_run(self) -> None:
        """Put the window's own run back into the mirror and the plots (after following another run)."""
        self._runs.show_own()
