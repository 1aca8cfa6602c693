"""RunWriter: creates a run folder and keeps it current while a run trains.

    folder/
      run.json                  settings, provenance, status, heartbeat (rewritten atomically)
      metrics.jsonl             append-only: header, batch, epoch and rewind rows, one whole line each
      metrics.csv               one row per epoch, rewritten from the epoch rows (for spreadsheets)
      checkpoints/latest.vaeckpt, best.vaeckpt, epoch-NNNN.vaeckpt (--keep-every)

One writer per folder: the caller may hand in a folder lock it already holds (core/run_lock.py),
which the writer releases when the run ends. Inside the process, run.json has one writer at a time
(the training thread or the heartbeat thread, never both at once). Every write is atomic or a
single append, so a reader at any moment, and the folder after a kill -9, see whole files and at
most one partial last line (which readers ignore and the next writer terminates): how each file is
written is in run_files.py (metrics.jsonl, run.json) and checkpoint_files.py (the checkpoints);
what a continued run starts from, in continuing.py.
"""

from __future__ import annotations

import math
import os
import socket
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from vae_desktop.core.config import ModelConfig, TrainConfig
from vae_desktop.core.metrics import BatchMetrics, EpochMetrics
from vae_desktop.core.metrics_csv import write_metrics_csv
from vae_desktop.core.runs.checkpoint_files import (
    CheckpointSource,
    SavedCheckpoints,
    best_of,
    link_or_copy,
    place_checkpoint,
)
from vae_desktop.core.runs.continuing import continue_run
from vae_desktop.core.runs.errors import RunFolderError
from vae_desktop.core.runs.heartbeat import Heartbeat
from vae_desktop.core.runs.lines import format_batch_line, format_line
from vae_desktop.core.runs.run_files import MetricsAppender, why, write_epochs_csv, write_run_json
from vae_desktop.core.runs.schema import (
    BEST_CHECKPOINT,
    CHECKPOINT_DIR,
    LATEST_CHECKPOINT,
    METRICS_CSV,
    METRICS_JSONL,
    RUN_JSON,
    STATUS_FAILED,
    STATUS_FINISHED,
    STATUS_STOPPED,
    BatchRow,
    CheckpointRecord,
    EpochRow,
    HeaderRow,
    Progress,
    RewindRow,
    RunInfo,
    kept_checkpoint_name,
)
from vae_desktop.core.runs.thinning import DEFAULT_MAX_ROWS, keeps
from vae_desktop.core.versions import recorded_versions

DEFAULT_HEARTBEAT_S = 5.0  # readers call a run stalled after 60 s without one; the issue asks for <= 10 s


