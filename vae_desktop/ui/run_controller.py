"""The current run: its model, datasets, training sessions and checkpoints, behind a few Qt signals.

The main window presents; this object decides. It imports torch, so the window creates it only
once the core has loaded (after the first paint). Everything here runs in the GUI thread except
the training loop (a `TrainingSession`) and dataset loading (`DatasetLoads`).

Where the run stands is one `TrainingStatus` (core/training_status.py), replaced and emitted on
`statusChanged` whenever it changes; the window renders it and keeps no copy. A Pause or Resume
changes the state only once the worker confirms it.

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
import math
import os
from collections.abc import Callable
from dataclasses import replace

import torch
from PySide6.QtCore import QObject, Signal, Slot

from vae_desktop.core.checkpoint import Checkpoint, load_checkpoint
from vae_desktop.core.config import Architecture, ModelConfig, RunSettings
from vae_desktop.core.datasets import ImageDataset
from vae_desktop.core.errors import CheckpointError, VaeDesktopError
from vae_desktop.core.metrics import BatchMetrics
from vae_desktop.core.paths import user_runs_dir
from vae_desktop.core.run_clock import RunClock
from vae_desktop.core.runs.owner import OwnedRunFolder
from vae_desktop.core.trainer import Trainer
from vae_desktop.core.training_status import TrainingState, TrainingStatus
from vae_desktop.core.wording import counted
from vae_desktop.ui.current_run import CurrentRun, HistorySnapshot, check_dataset_shape, recorded_steps_per_epoch
from vae_desktop.ui.dataset_loads import DatasetLoads
from vae_desktop.ui.devices import describe_training_device
from vae_desktop.ui.logging_setup import LOGGER_NAME, log_file_path
from vae_desktop.ui.model_mirror import ModelMirror, state_to_numpy
from vae_desktop.ui.run_folder_opener import RunFolderOpener
from vae_desktop.ui.run_saver import RunSaver
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
        self._clock = RunClock()  # the run's active seconds and this session's pace (elapsed, ETA)
        self._template = model_template or ModelConfig()
        self._run: CurrentRun | None = None
        self._session: TrainingSession | None = None
        self._datasets = DatasetLoads(self._report_unexpected, self._leave_loading, parent=self)
        self._datasets.errorRaised.connect(self.errorRaised)
        self._start_token: object | None = None  # the Start waiting for its dataset; None when cancelled
        self._status = TrainingStatus(TrainingState.IDLE, device=describe_training_device("auto", self.threads))
        self._clock_run = 0  # the run number the clock is timing (0: none yet)
        self._saver = RunSaver(self._report_unexpected, parent=self)
        for mine, theirs in ((self._saver.saved, self.saved), (self._saver.saveFailed, self.saveFailed),
                             (self._saver.pathChanged, self.pathChanged), (self._saver.errorRaised, self.errorRaised)):
            mine.connect(theirs)
        self._runs_made = 0
        self.runs_root = str(user_runs_dir())  # where new runs get their folder (the window sets its setting)
        self._folders = RunFolderOpener(lambda: self._session is None, self._report_unexpected, parent=self)
        self._folders.opened.connect(self._on_folder_read)
        self._folders.errorRaised.connect(self.errorRaised)

    def _next_number(self) -> int:
        self._runs_made += 1
        return self._runs_made

    # ---- state ----------------------------------------------------------------------------------
    @property
    def status(self) -> TrainingStatus:
        """Where the run stands now (the value last sent on `statusChanged`)."""
        return self._status

    @property
    def has_run(self) -> bool:
        return self._run is not None

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
        return self._run.trainer if self._run is not None else None

    @property
    def checkpoint_path(self) -> str | None:
        """The file that holds the run: its run folder's latest checkpoint, or the file it was opened from."""
        run = self._run
        if run is None:
            return None
        return str(run.folder.latest_path) if run.folder is not None else run.path

    @property
    def run_folder(self) -> str | None:
        """The run folder the run autosaves into (None before its first Start, or for an opened file)."""
        run = self._run
        return str(run.folder.folder) if run is not None and run.folder is not None else None

    @property
    def saved_step(self) -> int | None:
        """The global step the run's file (`checkpoint_path`) holds; None when it was never saved."""
        run = self._run
        return run.saved_step if run is not None and run.saved_step >= 0 else None

    @property
    def has_unsaved_progress(self) -> bool:
        """Training that is not in a file yet (what the window's title marks with [*])."""
        return self._run is not None and self._run.has_unsaved_progress

    def run_settings(self) -> RunSettings | None:
        run = self._run
        return None if run is None else RunSettings(run.dataset, run.model_config.z_dim, run.train_config,
                                                    Architecture.of(run.model_config))

    def _publish(self, status: TrainingStatus) -> None:
        if status != self._status:
            self._status = status
            self.statusChanged.emit(status)

    def _set_state(self, state: TrainingState) -> None:
        previous = self._status.state
        if state is previous and not self._status.awaiting_worker:
            return
        if state is TrainingState.TRAINING and previous is TrainingState.PAUSED:
            self._clock.resume()
        elif state is TrainingState.PAUSED:
            self._clock.pause()
        elif state.settled:
            self._clock.stop()
        self._publish(self._status.with_state(state))

    def _settle(self) -> None:
        """No session and no Start waiting: ready with a run, idle without one."""
        self._publish(self._run_status(self._status))
        self._set_state(TrainingState.READY if self._run is not None else TrainingState.IDLE)

    def _run_status(self, base: TrainingStatus) -> TrainingStatus:
        """`base` with the current run's progress (or no progress at all when there is no run)."""
        run = self._run
        if run is None:
            return TrainingStatus(base.state, device=base.device, following=base.following)
        timed = run.number if run.number == self._clock_run else 0  # trained in this window: it has times
        shown = replace(base, run_number=timed)
        return shown.with_progress(run.progress, run.steps_per_epoch or 1, run.train_config.epochs)

    def times(self, remaining_steps: int) -> tuple[float, float | None]:
        """The run's active seconds, and the seconds left at this session's pace (None when not training)."""
        clock = self._clock
        return clock.elapsed(), (clock.eta(remaining_steps) if clock.running else None)

    def _leave_loading(self) -> None:
        if self._session is None and self._status.state is TrainingState.LOADING:
            self._settle()

    # ---- datasets ---------------------------------------------------------------------------------
    def provide_dataset(self, dataset: ImageDataset, name: str | None = None) -> None:
        """Use an already-loaded dataset for `name` (default: its own name) instead of loading it."""
        self._datasets.provide(dataset, name or dataset.name)
        if self._run is None:
            self.mirror.set_dataset(dataset)

    def prefetch_dataset(self, name: str, report_errors: bool = False, seed: int = 0) -> None:
        """Load the selected dataset in the background when no download is needed, so its test images
        show at once and Start is instant. `report_errors`: the user just picked it (an image folder),
        so say at once why it cannot be used; the dataset shown so far stays."""
        if self._run is not None or self.is_training:
            return

        def show(dataset: ImageDataset | None) -> None:
            if dataset is not None and self._run is None and self.mirror.dataset is not dataset:
                self.mirror.set_dataset(dataset)
                if report_errors and dataset.notes:  # "20 images from /x; skipped 1 unreadable file"
                    self.noticeRaised.emit("Loaded " + "; ".join(dataset.notes) + ".")

        self._datasets.with_dataset(name, seed, show, download=False, quiet=not report_errors)

    def join_dataset_loads(self, timeout_s: float) -> bool:
        """Wait up to `timeout_s` for dataset loads (and a run folder being read) still running; True
        when none is left."""
        return self._datasets.join(timeout_s) and self._folders.join(timeout_s)

    # ---- training ----------------------------------------------------------------------------------
    def start(self, settings: RunSettings) -> None:
        if self._session is not None or self._status.state is TrainingState.LOADING or self._status.following:
            return
        run = self._run
        self._set_state(TrainingState.LOADING)
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
            self._settle()
            return
        try:
            trainer, new_run = self._make_trainer(settings, dataset)
        except VaeDesktopError as exc:
            self.errorRaised.emit(str(exc))
            self._settle()
            return
        except Exception as exc:  # never leave the window in "loading" with its controls off
            self._report_unexpected("Could not start training", exc)
            self._settle()
            return
        run = self._run
        assert run is not None
        if self.mirror.dataset is not dataset:
            self.mirror.set_dataset(dataset)
        if new_run:
            self.mirror.set_model(run.model_config, state_to_numpy(trainer.model), run.train_config.recon_loss,
                                  run.train_config.beta)
            self.historyReset.emit(HistorySnapshot.of(trainer.history, trainer.steps_per_epoch))
            self.runLocked.emit(True)
        if trainer.finished:
            self.noticeRaised.emit(
                f"This run has already trained {counted(trainer.progress.epoch, 'epoch')}. Raise Epochs to train further."
            )
            self._settle()
            return
        recorder = self._saver.recorder_for(run, trainer, self.runs_root)
        if recorder is None:  # no run folder could be made: nothing trains unrecorded
            self._settle()
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
        # Continue in this window: the clock goes on from where it stood. A run new to this window
        # (an opened checkpoint) starts from the time its history records.
        same_run = run.number == self._clock_run
        self._clock.start(self._clock.elapsed() if same_run else run.trained_seconds)
        self._clock_run = run.number
        device = describe_training_device(trainer.config.device, self.threads)
        started = replace(self._run_status(self._status), device=device)
        self._publish(started.with_state(TrainingState.TRAINING))
        log.info("Training %s on %s from step %d (%s)", run.dataset, trainer.device, trainer.progress.global_step,
                 trainer.config)
        session.start()

    def _make_trainer(self, settings: RunSettings, dataset: ImageDataset) -> tuple[Trainer, bool]:
        """A Trainer continuing the current run (core/resume.py), or a fresh run when there is none."""
        run = self._run
        if run is not None and run.continue_training(settings.train, dataset):
            assert run.trainer is not None
            return run.trainer, False
        fresh = CurrentRun.begin(settings, dataset, self._template, number=self._next_number())
        self._replace_run(fresh)
        assert fresh.trainer is not None
        return fresh.trainer, True

    def toggle_pause(self) -> None:
        """Pause while training, resume while paused. The state changes once the worker confirms; a
        toggle before that undoes the one it has not confirmed yet (Space pressed twice)."""
        session, status = self._session, self._status
        if session is None or status.state not in (TrainingState.TRAINING, TrainingState.PAUSED):
            return
        training = (status.state is TrainingState.TRAINING) != status.awaiting_worker  # where it is heading
        if training:
            session.pause()
        else:
            session.resume()
        awaiting = status.state is (TrainingState.TRAINING if training else TrainingState.PAUSED)
        self._publish(replace(status, awaiting_worker=awaiting))

    def stop(self) -> None:
        """Stop training, or stop waiting for a dataset that is still loading (a slow network folder):
        the load goes on in the background and is kept for the next Start, but nothing starts."""
        if self._session is not None:
            self._session.stop()
            self._set_state(TrainingState.STOPPING)
        elif self._status.state is TrainingState.LOADING and self._start_token is not None:
            self._start_token = None
            self._settle()
            self.noticeRaised.emit("Start cancelled. The dataset goes on loading in the background.")

    def shutdown(self, timeout_ms: int = 1000) -> bool:
        """Stop training and wait for the thread, then give up this window's file locks; True when no
        thread is left running (a thread still running keeps its locks: it may still save)."""
        session = self._session
        if session is not None and not session.shutdown(timeout_ms):
            return False
        self._saver.release_all()
        if self._run is not None:
            self._run.release()
        return True

    def drop_epoch_in_progress(self) -> None:
        """Discard on quit: the training that stops now ends without saving the steps since the last
        autosave (the run folder keeps everything up to it)."""
        if self._session is not None:
            self._session.worker.drop_unsaved()

    @Slot(int)
    def _on_autosaved(self, global_step: int) -> None:
        if self._run is not None:
            self._run.saved_step = global_step
            self.autosaved.emit(global_step)

    @Slot(int)
    def _on_worker_paused(self, _global_step: int) -> None:
        if self._session is not None and self._status.state is not TrainingState.STOPPING:
            self._set_state(TrainingState.PAUSED)

    @Slot()
    def _on_worker_resumed(self) -> None:
        if self._session is not None and self._status.state is not TrainingState.STOPPING:
            self._set_state(TrainingState.TRAINING)

    @Slot(object)
    def _on_batches(self, batches: tuple[BatchMetrics, ...]) -> None:
        self._clock.add_steps(len(batches))
        self._publish(self._status.with_batch(batches[-1]))
        self.batches.emit(batches)

    @Slot(str)
    def _on_session_ended(self, reason: str) -> None:
        session = self._session
        if session is None:
            return
        self._session = None
        self._saver.save_unserved(self._run, session)
        run = self._run
        if reason == "failed" and run is not None and run.trainer is not None:
            # The trainer rolled back to its last good weights and truncated its history: show that.
            self.historyReset.emit(HistorySnapshot.of(run.trainer.history, run.trainer.steps_per_epoch))
        if reason == "completed" and run is not None:
            self.noticeRaised.emit(f"Training finished: {counted(run.progress.epoch, 'epoch')}.")
        log.info("Training session ended: %s", reason)
        session.deleteLater()
        self._settle()

    # ---- runs and checkpoints ---------------------------------------------------------------------
    def new_run(self) -> bool:
        """Forget the current run (the caller asks the user about unsaved progress first)."""
        if self._session is not None:
            return False
        self._replace_run(None)
        self.mirror.clear_model()
        self.historyReset.emit(HistorySnapshot.empty())
        self.runLocked.emit(False)
        self.pathChanged.emit("")
        self._settle()
        return True

    def open_checkpoint(self, path: str) -> bool:
        """Replace the current run with a checkpoint; on any error the current run is kept."""
        if self._session is not None:
            self.errorRaised.emit("Stop training before opening a checkpoint.")
            return False
        try:
            ckpt = load_checkpoint(path)
            check_dataset_shape(ckpt, os.path.basename(path))
        except CheckpointError as exc:
            self.errorRaised.emit(str(exc))
            return False
        except Exception as exc:  # the current run is kept; the user reads why, the log has the traceback
            self._report_unexpected(f"Could not open {os.path.basename(path)}", exc)
            return False
        self._adopt(ckpt, str(path))
        return True

    def open_run_folder(self, folder: str) -> bool:
        """Open a run folder to continue it here: its latest checkpoint with the whole history, read off
        the GUI thread (ui/run_folder_opener.py); `runFolderOpened` (or an error message) follows.
        False when refused at once."""
        if self._session is not None:
            self.errorRaised.emit("Stop training before opening a run folder.")
            return False
        return self._folders.open(folder)

    @Slot(object, object, str)
    def _on_folder_read(self, ckpt: Checkpoint, owned: OwnedRunFolder, folder: str) -> None:
        self._adopt(ckpt, folder, owned)
        self.runFolderOpened.emit(folder)

    def _replace_run(self, run: CurrentRun | None) -> None:
        """Make `run` the current run; the previous one's file and folder locks are given up."""
        if self._run is not None:
            self._run.release()
        self._run = run
        self._saver.release_all()

    def _adopt(self, ckpt: Checkpoint, path: str, folder: OwnedRunFolder | None = None) -> None:
        """Make an opened checkpoint (a file, or a run folder's latest) the current run."""
        run = CurrentRun(ckpt.dataset, ckpt.model_config, ckpt.train_config, checkpoint=ckpt, path=path,
                         saved_step=ckpt.progress.global_step, number=self._next_number(), folder=folder)
        self._replace_run(run)
        self.mirror.set_model(ckpt.model_config, ckpt.model_state, ckpt.train_config.recon_loss, ckpt.train_config.beta)
        self.settingsRestored.emit(RunSettings(ckpt.dataset, ckpt.model_config.z_dim, ckpt.train_config,
                                               Architecture.of(ckpt.model_config)))
        self.runLocked.emit(True)
        self.historyReset.emit(HistorySnapshot.of(ckpt.history, run.steps_per_epoch or 1))
        self.pathChanged.emit(str(path))
        self._settle()
        log.info("Opened %s %s (%s, step %d)", "run folder" if folder is not None else "checkpoint", path,
                 ckpt.dataset, ckpt.progress.global_step)
        for note in ckpt.notes:
            self.noticeRaised.emit(note)

        def with_dataset(dataset: ImageDataset | None) -> None:
            if dataset is None or self._run is not run:
                return
            if dataset.image_shape != ckpt.model_config.image_shape:
                self.errorRaised.emit(
                    f"The dataset {ckpt.dataset} now has images of shape {dataset.image_shape}, but this model "
                    f"expects {ckpt.model_config.image_shape}."
                )
                return
            self.mirror.set_dataset(dataset)
            if recorded_steps_per_epoch(ckpt.progress) is None:
                spe = math.ceil(dataset.num_train / ckpt.train_config.batch_size)
                run.dataset_steps_per_epoch = spe
                self.historyReset.emit(HistorySnapshot.of(run.history, spe))
                if self._session is None:
                    self._publish(self._run_status(self._status))

        self._datasets.with_dataset(ckpt.dataset, ckpt.train_config.seed, with_dataset, image_size=ckpt.image_size)

    def save(self, path: str) -> bool:
        """Write the run to `path`: now when idle, between two steps when training. False if nothing to save."""
        if self._run is None:
            self.errorRaised.emit("Nothing to save yet: start training or open a checkpoint first.")
            return False
        return self._saver.save(self._run, self._session, str(path))

    @Slot(object)
    def _on_worker_saved(self, result: SaveResult) -> None:
        self._saver.worker_saved(self._run, result)

    def _report_unexpected(self, what: str, exc: BaseException) -> None:
        log.error("%s", what, exc_info=exc)
        self.errorRaised.emit(f"{what}: an unexpected error ({type(exc).__name__}: {exc}). "
                              f"Details are in {log_file_path()}.")

    # ---- following another process's run (ui/follow) ----------------------------------------------
    def set_following(self, following: bool) -> bool:
        """The window shows a followed run (read-only) or its own again. Refused while training or
        loading: the window's own run must be settled to step aside."""
        if following and not self._status.state.settled:
            return False
        self._publish(replace(self._status, following=following))
        return True

    def load_dataset(self, name: str, seed: int, done: Callable[[ImageDataset | None], None],
                     image_size: int | None = None) -> None:
        """Load (or reuse) dataset `name` (at `image_size`) without downloading, quietly; `done` gets None
        when unavailable."""
        self._datasets.with_dataset(name, seed, done, download=False, quiet=True, image_size=image_size)

    def show_own_run(self) -> None:
        """Put the window's own run back into the mirror and the plots (after following another run)."""
        run = self._run
        if run is None:
            self.mirror.clear_model()
            self.historyReset.emit(HistorySnapshot.empty())
            self._publish(self._run_status(self._status))
            return
        if run.trainer is not None:
            state = state_to_numpy(run.trainer.model)
        elif run.checkpoint is not None:
            state = {k: v.detach().cpu().numpy().copy() for k, v in run.checkpoint.model_state.items()}
        else:
            return
        self.mirror.set_model(run.model_config, state, run.train_config.recon_loss, run.train_config.beta)
        self.historyReset.emit(HistorySnapshot.of(run.history, run.steps_per_epoch or 1))
        self._publish(self._run_status(self._status))

        def with_dataset(dataset: ImageDataset | None) -> None:
            if dataset is not None and self._run is run and dataset.image_shape == run.model_config.image_shape:
                self.mirror.set_dataset(dataset)

        self.load_dataset(run.dataset, run.train_config.seed, with_dataset, run.image_size)
