"""Opening a run: what a path is (run folder, checkpoint file, remote address, neither), and
open_run(), which reads a run folder's whole history and finds the checkpoint to load.

A folder counts as a run folder when it has run.json, metrics.jsonl or a checkpoint, so the
single-file folders older `train --out` wrote (model.vaeckpt + metrics.csv) open too; a checkpoint
file keeps opening through core/checkpoint.py as before. An existing folder that holds none of them
is NO_RUN_YET: there is nothing to open or compare, but it can be followed, waiting for a run to
start there (a cluster job not started yet, `train --out DIR` about to run), as TensorBoard waits
for a logdir.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from vae_desktop.core.runs.address import RemoteAddress, parse_remote_address
from vae_desktop.core.runs.checkpoint_watch import CheckpointFile, newest_checkpoint
from vae_desktop.core.runs.errors import RunFolderError
from vae_desktop.core.runs.follower import RunFollower
from vae_desktop.core.runs.history import RunHistory
from vae_desktop.core.runs.schema import CHECKPOINT_SUFFIX, METRICS_JSONL, RUN_JSON
from vae_desktop.core.runs.source import LocalSource, RunSource
from vae_desktop.core.runs.state import STALL_AFTER_S, RunStatus


class PathKind(str, Enum):
    RUN_FOLDER = "run_folder"
    NO_RUN_YET = "no_run_yet"  # an existing folder without a run (yet): followed while waiting, never opened
    CHECKPOINT = "checkpoint"
    REMOTE = "remote"  # user@host:/path or ssh://...: a run folder to read over SFTP
    NEITHER = "neither"


@dataclass(frozen=True)
class PathTarget:
    kind: PathKind
    path: str  # the run folder, the checkpoint file, or the remote address as typed
    address: RemoteAddress | None = None
    reason: str = ""  # for NEITHER and NO_RUN_YET: why it cannot be opened, in one sentence


def is_run_folder(source: RunSource) -> bool:
    return source.exists(RUN_JSON) or source.exists(METRICS_JSONL) or newest_checkpoint(source) is not None


def classify_path(text: str | os.PathLike[str]) -> PathTarget:
    """What a command-line argument or a dropped path names. An existing local path wins over a
    remote reading of the same text."""
    path = Path(text)
    try:
        if path.is_dir():
            if is_run_folder(LocalSource(path)):
                return PathTarget(PathKind.RUN_FOLDER, str(path))
            return PathTarget(PathKind.NO_RUN_YET, str(path), reason=f"{path} has no {RUN_JSON}, {METRICS_JSONL} "
                                                                      "or checkpoint: it is not a run folder.")
        if path.is_file():
            if path.name in (RUN_JSON, METRICS_JSONL):
                return PathTarget(PathKind.RUN_FOLDER, str(path.parent))
            if path.suffix == CHECKPOINT_SUFFIX:
                return PathTarget(PathKind.CHECKPOINT, str(path))
            return PathTarget(PathKind.NEITHER, str(path), reason=f"{path.name} is neither a run folder nor a "
                                                                  f"{CHECKPOINT_SUFFIX} checkpoint.")
    except OSError as exc:
        return PathTarget(PathKind.NEITHER, str(path), reason=f"{path} cannot be read: {exc.strerror or exc}.")
    address = parse_remote_address(str(text))
    if address is not None:
        return PathTarget(PathKind.REMOTE, str(text), address=address)
    return PathTarget(PathKind.NEITHER, str(path), reason=f"{path} does not exist.")


def to_follow(target: PathTarget) -> PathTarget:
    """The target a follower reads: a folder with no run yet is followed as the run folder it will be."""
    if target.kind is PathKind.NO_RUN_YET:
        return PathTarget(PathKind.RUN_FOLDER, target.path)
    return target


def source_for(target: PathTarget, ssh_config: str | os.PathLike[str] | None = None) -> RunSource:
    """The source that reads a RUN_FOLDER or REMOTE target (SFTP needs the [remote] extra)."""
    if target.kind is PathKind.RUN_FOLDER:
        return LocalSource(target.path)
    if target.kind is PathKind.REMOTE and target.address is not None:
        from vae_desktop.core.runs.sftp_source import SftpSource

        return SftpSource(target.address, ssh_config=ssh_config)
    raise RunFolderError(target.reason or f"{target.path} is not a run folder.")


@dataclass
class OpenedRun:
    """A run as found now; `follower` continues from here (poll it for what is appended next)."""

    status: RunStatus
    checkpoint: CheckpointFile | None  # the one to load with core.checkpoint.load_checkpoint
    history: RunHistory
    follower: RunFollower
    malformed_lines: int = 0
    problems: list[str] = field(default_factory=list)


def open_run(source: RunSource, stall_after_s: float = STALL_AFTER_S, wait_for_run: bool = False) -> OpenedRun:
    """Read the whole of a run folder. RunFolderError when it has nothing a run folder has, unless
    `wait_for_run` (following): then an existing folder without a run opens empty, its status
    UNKNOWN, and the follower picks the run up as its files appear. A folder that does not exist is
    refused either way (a mistyped path would otherwise wait forever)."""
    follower = RunFollower(source, stall_after_s=stall_after_s)
    history = RunHistory()
    problems: list[str] = []
    update = follower.poll()
    checkpoint = update.checkpoint
    while True:
        history.apply(update)
        problems.extend(p for p in update.problems if p not in problems)
        if not update.more:
            break
        update = follower.poll()
        checkpoint = update.checkpoint or checkpoint
    if update.status.info is None and follower.tail.offset == 0 and checkpoint is None:
        if problems:
            raise RunFolderError(problems[0])
        try:
            found = source.stat("")
        except OSError as exc:
            raise RunFolderError(f"Could not open {source.describe()}: {exc}") from None
        if found is None:
            raise RunFolderError(f"{source.describe()} does not exist.")
        if not wait_for_run or not found.is_dir:
            raise RunFolderError(f"{source.describe()} is not a run folder: it has no {RUN_JSON}, {METRICS_JSONL} or "
                                 "checkpoint.")
    return OpenedRun(update.status, checkpoint, history, follower, update.malformed_lines, problems)
