"""Training in a background QThread: a worker QObject drives the core `Trainer.run()` loop.

Why it is built this way:
- Pause, resume and stop call the Trainer's thread-safe methods directly from the GUI thread. A
  queued "stop" slot on the worker would never run, because the loop blocks the worker's thread.
- Signals carry plain data only: metric dataclasses of floats and numpy copies of the weights.
- Batch metrics are sent in bundles (every `batch_interval` seconds), weights a few times per
  second: the GUI redraws at screen rate, so one signal per batch would only cost throughput.
- Saving a checkpoint mid-run happens in the worker's own thread between two steps, so nobody
  reads weights while the optimizer writes them.
- With a RunRecorder (core/runs/recorder.py) the run is also recorded into its run folder from this
  thread: every batch and epoch, latest.vaeckpt after each epoch and on pause, and how it ended. The
  GUI thread never writes the folder. `autosaved` tells it which step latest.vaeckpt holds, and a
  save asked for that very file is the recorder's (run.json then knows about it too).
"""

from __future__ import annotations

import logging
import queue
import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal, Slot

from vae_desktop.core.checkpoint import Checkpoint, save_checkpoint
from vae_desktop.core.errors import VaeDesktopError
from vae_desktop.core.metrics import BatchMetrics, EpochMetrics
from vae_desktop.core.runs.recorder import RunRecorder
from vae_desktop.core.trainer import Trainer
from vae_desktop.ui.logging_setup import LOGGER_NAME, log_file_path
from vae_desktop.ui.model_mirror import state_to_numpy

log = logging.getLogger(f"{LOGGER_NAME}.training")

PAUSE_POLL_S = 0.05


@dataclass(frozen=True)
class SaveResult:
    """What happened to a checkpoint save the GUI asked for."""

    path: str
    global_step: int  # the step the checkpoint holds (training goes on while the result travels)
    error: str | None = None  # user-facing message when the save failed


