"""Copying a run folder elsewhere ("Save as" a folder): a copy that opens and continues on its own.

The source may be training while it is copied (the window copies its own run): every file a
writer replaces is replaced atomically, so each copied file is whole; metrics.jsonl is copied up
to its last complete line. The copy is a run of its own: a copy of a running run is marked stopped
(nobody writes the copy, and it must not look interrupted), and lock files stay behind.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from vae_desktop.core.atomic import atomic_write_bytes
from vae_desktop.core.runs.checkpoint_watch import is_checkpoint_name
from vae_desktop.core.runs.errors import RunFolderError, RunFormatError
from vae_desktop.core.runs.schema import (
    CHECKPOINT_DIR,
    LEGACY_CHECKPOINT,
    METRICS_CSV,
    METRICS_JSONL,
    RUN_JSON,
    STATUS_RUNNING,
    STATUS_STOPPED,
    RunInfo,
)

COPIED_NOTE = "copied while it trained"


def copy_run(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> Path:
    """Copy the run in `source` into `target` (a new or empty folder). RunFolderError, in one
    sentence, when `target` holds something already or a file cannot be written."""
    src, dst = Path(source), Path(target)
    if dst.exists() and (not dst.is_dir() or any(dst.iterdir())):
        raise RunFolderError(f"{dst} already exists and is not an empty folder: choose a new folder name.")
    try:
        (dst / CHECKPOINT_DIR).mkdir(parents=True, exist_ok=True)
        _copy_log(src / METRICS_JSONL, dst / METRICS_JSONL)
        for name in (METRICS_CSV, LEGACY_CHECKPOINT):
            if (src / name).is_file():
                shutil.copyfile(src / name, dst / name)
        for entry in sorted(os.listdir(src / CHECKPOINT_DIR)) if (src / CHECKPOINT_DIR).is_dir() else []:
            if is_checkpoint_name(entry):
                _copy_if_there(src / CHECKPOINT_DIR / entry, dst / CHECKPOINT_DIR / entry)
        _copy_info(src / RUN_JSON, dst / RUN_JSON)
    except OSError as exc:
        raise RunFolderError(f"Could not copy the run to {dst}: {exc.strerror or exc}.") from None
    return dst


def _copy_log(source: Path, target: Path) -> None:
    """metrics.jsonl up to its last complete line (a writer may be appending the next one)."""
    try:
        data = source.read_bytes()
    except FileNotFoundError:
        return
    target.write_bytes(data[: data.rfind(b"\n") + 1])


def _copy_if_there(source: Path, target: Path) -> None:
    try:
        shutil.copyfile(source, target)
    except FileNotFoundError:  # replaced or removed between the listing and the copy (best/kept)
        pass


def _copy_info(source: Path, target: Path) -> None:
    """run.json, copied last (it describes the checkpoints copied before it); a running run is
    written as stopped, so the copy is not taken for an interrupted one."""
    try:
        data = source.read_bytes()
    except FileNotFoundError:
        return
    try:
        info = RunInfo.from_dict(json.loads(data))
    except (ValueError, RunFormatError):
        target.write_bytes(data)  # copied as it is: the copy opens (or not) as the original does
        return
    if info.status == STATUS_RUNNING:
        info = info.with_changes(status=STATUS_STOPPED, message=COPIED_NOTE, ended_at_s=info.heartbeat_at_s)
    atomic_write_bytes(target, (json.dumps(info.to_dict(), indent=2) + "\n").encode())
