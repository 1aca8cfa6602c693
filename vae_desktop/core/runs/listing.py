"""The runs in a runs folder, newest first, each with how it stands: what File ▸ Recent runs lists.

Reading a few small run.json files still touches the disk (a network runs folder may be slow), so
the window calls this off the GUI thread and shows the list it got.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from vae_desktop.core.runs.errors import RunFormatError
from vae_desktop.core.runs.interrupted import interrupted_run
from vae_desktop.core.runs.schema import RUN_JSON, RunInfo

MAX_LISTED = 10


@dataclass(frozen=True)
class ListedRun:
    folder: Path
    status: str  # run.json's status, or "interrupted" (running, and nobody writes it any more)
    epochs_completed: int
    heartbeat_at_s: float

    @property
    def interrupted(self) -> bool:
        return self.status == "interrupted"

    def label(self) -> str:
        """`2026-12-02-mnist-z2 — epoch 7, interrupted`: what the menu shows."""
        return f"{self.folder.name} — epoch {self.epochs_completed}, {self.status}"


def list_runs(root: str | os.PathLike[str], limit: int = MAX_LISTED) -> list[ListedRun]:
    """The `limit` most recently alive runs directly under `root` (a missing root holds none)."""
    try:
        entries = [Path(e.path) for e in os.scandir(root) if e.is_dir()]
    except OSError:
        return []
    found = []
    for folder in entries:
        try:
            info = RunInfo.from_dict(json.loads((folder / RUN_JSON).read_bytes()))
        except (OSError, ValueError, RunFormatError):
            continue
        status = "interrupted" if interrupted_run(folder) is not None else info.status
        found.append(ListedRun(folder, status, info.checkpoints.epochs_completed, info.heartbeat_at_s))
    return sorted(found, key=lambda run: run.heartbeat_at_s, reverse=True)[:limit]
