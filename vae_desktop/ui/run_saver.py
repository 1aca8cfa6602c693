"""Writing the window's run: its run folder (autosave), and checkpoint files, one writer per file
(core/run_lock.py).

A run trained in the window lives in a run folder under the runs folder (core/runs/owner.py),
locked while it is the window's; the training worker's RunRecorder writes it (metrics.jsonl as it
trains, checkpoints/latest.vaeckpt after every epoch, on pause and on stop). "Save" of such a run
brings latest.vaeckpt up to the state reached now; a checkpoint file saved elsewhere ("Save as" a
.vaeckpt) is a copy, and the run stays in its folder.

The first save to a file takes its lock, and the window keeps it while that file is the run's;
another window or a `train` writing the same file is refused. A save asked while training is
written by the worker between two steps; one the worker did not reach is written here once its
thread has ended.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from vae_desktop.core.atomic import describe_write_error
from vae_desktop.core.checkpoint import Checkpoint, save_checkpoint
from vae_desktop.core.errors import CheckpointError, RunInUseError
from vae_desktop.core.run_lock import HeldLocks
from vae_desktop.core.runs.owner import OwnedRunFolder
from vae_desktop.core.runs.recorder import RunRecorder
from vae_desktop.core.trainer import Trainer
from vae_desktop.ui.current_run import CurrentRun
from vae_desktop.ui.logging_setup import LOGGER_NAME
from vae_desktop.ui.training_worker import SaveResult, TrainingSession

log = logging.getLogger(f"{LOGGER_NAME}.run")

KEPT_AFTER_FAILED_SAVE = "Nothing was lost: the run is still open. Save elsewhere, or make room and save again."


class RunSaver(QObject):
    """Saves a `CurrentRun` now or through its training session, and holds the files' locks."""

    saved = Signal(str)  # path of a checkpoint that is now on disk
    saveFailed = Signal(str)  # path of a save that failed (the message went out on errorRaised)
    pathChanged = Signal(str)  # the run's file is now this one
    errorRaised = Signal(str)

    def __init__(self, report_unexpected: Callable[[str, BaseException], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._report_unexpected = report_unexpected
        self._locks = HeldLocks("VAE Desktop window")

    def release_all(self) -> None:
        """Give up every lock (the run was replaced, or the window closes)."""
        self._locks.release_all()

    def recorder_for(self, run: CurrentRun, trainer: Trainer, runs_root: str) -> RunRecorder | None:
        """The recorder of `trainer`'s session, in the run's folder (made under `runs_root` at the first
        Start, also for a run opened from a checkpoint file: the new folder starts with its history).
        None, with the reason on errorRaised, when no folder can be made: training does not start."""
        if run.folder is None:
            try:
                run.folder = OwnedRunFolder.create(runs_root, run.dataset, run.model_config.z_dim)
            except (OSError, RunInUseError) as exc:
                why = describe_write_error(exc, runs_root) if isinstance(exc, OSError) else str(exc)
                self.errorRaised.emit(f"Training did not start: could not make a run folder in {runs_root}: {why}. "
                                      "Choose another runs folder (File ▸ Runs folder…).")
                return None
            run.path = str(run.folder.folder)
            self.pathChanged.emit(run.path)
            log.info("Recording the run into %s", run.path)
        return run.folder.recorder(trainer, run.dataset)

    def save(self, run: CurrentRun, session: TrainingSession | None, path: str) -> bool:
        """Write `run` to `path`: now, or between two steps of `session`. False when refused or failed.
        `path` may be the run folder's latest checkpoint: then the folder is brought up to date."""
        if run.folder is not None and _same(path, run.folder.latest_path):
            return self._save_folder(run, session)
        if not self._claim(path):
            self.saveFailed.emit(path)
            return False
        if session is not None:
            self._locks.save_requested(path)
            session.worker.request_save(path)
            return True
        return self.save_now(run, path)

    def save_now(self, run: CurrentRun, path: str) -> bool:
        checkpoint = Checkpoint.from_trainer(run.trainer, run.dataset) if run.trainer is not None else run.checkpoint
        if checkpoint is None:
            return False
        try:
            save_checkpoint(checkpoint, path)
        except CheckpointError as exc:
            self.errorRaised.emit(f"{exc} {KEPT_AFTER_FAILED_SAVE}")
        except Exception as exc:
            self._report_unexpected(f"Could not save {path}", exc)
        else:
            self._mark_saved(run, path, checkpoint.progress.global_step)
            return True
        self._locks.release_all_but(run.path)
        self.saveFailed.emit(path)
        return False

    def _save_folder(self, run: CurrentRun, session: TrainingSession | None) -> bool:
        assert run.folder is not None
        latest = str(run.folder.latest_path)
        if session is not None:
            session.worker.request_save(latest)  # the worker's recorder writes it, between two steps
            return True
        if run.has_unsaved_progress:  # not trained since its session ended, so this is rare (a failed save)
            return self.save_now(run, latest)
        self._mark_saved(run, latest, run.progress.global_step)  # the session's end saved it already
        return True

    def save_unserved(self, run: CurrentRun | None, session: TrainingSession) -> None:
        """After `session`'s thread has ended: write the saves its worker did not reach."""
        unserved = session.worker.take_unserved_saves()
        for path in unserved:  # still pending, so each keeps its lock meanwhile
            if run is not None:
                self.save_now(run, path)
            self._locks.save_done(path)
        if unserved and run is not None:
            self._locks.release_all_but(run.path)

    def worker_saved(self, run: CurrentRun | None, result: SaveResult) -> None:
        """The worker wrote (or failed to write) a checkpoint of `run`."""
        self._locks.save_done(result.path)
        if result.error is not None:
            self.errorRaised.emit(f"{result.error} {KEPT_AFTER_FAILED_SAVE}")
            self._locks.release_all_but(run.path if run is not None else None)
            self.saveFailed.emit(result.path)
        elif run is not None:
            self._mark_saved(run, result.path, result.global_step)

    def _claim(self, path: str) -> bool:
        """Hold the lock on `path` before writing it; False (and a message) when that cannot be."""
        try:
            removed = self._locks.claim(path)
        except RunInUseError as exc:
            self.errorRaised.emit(f"Not saved: {exc} Save under another name, or end that run first.")
            return False
        except OSError as exc:
            self.errorRaised.emit(f"Could not save the checkpoint to {path}: {describe_write_error(exc, path)}. "
                                  f"Any earlier file there is unchanged. {KEPT_AFTER_FAILED_SAVE}")
            return False
        if removed:
            log.info("Removed stale temporary files: %s", ", ".join(str(p) for p in removed))
        return True

    def _mark_saved(self, run: CurrentRun, path: str, step: int) -> None:
        if run.folder is not None:
            if _same(path, run.folder.latest_path):
                run.saved_step = step
                log.info("Run folder %s holds step %d", run.folder.folder, step)
                self.saved.emit(str(run.folder.folder))
            else:  # a copy of the run in a checkpoint file: the run stays in its folder
                self._locks.release_all_but(None)
                log.info("Saved checkpoint %s (a copy: the run stays in its run folder)", path)
                self.saved.emit(path)
            return
        run.saved_step = step
        self._locks.release_all_but(path)  # the run's file is this one now
        if run.path != path:
            run.path = path
            self.pathChanged.emit(path)
        log.info("Saved checkpoint %s", path)
        self.saved.emit(path)


def _same(a: object, b: object) -> bool:
    return os.path.abspath(str(a)) == os.path.abspath(str(b))
