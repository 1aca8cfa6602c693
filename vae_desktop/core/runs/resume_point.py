"""Which checkpoint a path given to `train --resume` or `evaluate` means, and which run folder it is in.

A run folder is opened through open_run (its latest checkpoint, as every reader finds it: also an
older single-file folder's model.vaeckpt); `which="best"` takes checkpoints/best.vaeckpt instead.
A checkpoint file is itself; it belongs to a run folder when it lies in one's checkpoints/ (or is
an older folder's model.vaeckpt), which is where `train --resume FILE` continues when --out is left out.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from vae_desktop.core.errors import ConfigError
from vae_desktop.core.runs.opening import open_run
from vae_desktop.core.runs.schema import BEST_CHECKPOINT, CHECKPOINT_DIR, LEGACY_CHECKPOINT, METRICS_JSONL, RUN_JSON
from vae_desktop.core.runs.source import LocalSource

WHICH = ("latest", "best")


@dataclass(frozen=True)
class ResumePoint:
    checkpoint: Path  # the file to load with core.checkpoint.load_checkpoint
    folder: Path | None  # the run folder it belongs to, if any


def checkpoint_to_resume(path: str | os.PathLike[str], which: str = "latest") -> ResumePoint:
    """The checkpoint `path` names. ConfigError / RunFolderError (one sentence) when there is none;
    a path that does not exist is passed on as a file, for load_checkpoint to say so in its words."""
    if which not in WHICH:
        raise ConfigError(f"--which must be latest or best (got {which!r}).")
    given = Path(path)
    if not given.is_dir():
        if which != "latest":
            raise ConfigError(f"--which {which} needs a run folder; {given} is a checkpoint file.")
        return ResumePoint(given, _folder_of(given))
    if which == "best":
        best = given / BEST_CHECKPOINT
        if not best.is_file():
            raise ConfigError(f"{given} has no {BEST_CHECKPOINT} yet: it is written when the first epoch ends.")
        return ResumePoint(best, given)
    opened = open_run(LocalSource(given))
    opened.follower.close()
    if opened.checkpoint is None:
        raise ConfigError(f"{given} holds no checkpoint yet: nothing to continue or evaluate "
                          "(the first is saved when the first epoch ends).")
    return ResumePoint(Path(opened.checkpoint.path), given)


def _folder_of(checkpoint: Path) -> Path | None:
    parent = checkpoint.parent
    if parent.name == CHECKPOINT_DIR and any((parent.parent / n).exists() for n in (RUN_JSON, METRICS_JSONL)):
        return parent.parent
    if checkpoint.name == LEGACY_CHECKPOINT:  # an older single-file `train --out` folder
        return parent
    return None