class TrainingWorker(QObject):
    """Runs one `Trainer` to completion, stop or failure. Lives in its own QThread."""

    batches = Signal(object)  # tuple[BatchMetrics, ...] since the previous emit
    epochFinished = Signal(object)  # EpochMetrics
    weights = Signal(object)  # dict[str, np.ndarray]: a copy for the GUI's ModelMirror
    paused = Signal(int)  # the loop now waits; global step reached
    resumed = Signal()
    saved = Signal(object)  # SaveResult
    autosaved = Signal(int)  # the recorder's latest.vaeckpt now holds this global step
    failed = Signal(str)  # user-facing message; the trainer kept its last good weights
    finished = Signal(str)  # "completed" | "stopped" | "failed"

    def __init__(
        self,
        trainer: Trainer,
        dataset_name: str,
        threads: int,
        batch_interval: float = 0.2,
        weight_interval: float = 0.5,
        recorder: RunRecorder | None = None,
    ) -> None:
        super().__init__()
        self._recorder = recorder  # started, fed and ended in the worker thread
        self._trainer = trainer
        self._dataset_name = dataset_name
        self._threads = threads
        self._batch_interval = batch_interval
        self._weight_interval = weight_interval
        self._saves: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._pending: list[BatchMetrics] = []
        self._drop_unsaved = False  # set from the GUI thread; a bool under the GIL is enough
        self._resumes = 0  # Resume presses; read by the pause loop (an int under the GIL is enough)

    @property
    def recorder(self) -> RunRecorder | None:
        """The run folder's recorder (read its figures only once the thread has finished)."""
        return self._recorder

    # ---- called from the GUI thread -------------------------------------------------------------
    def request_save(self, path: str) -> None:
        """Ask for a checkpoint at the next gap between steps (thread-safe)."""
        self._saves.put(path)

    def note_resume(self) -> None:
        """Count a Resume (thread-safe): one undone by a Pause before the loop's next look still
        owes the GUI its resumed/paused signals, or the window would wait for a pause forever."""
        self._resumes += 1

    def drop_unsaved(self) -> None:
        """Discard chosen on quit (thread-safe): a stop ends the recording without saving the steps
        trained since the last autosave; latest.vaeckpt keeps the state it holds."""
        self._drop_unsaved = True

    def take_unserved_saves(self) -> list[str]:
        """Save requests the loop did not reach; call only after the thread has finished."""
        paths = []
        while not self._saves.empty():
            paths.append(self._saves.get_nowait())
        return paths

    # ---- the loop (worker thread) -----------------------------------------------------------------
    @Slot()
    def run(self) -> None:
        import torch  # already imported by the core; local so this module states its thread work

        reason = "completed"
        message = ""
        trainer = self._trainer
        recorder = self._recorder
        try:
            torch.set_num_threads(self._threads)
            if recorder is not None:
                recorder.start()
            steps = trainer.run(wait_while_paused=self._wait_while_paused)
            last_batches = last_weights = time.monotonic()
            while True:
                try:
                    metrics = next(steps)
                except StopIteration:
                    break
                now = time.monotonic()
                if recorder is not None:
                    recorder.record(metrics)
                    if isinstance(metrics, EpochMetrics):
                        self.autosaved.emit(trainer.progress.global_step)
                if isinstance(metrics, EpochMetrics):
                    self._flush_batches()
                    self.epochFinished.emit(metrics)
                else:
                    self._pending.append(metrics)
                    # The epoch's last batch goes out at once, not after the test pass that follows it.
                    if now - last_batches >= self._batch_interval or metrics.step == metrics.steps_per_epoch:
                        self._flush_batches()
                        last_batches = now
                if now - last_weights >= self._weight_interval:
                    self.weights.emit(state_to_numpy(trainer.model))
                    last_weights = now
                self._serve_saves()
            if trainer.stop_requested and not trainer.finished:
                reason = "stopped"
        except VaeDesktopError as exc:
            reason, message = "failed", str(exc)
            log.warning("Training failed: %s", exc)
            self.failed.emit(message)
        except Exception as exc:  # never a silent thread death: log it and tell the window
            reason, message = "failed", f"Training stopped by an unexpected error: {exc}."
            log.exception("Unexpected error in the training thread")
            self.failed.emit(f"{message} Details are in {log_file_path()}.")
        finally:
            self._end_recording(reason, message)
            self._flush_batches()
            try:
                self.weights.emit(state_to_numpy(trainer.model))
                self._serve_saves()
            except Exception:
                log.exception("Could not hand over the final weights")
            self.finished.emit(reason)
            # Quit from here, not via a queued connection: the GUI thread may be blocked in wait().
            QThread.currentThread().quit()

    def _end_recording(self, reason: str, message: str) -> None:
        """Record how the run ended (a stop saves latest.vaeckpt first); a failure to do so is logged
        and, unless the run already failed for it, told to the window."""
        if self._recorder is None:
            return
        try:
            writer = self._recorder.writer
            if reason == "stopped" and self._drop_unsaved and writer is not None:
                writer.stop("the epoch in progress was discarded")
                return
            self._recorder.end(reason, message)
            if reason != "failed":
                self.autosaved.emit(self._trainer.progress.global_step)
        except Exception as exc:
            log.warning("Could not record the end of the run in %s: %s", self._recorder.folder, exc)
            if reason != "failed":
                self.failed.emit(str(exc))

    def _wait_while_paused(self) -> None:
        """The trainer calls this between two steps while paused: saves are served meanwhile and the
        GUI learns that the loop has paused (and, later, resumed). A recorded run saves latest.vaeckpt."""
        trainer = self._trainer
        if self._recorder is not None:
            try:
                self._recorder.save()
            except VaeDesktopError as exc:  # the epoch's own save will fail the run if the disk stays bad
                log.warning("Autosave on pause failed: %s", exc)
            else:
                self.autosaved.emit(trainer.progress.global_step)
        self._flush_batches()
        self.weights.emit(state_to_numpy(trainer.model))
        self.paused.emit(trainer.progress.global_step)
        seen = self._resumes
        while trainer.is_paused and not trainer.stop_requested:
            if self._resumes != seen:  # resumed and paused again between two looks: say both
                seen = self._resumes
                self.resumed.emit()
                self.paused.emit(trainer.progress.global_step)
            self._serve_saves()
            time.sleep(PAUSE_POLL_S)
        if not trainer.stop_requested:
            self.resumed.emit()

    def _flush_batches(self) -> None:
        if self._pending:
            self.batches.emit(tuple(self._pending))
            self._pending = []

    def _serve_saves(self) -> None:
        while not self._saves.empty():
            path = self._saves.get_nowait()
            step = self._trainer.progress.global_step  # this thread owns the trainer: it cannot move meanwhile
            try:
                recorder = self._recorder
                if recorder is not None and Path(path) == recorder.latest_path:
                    recorder.ensure_saved()  # "Save" of a run folder: its latest checkpoint, through its writer
                else:
                    save_checkpoint(Checkpoint.from_trainer(self._trainer, self._dataset_name), path)
            except VaeDesktopError as exc:
                self.saved.emit(SaveResult(path, step, str(exc)))
            except Exception as exc:
                log.exception("Saving %s failed", path)
                self.saved.emit(SaveResult(path, step, f"Could not save {path}: {exc}"))
            else:
                log.info("Saved checkpoint %s at step %d", path, step)
                self.saved.emit(SaveResult(path, step))


class TrainingSession(QObject):
    """One Start-to-finish span: a fresh QThread running a TrainingWorker over `trainer`.

    The GUI keeps the session until `ended` fires; after that the thread is finished and the
    trainer (model, optimizer, history, progress) may be read and reused from the GUI thread.
    """

    ended = Signal(str)  # the worker's finish reason, emitted in the GUI thread after the thread ended

    def __init__(self, trainer: Trainer, dataset_name: str, threads: int, parent: QObject | None = None,
                 recorder: RunRecorder | None = None) -> None:
        super().__init__(parent)
        self.trainer = trainer
        self.reason = ""
        self.worker = TrainingWorker(trainer, dataset_name, threads, recorder=recorder)
        self._thread = QThread()
        self._thread.setObjectName("training")
        self.worker.moveToThread(self._thread)
        self._thread.started.connect(self.worker.run)
        self.worker.finished.connect(self._remember_reason)
        self._thread.finished.connect(self._on_thread_finished)

    def start(self) -> None:
        self._thread.start(QThread.Priority.LowPriority)

    def pause(self) -> None:
        self.trainer.pause()

    def resume(self) -> None:
        self.worker.note_resume()
        self.trainer.resume()

    def stop(self) -> None:
        self.trainer.stop()

    def is_running(self) -> bool:
        return self._thread.isRunning()

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Stop and wait for the thread (used on close). True when the thread has ended."""
        self.trainer.stop()
        return self._thread.wait(timeout_ms)

    @Slot(str)
    def _remember_reason(self, reason: str) -> None:
        self.reason = reason

    @Slot()
    def _on_thread_finished(self) -> None:
        self._thread.wait()  # finished is emitted just before the thread exits; make it a fact
        self.ended.emit(self.reason or "stopped")