class RunWriter:
    """Writes one run into `folder`. Use as a context manager, or call start() and one of
    finish()/stop()/fail()/close().

    resume: (global_step, epochs_completed) of the checkpoint a continued run starts from. A folder
    that already holds a run is refused without it; with it, the run carries on in the same folder
    and rows logged past that point (the epoch that was in progress) are rewound.

    lock: the folder lock the caller already holds (core/run_lock.py; anything with release(), or
    a context manager). The writer releases it when the run ends, or when start() fails.

    heartbeat_s: how often run.json is rewritten while running (readers call a run stalled after
    60 s without a change; keep it well under 10 s). max_batch_rows: see thinning.py.
    """

    def __init__(
        self,
        folder: str | os.PathLike[str],
        *,
        model_config: ModelConfig,
        train_config: TrainConfig,
        dataset: str,
        steps_per_epoch: int,
        kind: str = "train",
        experiment: str | None = None,
        world_size: int = 1,
        keep_every: int = 0,
        heartbeat_s: float = DEFAULT_HEARTBEAT_S,
        max_batch_rows: int = DEFAULT_MAX_ROWS,
        lock: Any = None,
        resume: tuple[int, int] | None = None,
    ) -> None:
        if keep_every < 0:
            raise RunFolderError(f"--keep-every must be 0 (off) or a positive number of epochs (got {keep_every}).")
        self.folder = Path(folder)
        self.keep_every = keep_every
        self.max_batch_rows = max_batch_rows
        self._lock_handle = lock
        self._resume = resume
        self._heartbeat = Heartbeat(self._beat, heartbeat_s)
        self._state_lock = threading.RLock()  # guards the fields below (fast, never held during I/O)
        self._json_lock = threading.Lock()  # one writer of run.json at a time
        self._metrics = MetricsAppender(self.folder / METRICS_JSONL)  # one append at a time
        self._epochs: list[EpochMetrics] = []
        self._best: tuple[int, float] | None = None
        self._latest_step: tuple[int, int] | None = None  # (epoch, global_step) of the last log_batch
        self._started = False
        self._ended = False
        now = time.time()
        self._info = RunInfo(
            run_id=uuid.uuid4().hex,
            dataset=dataset,
            model_config=model_config.to_dict(),
            train_config=train_config.to_dict(),
            started_at_s=now,
            heartbeat_at_s=now,
            progress=Progress(epochs_planned=train_config.epochs, steps_per_epoch=steps_per_epoch),
            software=recorded_versions(),
            host=socket.gethostname(),
            pid=os.getpid(),
            kind=kind,
            experiment=experiment,
            world_size=world_size,
        )

    # ------------------------------------------------------------------------------ life cycle

    def __enter__(self) -> RunWriter:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        if exc is None:
            self.close()
            return
        try:  # the original exception matters more than a failure to record it
            if isinstance(exc, KeyboardInterrupt):
                self.stop("interrupted")
            else:
                self.fail(str(exc) or type(exc).__name__)
        except Exception:
            pass

    def start(self) -> RunWriter:
        """Create (or continue) the folder, write run.json as running and start the heartbeat."""
        if self._started:
            return self
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            (self.folder / CHECKPOINT_DIR).mkdir(exist_ok=True)
            lines = self._prepare_metrics()
            self._metrics.open()  # kept open for the run
            for line in lines:
                self._metrics.append(line)
            self._write_run_json()
            if self._epochs:
                write_metrics_csv(self._epochs, self.folder / METRICS_CSV)
        except BaseException as exc:
            self._metrics.close()
            self._release_lock()  # the run never started: nothing holds the folder
            if isinstance(exc, OSError):
                raise RunFolderError(f"Could not create the run folder {self.folder}: {why(exc)}.") from exc
            raise
        self._started = True
        self._heartbeat.start()
        return self

    def finish(self, message: str = "") -> None:
        self._end(STATUS_FINISHED, message)

    def stop(self, message: str = "") -> None:
        self._end(STATUS_STOPPED, message)

    def fail(self, message: str) -> None:
        self._end(STATUS_FAILED, message)

    def close(self) -> None:
        """End the run as finished when all planned epochs are done, as stopped otherwise."""
        progress = self.progress
        done = progress.epochs_planned > 0 and progress.epochs_completed >= progress.epochs_planned
        self._end(STATUS_FINISHED if done else STATUS_STOPPED, "")

    # ------------------------------------------------------------------------------ what it writes

    def log_batch(self, metrics: BatchMetrics) -> bool:
        """Record one step; returns whether its row was written (long runs thin, see thinning.py)."""
        with self._state_lock:
            # Two ints, folded into run.json's progress when it is next read or written: rebuilding
            # the frozen RunInfo on every step would be most of what recording a step costs.
            self._latest_step = (metrics.epoch, metrics.global_step)
        if not keeps(metrics.global_step, self.max_batch_rows):
            return False
        self._metrics.append(format_batch_line(BatchRow.from_metrics(metrics, time.time())))
        return True

    def log_epoch(self, metrics: EpochMetrics, global_step: int | None = None) -> None:
        """Record a finished epoch: its row (made durable), metrics.csv and run.json."""
        with self._state_lock:
            self._fold_latest_step()
            step = self._info.progress.global_step if global_step is None else global_step
            self._progress_changes(epoch=metrics.epoch, epochs_completed=metrics.epoch, global_step=step)
            self._epochs = [e for e in self._epochs if e.epoch < metrics.epoch] + [metrics]
            epochs = list(self._epochs)
        self._metrics.append(format_line(EpochRow(metrics, step, round(time.time(), 3)).to_dict()), durable=True)
        write_epochs_csv(epochs, self.folder / METRICS_CSV)
        self._write_run_json()

    def log_past(self, batch: Sequence[BatchRow], epochs: Sequence[EpochMetrics]) -> None:
        """Write rows of training done before this log began: a run continued into a new folder from a
        checkpoint made elsewhere (or in an older single-file folder) keeps its whole history. Batch
        rows are written as given (no thinning: they are the checkpoint's already thinned trace)."""
        with self._state_lock:
            known = {e.epoch for e in self._epochs}
            self._epochs = sorted([*self._epochs, *(e for e in epochs if e.epoch not in known)], key=lambda e: e.epoch)
            # _best is left alone: best.vaeckpt is the best epoch whose checkpoint this folder holds
            kept = list(self._epochs)
        lines = [format_batch_line(row) for row in batch]
        lines += [format_line(EpochRow(e).to_dict()) for e in epochs if e.epoch not in known]
        if lines:
            self._metrics.append(b"".join(lines), durable=True)
        write_epochs_csv(kept, self.folder / METRICS_CSV)

    def rewind(self, global_step: int, epochs_completed: int, reason: str = "diverged") -> None:
        """Training went back to an earlier state (e.g. rolled back after diverging): readers forget
        the rows logged after it."""
        with self._state_lock:
            self._epochs = [e for e in self._epochs if e.epoch <= epochs_completed]
            if self._best is not None and self._best[0] > epochs_completed:
                self._best = best_of(self._epochs)
            self._progress_changes(epochs_completed=epochs_completed, global_step=global_step,
                                   epoch=epochs_completed)
        self._metrics.append(format_line(RewindRow(global_step, epochs_completed, reason).to_dict()), durable=True)
        self._write_run_json()

    def save_checkpoint(self, checkpoint: CheckpointSource, *, epoch: EpochMetrics | None = None) -> SavedCheckpoints:
        """Put a checkpoint in place as checkpoints/latest.vaeckpt; with the epoch it ends, also as
        best.vaeckpt when its test negative ELBO is the lowest so far, and as epoch-NNNN.vaeckpt
        every `keep_every` epochs. A write function's own errors (CheckpointError) pass through."""
        latest = self.folder / LATEST_CHECKPOINT
        best = kept = None
        try:
            place_checkpoint(checkpoint, latest)
            if epoch is not None:
                with self._state_lock:
                    improved = math.isfinite(epoch.test_total) and (self._best is None
                                                                    or epoch.test_total < self._best[1])
                    if improved:
                        self._best = (epoch.epoch, epoch.test_total)
                if improved:
                    best = self.folder / BEST_CHECKPOINT
                    link_or_copy(latest, best)
                if self.keep_every and epoch.epoch % self.keep_every == 0:
                    kept = self.folder / kept_checkpoint_name(epoch.epoch)
                    link_or_copy(latest, kept)
        except OSError as exc:
            raise RunFolderError(f"Could not save a checkpoint in {self.folder / CHECKPOINT_DIR}: {why(exc)}.") from exc
        with self._state_lock:
            self._fold_latest_step()
            previous = self._info.checkpoints
            progress = self._info.progress
            self._info = self._info.with_changes(checkpoints=CheckpointRecord(
                saves=previous.saves + 1,
                epochs_completed=epoch.epoch if epoch is not None else progress.epochs_completed,
                global_step=progress.global_step,
                saved_at_s=round(time.time(), 3),
                best_epoch=None if self._best is None else self._best[0],
                best_test_total=None if self._best is None else self._best[1],
            ))
        self._write_run_json()
        return SavedCheckpoints(latest, best, kept)

    # ------------------------------------------------------------------------------ read-only views

    @property
    def info(self) -> RunInfo:
        with self._state_lock:
            self._fold_latest_step()
            return self._info

    @property
    def progress(self) -> Progress:
        return self.info.progress

    @property
    def run_id(self) -> str:
        return self.info.run_id

    @property
    def heartbeat_problem(self) -> str | None:
        """Why the last heartbeat could not be written (None when it was)."""
        error = self._heartbeat.last_error
        return None if error is None else str(error)

    @property
    def heartbeat_running(self) -> bool:
        return self._heartbeat.running

    # ------------------------------------------------------------------------------ internals

    def _prepare_metrics(self) -> list[bytes]:
        """Lines to append before the first row: a header for a new log; for a continued run, a
        newline ending a partial last line and a rewind to the resume point."""
        run_json, metrics = self.folder / RUN_JSON, self.folder / METRICS_JSONL
        exists = run_json.exists() or (metrics.exists() and metrics.stat().st_size > 0)
        if not exists:
            return [format_line(HeaderRow(self._info.run_id).to_dict())]
        if self._resume is None:
            raise RunFolderError(
                f"{self.folder} already holds a run. Choose an empty folder, or continue that run from its checkpoint."
            )
        global_step, epochs_completed = self._resume
        found = continue_run(run_json, metrics, global_step, epochs_completed, self._info.run_id)
        previous = found.previous
        self._epochs = found.epochs
        self._best = best_of(self._epochs)
        with self._state_lock:
            changes: dict[str, Any] = {"run_id": found.run_id, "resumed": (previous.resumed + 1) if previous else 1}
            if previous is not None:
                changes.update(started_at_s=previous.started_at_s, checkpoints=previous.checkpoints,
                               experiment=self._info.experiment or previous.experiment)
            self._info = self._info.with_changes(**changes)
            self._progress_changes(epoch=epochs_completed, epochs_completed=epochs_completed, global_step=global_step)
        return found.lines

    def _fold_latest_step(self) -> None:
        """Apply the last step log_batch saw to progress; caller holds _state_lock."""
        if self._latest_step is not None:
            epoch, global_step = self._latest_step
            self._latest_step = None
            self._progress_changes(epoch=epoch, global_step=global_step)

    def _progress_changes(self, **changes: int) -> None:
        """Update the progress part of run.json (written with the next beat); caller holds _state_lock."""
        self._fold_latest_step()
        values = self._info.progress.to_dict()
        values.update(changes)
        self._info = self._info.with_changes(progress=Progress(**values))

    def _write_run_json(self, **changes: Any) -> None:
        with self._json_lock:
            with self._state_lock:
                self._fold_latest_step()
                self._info = self._info.with_changes(heartbeat_at_s=time.time(), **changes)
                data = self._info.to_dict()
            write_run_json(self.folder / RUN_JSON, data)

    def _beat(self) -> None:
        if not self._ended:
            self._write_run_json()

    def _end(self, status: str, message: str) -> None:
        if not self._started:
            self._release_lock()
            return
        if self._ended:
            return
        self._ended = True
        self._heartbeat.stop()  # joins a beat in progress: the final status is the last write
        try:
            self._metrics.sync()
            self._write_run_json(status=status, message=message, ended_at_s=time.time())
        except OSError as exc:
            raise RunFolderError(f"Could not record the end of the run in {self.folder}: {why(exc)}.") from exc
        finally:
            self._metrics.close()
            self._release_lock()

    def _release_lock(self) -> None:
        handle, self._lock_handle = self._lock_handle, None
        if handle is None:
            return
        if hasattr(handle, "release"):
            handle.release()
        elif hasattr(handle, "__exit__"):
            handle.__exit__(None, None, None)

