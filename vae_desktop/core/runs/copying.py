"""Copying a run folder elsewhere ("Save as" a folder): a copy that opens and continues on its own.

The source may be training while it is copied (the window copies its own run): every file a
writer replaces is replaced atomically, so each copied file is whole; metrics.jsonl is copied up
to its last complete line. The copy is a run of its own: a copy of a running run is marked stopped
(nobody writes the copy, and it must not look interrupted), and lock files stay behind.

fetch_run copies a run from any RunSource (a folder over SFTP: "Continue here" on a remote run)
into a new folder under a runs folder, with only what continuing needs: run.json, the logs and the
latest checkpoint (not every kept one: over SSH each is a download of the whole model).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from vae_desktop.core.atomic import atomic_write_bytes
from vae_desktop.core.paths import new_run_folder
from vae_desktop.core.runs.checkpoint_watch import is_checkpoint_name, newest_checkpoint
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
from vae_desktop.core.runs.source import RunSource

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


def fetch_run(source: RunSource, runs_root: str | os.PathLike[str], dataset: str, z_dim: int) -> Path:
    """Copy the run `source` reads into a new run folder under `runs_root` (named as the window names
    its own: `<date>-<dataset>-z<z>`) and return it. Slow (downloads): call it off the GUI thread.
    RunFolderError in one sentence when the run has no checkpoint or a file cannot be read or
    written; the half-made folder is removed then."""
    try:
        folder = new_run_folder(runs_root, dataset, z_dim)
    except OSError as exc:
        raise RunFolderError(f"Could not make a run folder in {runs_root}: {exc.strerror or exc}.") from None
    try:
        copy_run_from(source, folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)  # made just now, for this copy only
        raise
    return folder


def copy_run_from(source: RunSource, target: Path) -> None:
    """run.json, metrics.jsonl (complete lines), metrics.csv and the latest checkpoint of `source`
    into the empty folder `target`."""
    try:
        found = newest_checkpoint(source)
        if found is None:
            raise RunFolderError(f"{source.describe()} holds no checkpoint yet, so there is nothing to continue from.")
        (target / CHECKPOINT_DIR).mkdir(parents=True, exist_ok=True)
        log = _read_if_there(source, METRICS_JSONL)
        if log is not None:
            (target / METRICS_JSONL).write_bytes(log[: log.rfind(b"\n") + 1])
        csv = _read_if_there(source, METRICS_CSV)
        if csv is not None:
            (target / METRICS_CSV).write_bytes(csv)
        fetched = source.fetch(found[0])  # a local copy (for an SFTP source, in its temp folder)
        shutil.copyfile(fetched.path, target / found[0])  # latest.vaeckpt (or what an older run has instead)
        _write_info(_read_if_there(source, RUN_JSON), target / RUN_JSON)
    except OSError as exc:  # a lost connection (ConnectionError) too
        raise RunFolderError(f"Could not copy the run from {source.describe()} to {target}: "
                             f"{exc.strerror or exc}.") from None


def _read_if_there(source: RunSource, name: str) -> bytes | None:
    try:
        return source.read_bytes(name) if source.exists(name) else None
    except FileNotFoundError:
        return None


def _copy_info(source: Path, target: Path) -> None:
    """run.json, copied last (it describes the checkpoints copied before it); a running run is
    written as stopped, so the copy is not taken for an interrupted one."""
    try:
        data = source.read_bytes()
    except FileNotFoundError:
        return
    _write_info(data, target)


def _write_info(data: bytes | None, target: Path) -> None:
    if data is None:
        return
    try:
        info = RunInfo.from_dict(json.loads(data))
    except (ValueError, RunFormatError):
        target.write_bytes(data)  # copied as it is: the copy opens (or not) as the original does
        return
    if info.status != STATUS_RUNNING:
        atomic_write_bytes(target, data)  # as it is, byte for byte
        return
    info = info.with_changes(status=STATUS_STOPPED, message=COPIED_NOTE, ended_at_s=info.heartbeat_at_s)
    atomic_write_bytes(target, (json.dumps(info.to_dict(), indent=2) + "\n").encode())
