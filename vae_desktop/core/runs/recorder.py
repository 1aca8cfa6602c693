"""RunRecorder: the one path from a Trainer's progress into its run folder.

Every trainer records the same way: `vae-desktop train --out DIR`, the window's training worker
and rank 0 of a distributed run. The caller drives it from the thread that runs the trainer (never
a GUI thread): `start()`, then `record(metrics)` for each batch and epoch the trainer yields, then
one of `finish()`, `stop()` or `fail(message)`. An epoch is recorded as its row first and its
checkpoint second, so a kill between the two leaves a log one epoch ahead of latest.vaeckpt, and
continuing rewinds that row away; the other order would lose the row for good.

A run continued from a checkpoint into a folder that has no log yet (another folder, or a
single-file folder of older versions: model.vaeckpt + metrics.csv) first writes the checkpoint's
own history, so the folder holds the whole run.

Ranks other than 0 get a recorder that does nothing (`enabled` is False): one writer per folder.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from vae_desktop.core.checkpoint import Checkpoint, save_checkpoint
from vae_desktop.core.metrics import BatchMetrics, EpochMetrics
from vae_desktop.core.run_lock import RunLock, is_held_elsewhere
from vae_desktop.core.runs.checkpoint_files import SavedCheckpoints
from vae_desktop.core.runs.checkpoint_watch import is_checkpoint_name
from vae_desktop.core.runs.schema import (
    BEST_CHECKPOINT,
    CHECKPOINT_DIR,
    LATEST_CHECKPOINT,
    LEGACY_CHECKPOINT,
    METRICS_CSV,
    METRICS_JSONL,
    RUN_JSON,
    BatchRow,
)
from vae_desktop.core.runs.writer import DEFAULT_HEARTBEAT_S, RunWriter

if TYPE_CHECKING:
    from vae_desktop.core.trainer import Trainer


def run_folder_lock(folder: str | os.PathLike[str], command: str) -> RunLock:
    """The lock one writer of a run folder holds: on its latest checkpoint (so a window saving to that
    very file is refused too), owning the folder's other files (their stale temps are removed)."""
    root = Path(folder)
    return RunLock(root / LATEST_CHECKPOINT, command=command,
                   also_owns=[root / RUN_JSON, root / METRICS_JSONL, root / METRICS_CSV, root / BEST_CHECKPOINT])


def run_folder_in_use(folder: str | os.PathLike[str]) -> bool:
    """Whether a live process holds the run folder's lock (it is being written right now)."""
    return is_held_elsewhere(Path(folder) / LATEST_CHECKPOINT)


def holds_run(folder: str | os.PathLike[str]) -> bool:
    """Whether `folder` already holds a run: run.json, a log, or a checkpoint (older single-file folders too)."""
    root = Path(folder)
    if (root / RUN_JSON).exists() or (root / METRICS_JSONL).exists():
        return True
    return any(_checkpoints_in(root / CHECKPOINT_DIR)) or any(_checkpoints_in(root))


def clear_run(folder: str | os.PathLike[str]) -> list[Path]:
    """Remove the run in `folder` (for --overwrite; the caller holds its lock): its run files and
    checkpoints, nothing else. Returns what was removed."""
    root = Path(folder)
    removed = []
    for path in [root / RUN_JSON, root / METRICS_JSONL, root / METRICS_CSV, root / LEGACY_CHECKPOINT,
                 *_checkpoints_in(root / CHECKPOINT_DIR)]:
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        removed.append(path)
    return removed


def _checkpoints_in(folder: Path) -> list[Path]:
    try:
        return [folder / name for name in os.listdir(folder) if is_checkpoint_name(name)]
    except OSError:
        return []


