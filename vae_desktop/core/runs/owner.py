"""The run folder a window owns: created under its runs folder (or opened), locked while it is the
window's, and recorded into by one RunRecorder per training session.

A window's run trains in sessions (Start … Stop, Start … Stop); each session has its own Trainer
and so its own RunRecorder, but all of them write the same folder, which the window locks once,
as `vae-desktop train --out` does for its whole life (core/runs/recorder.run_folder_lock). The
lock passes to no recorder: a recorder releases the lock it is given when its session ends, and
the window still owns the run after a Stop.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vae_desktop.core.atomic import atomic_write_bytes
from vae_desktop.core.checkpoint import Checkpoint, load_checkpoint
from vae_desktop.core.errors import RunInUseError
from vae_desktop.core.history import TrainingHistory
from vae_desktop.core.paths import new_run_folder
from vae_desktop.core.run_lock import RunLock
from vae_desktop.core.runs.errors import RunFolderError
from vae_desktop.core.runs.interrupted import interrupted_run
from vae_desktop.core.runs.opening import open_run
from vae_desktop.core.runs.recorder import RunRecorder, holds_run, run_folder_lock
from vae_desktop.core.runs.schema import CHECKPOINT_DIR, LATEST_CHECKPOINT, RUN_JSON, STATUS_RUNNING, STATUS_STOPPED
from vae_desktop.core.runs.source import LocalSource

if TYPE_CHECKING:
    from vae_desktop.core.trainer import Trainer

WINDOW_COMMAND = "VAE Desktop window"


class OwnedRunFolder:
    """One run folder and the lock that makes this process its only writer."""

    def __init__(self, folder: Path, lock: RunLock) -> None:
        self.folder = folder
        self._lock = lock

    @classmethod
    def create(cls, root: str | os.PathLike[str], dataset: str, z_dim: int) -> OwnedRunFolder:
        """A new folder `<root>/<date>-<dataset>-z<z>[-n]`, locked. OSError when it cannot be made."""
        folder = new_run_folder(root, dataset, z_dim)
        return cls.claim(folder)

    @classmethod
    def claim(cls, folder: str | os.PathLike[str]) -> OwnedRunFolder:
        """Own an existing folder (to continue its run). RunInUseError when another process writes it
        (its lock is held, or its run.json says running with a fresh heartbeat: a writer on another
        machine whose lock this one cannot see). An interrupted run is marked stopped once owned, so
        it is not offered again after this window lets it go untouched."""
        root = Path(folder)
        interrupted = interrupted_run(root)
        if interrupted is None and _says_running(root):
            raise RunInUseError(f"{root} is still being written by a run that is alive (its heartbeat is recent).")
        (root / CHECKPOINT_DIR).mkdir(parents=True, exist_ok=True)
        lock = run_folder_lock(root, WINDOW_COMMAND)
        lock.acquire()
        if interrupted is not None:
            info = interrupted.info.with_changes(status=STATUS_STOPPED, ended_at_s=interrupted.info.heartbeat_at_s,
                                                 message="interrupted: its writer ended without a word")
            try:
                atomic_write_bytes(root / RUN_JSON, (json.dumps(info.to_dict(), indent=2) + "\n").encode())
            except OSError:
                pass  # a read-only copy still opens; the next Start fails with the reason
        return cls(root, lock)

    @property
    def latest_path(self) -> Path:
        return self.folder / LATEST_CHECKPOINT

    @property
    def held(self) -> bool:
        return self._lock.held

    def recorder(self, trainer: Trainer, dataset: str) -> RunRecorder:
        """A recorder for one training session of `trainer`. A folder that already holds the run is
        continued (its log rewound to the trainer's step); an empty one starts with the trainer's
        history (a run opened from a checkpoint file: the folder holds the whole run)."""
        return RunRecorder(self.folder, trainer, dataset, kind="window", continues=holds_run(self.folder))

    def release(self) -> None:
        """Give the folder up (the run was replaced, or the window closes). Its files all stay."""
        self._lock.release()


def _says_running(root: Path) -> bool:
    try:
        return json.loads((root / RUN_JSON).read_bytes()).get("status") == STATUS_RUNNING
    except (OSError, ValueError, AttributeError):
        return False


def load_run_folder(folder: str | os.PathLike[str]) -> Checkpoint:
    """The run in `folder` as a Checkpoint: its latest checkpoint, with the whole history (the batch
    curves of the log when the checkpoint carries none). Slow (reads and checks the checkpoint): call
    it off the GUI thread. RunFolderError / CheckpointError in one sentence."""
    opened = open_run(LocalSource(folder))
    if opened.checkpoint is None:
        raise RunFolderError(f"{folder} holds no checkpoint yet (it was stopped during its first epoch), so "
                             "there is nothing to continue from.")
    checkpoint = load_checkpoint(opened.checkpoint.path)
    if len(checkpoint.history) == 0 and len(opened.history):
        checkpoint.history = _history_from_log(opened.history.batch_arrays(), checkpoint)
    return checkpoint


def _history_from_log(rows: dict[str, Any], checkpoint: Checkpoint) -> TrainingHistory:
    import numpy as np  # (the core has them loaded; local: only this rare case needs them)
    import torch

    keep = rows["global_step"] <= checkpoint.progress.global_step
    batch = np.vstack([rows["global_step"][keep], rows["recon"][keep], rows["kl"][keep]])
    return TrainingHistory.from_state({"max_points": checkpoint.history.max_points, "stride": 1,
                                       "batch": torch.from_numpy(batch), "epochs": [
                                           e.to_dict() for e in checkpoint.history.epochs]})
