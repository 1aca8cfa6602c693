"""Runs that were interrupted: a crash, a power cut or kill -9 left them `running` with nobody writing.

The window offers to reopen these at start (and marks them in its recent runs). A run counts as
interrupted when its run.json says running, no live process holds its folder lock (the OS drops a
lock whatever way its holder died), and either its heartbeat is older than `stale_after_s` or it
was written on this host by a process that no longer exists. The lock alone is not enough: a
writer on another machine sharing the folder may hold a lock this machine cannot see (some network
file systems do not pass locks on), and its heartbeat says it is alive.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from vae_desktop.core.runs.errors import RunFormatError
from vae_desktop.core.runs.recorder import run_folder_in_use
from vae_desktop.core.runs.schema import LATEST_CHECKPOINT, RUN_JSON, STATUS_RUNNING, RunInfo
from vae_desktop.core.runs.state import STALL_AFTER_S, writer_process_gone


@dataclass(frozen=True)
class InterruptedRun:
    folder: Path
    info: RunInfo
    heartbeat_age_s: float  # this machine's time minus the last heartbeat

    @property
    def saved_epochs(self) -> int:
        """Completed epochs of the state in its latest checkpoint: where a resume starts."""
        return self.info.checkpoints.epochs_completed

    @property
    def resumable(self) -> bool:
        """Whether it holds a checkpoint to continue from (a kill during the first epoch leaves none)."""
        return (self.folder / LATEST_CHECKPOINT).is_file()


def interrupted_run(folder: str | os.PathLike[str], stale_after_s: float = STALL_AFTER_S,
                    now: float | None = None) -> InterruptedRun | None:
    """`folder` as an InterruptedRun, or None: not a run, finished/stopped/failed, or still alive."""
    root = Path(folder)
    try:
        info = RunInfo.from_dict(json.loads((root / RUN_JSON).read_bytes()))
    except (OSError, ValueError, RunFormatError):
        return None
    if info.status != STATUS_RUNNING:
        return None
    age = (time.time() if now is None else now) - info.heartbeat_at_s
    if not (age > stale_after_s or writer_process_gone(info)):
        return None
    if run_folder_in_use(root):
        return None
    return InterruptedRun(root, info, age)


def find_interrupted(root: str | os.PathLike[str], stale_after_s: float = STALL_AFTER_S,
                     now: float | None = None) -> list[InterruptedRun]:
    """The interrupted runs among the folders directly under `root` (a runs folder), the most
    recently alive first. A missing or unreadable root holds none."""
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError:
        return []
    found = []
    for entry in entries:
        try:
            if not entry.is_dir():
                continue
        except OSError:
            continue
        run = interrupted_run(entry.path, stale_after_s, now)
        if run is not None:
            found.append(run)
    return sorted(found, key=lambda run: run.info.heartbeat_at_s, reverse=True)