class RunRecorder:
    """Records one Trainer into `folder`.

    continues: the folder holds this run already and the trainer continues it (from any of its
    checkpoints); without it, a folder that holds a run is refused (RunFolderError).
    lock: the run_folder_lock the caller holds; released when the run ends.
    rank: only rank 0 writes; any other rank gets a recorder whose every method does nothing.
    """

    def __init__(
        self,
        folder: str | os.PathLike[str],
        trainer: Trainer,
        dataset_name: str,
        *,
        kind: str = "train",
        keep_every: int = 0,
        continues: bool = False,
        lock: object = None,
        rank: int = 0,
        world_size: int = 1,
        experiment: str | None = None,
        heartbeat_s: float = DEFAULT_HEARTBEAT_S,
    ) -> None:
        self.folder = Path(folder)
        self.enabled = rank == 0
        self._trainer = trainer
        self._dataset_name = dataset_name
        self._saved_step: int | None = None  # global step of the state this recorder last saved
        # What recording costs the thread that trains (the throughput benchmark reports it): seconds in
        # record() (batch rows, epoch rows and the epoch's checkpoints) and in save() outside it.
        self.record_seconds = 0.0
        self.save_seconds = 0.0
        self._writer: RunWriter | None = None
        if not self.enabled:
            return
        progress = trainer.progress
        self._writer = RunWriter(
            self.folder, model_config=trainer.model.config, train_config=trainer.config, dataset=dataset_name,
            steps_per_epoch=trainer.steps_per_epoch, kind=kind, experiment=experiment, world_size=world_size,
            keep_every=keep_every, heartbeat_s=heartbeat_s, lock=lock,
            resume=(progress.global_step, progress.epoch) if continues else None,
        )

    @property
    def latest_path(self) -> Path:
        return self.folder / LATEST_CHECKPOINT

    @property
    def saved_epochs(self) -> int | None:
        """Completed epochs of the state in latest.vaeckpt; None when the folder holds no checkpoint."""
        if self._writer is None or not self.latest_path.exists():
            return None
        return self._writer.info.checkpoints.epochs_completed

    @property
    def writer(self) -> RunWriter | None:
        return self._writer

    def start(self) -> RunRecorder:
        """Create or continue the folder (run.json running, heartbeat beating)."""
        if self._writer is None:
            return self
        log = self.folder / METRICS_JSONL
        fresh_log = not log.exists() or log.stat().st_size == 0
        self._writer.start()
        progress = self._trainer.progress
        if fresh_log and (progress.global_step > 0 or self._trainer.history.epochs):
            self._write_checkpoint_history()
        return self

    def record(self, metrics: BatchMetrics | EpochMetrics) -> None:
        """One thing the trainer yielded: a batch row, or an epoch row followed by its checkpoints."""
        if self._writer is None:
            return
        started = time.perf_counter()
        try:
            if isinstance(metrics, BatchMetrics):
                self._writer.log_batch(metrics)
                return
            self._writer.log_epoch(metrics, self._trainer.progress.global_step)
            self._save(epoch=metrics)
        finally:
            self.record_seconds += time.perf_counter() - started

    def save(self, epoch: EpochMetrics | None = None) -> SavedCheckpoints | None:
        """Save the trainer's state as latest.vaeckpt (call between steps: on pause, stop, quit);
        with the epoch it ends, also as best/kept. CheckpointError / RunFolderError on failure."""
        if self._writer is None:
            return None
        started = time.perf_counter()
        try:
            return self._save(epoch)
        finally:
            self.save_seconds += time.perf_counter() - started

    def _save(self, epoch: EpochMetrics | None = None) -> SavedCheckpoints | None:
        assert self._writer is not None
        trainer, dataset = self._trainer, self._dataset_name
        step = trainer.progress.global_step
        saved = self._writer.save_checkpoint(lambda path: save_checkpoint(Checkpoint.from_trainer(trainer, dataset), path),
                                             epoch=epoch)
        self._saved_step = step
        return saved

    def finish(self, message: str = "") -> None:
        """The planned epochs are done (or nothing was left to do)."""
        if self._writer is None:
            return
        self._save_if_unsaved()
        self._writer.finish(message)

    def stop(self, message: str = "") -> None:
        """Stopped before the end (Stop, Ctrl+C, quit): the state reached is saved first."""
        if self._writer is None:
            return
        try:
            self._save_if_unsaved()
        finally:
            self._writer.stop(message)

    def fail(self, message: str) -> None:
        """Training failed: record why (latest.vaeckpt keeps the last state saved)."""
        if self._writer is not None:
            self._writer.fail(message)

    def end(self, reason: str, message: str = "") -> None:
        """End with a worker's reason: "completed", "stopped" or "failed"."""
        if reason == "completed":
            self.finish(message)
        elif reason == "failed":
            self.fail(message)
        else:
            self.stop(message)

    def ensure_saved(self) -> None:
        """latest.vaeckpt holds the trainer's state now ("Save" in the window): saved unless it does already."""
        if self._writer is not None:
            self._save_if_unsaved()

    def _save_if_unsaved(self) -> None:
        if self._saved_step != self._trainer.progress.global_step or not self.latest_path.exists():
            self.save()

    def _write_checkpoint_history(self) -> None:
        """The trainer's history (from its checkpoint) as the first rows of a new log. Its batch trace
        holds step, recon and KL; epoch and step-in-epoch follow from the steps per epoch, and the
        rate and time it was logged at are unknown (null)."""
        assert self._writer is not None
        trainer = self._trainer
        trace = trainer.history.batch_arrays()
        per_epoch = max(1, trainer.steps_per_epoch)
        rows = []
        for step, recon, kl in zip(trace["global_step"], trace["recon"], trace["kl"], strict=True):
            g = int(step)
            if g > trainer.progress.global_step:
                break
            epoch = (g - 1) // per_epoch + 1
            rows.append(BatchRow(g, epoch, g - (epoch - 1) * per_epoch, float(recon), float(kl), float("nan"),
                                 float("nan")))
        epochs = [e for e in trainer.history.epochs if e.epoch <= trainer.progress.epoch]
        self._writer.log_past(rows, epochs)
