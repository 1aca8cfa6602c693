"""Putting a run's checkpoint files in place: latest.vaeckpt written atomically from whatever the
trainer hands in, best.vaeckpt and the kept epoch-NNNN.vaeckpt as hard links to it (copies where
the folder refuses links), which epoch deserves best.vaeckpt, and where one save put them.

Apart from `RunWriter` because these are file-level rules (atomic replace, link-or-copy, "did the
write function really write?") with no part in the writer's locks or run.json bookkeeping.
"""

from __future__ import annotations

import math
import os
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from vae_desktop.core.atomic import atomic_write, atomic_write_bytes
from vae_desktop.core.metrics import EpochMetrics
from vae_desktop.core.runs.errors import RunFolderError

# What a checkpoint can be handed in as: a function that writes it (atomically) to the path it is
# given, e.g. `lambda path: save_checkpoint(checkpoint, path)`; the bytes of a checkpoint file; or
# the path of a finished checkpoint file to copy in.
CheckpointSource = Callable[[Path], object] | bytes | str | os.PathLike


@dataclass(frozen=True)
class SavedCheckpoints:
    """Where one save_checkpoint call put the state (best/kept are None when not written)."""

    latest: Path
    best: Path | None = None
    kept: Path | None = None


def place_checkpoint(checkpoint: CheckpointSource, target: Path) -> None:
    """Write `checkpoint` to `target` atomically (a path already at `target` is left as it is)."""
    if isinstance(checkpoint, (str, os.PathLike)):
        source = Path(checkpoint)
        if source.resolve() != target.resolve():
            with open(source, "rb") as handle:
                atomic_write(target, lambda out: shutil.copyfileobj(handle, out, 1 << 20))
    elif isinstance(checkpoint, (bytes, bytearray, memoryview)):
        atomic_write_bytes(target, bytes(checkpoint))
    elif callable(checkpoint):
        before = _identity(target)
        checkpoint(target)
        after = _identity(target)
        if after is None or after == before:
            raise RunFolderError(f"The checkpoint writer did not create {target}.")
    else:
        raise TypeError(f"a checkpoint must be a write function, bytes or a path, not {type(checkpoint).__name__}")


def _identity(path: Path) -> tuple[int, int, int] | None:
    try:
        found = path.stat()
    except FileNotFoundError:
        return None
    return (found.st_ino, found.st_mtime_ns, found.st_size)


def link_or_copy(source: Path, target: Path) -> None:
    """Make `target` the same file as `source`, atomically: a hard link costs nothing (the next save
    of latest replaces latest's name, not this file); folders that refuse hard links get a copy."""
    temp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")  # the atomic.py temp-name pattern
    try:
        os.link(source, temp)
        os.replace(temp, target)
        return
    except OSError:
        try:
            os.unlink(temp)
        except OSError:
            pass
    with open(source, "rb") as handle:
        atomic_write(target, lambda out: shutil.copyfileobj(handle, out, 1 << 20))


def best_of(epochs: list[EpochMetrics]) -> tuple[int, float] | None:
    """(epoch, test negative ELBO) of the best finite epoch: the one best.vaeckpt holds."""
    finite = [e for e in epochs if math.isfinite(e.test_total)]
    if not finite:
        return None
    best = min(finite, key=lambda e: e.test_total)
    return best.epoch, best.test_total
