"""The two files `RunWriter` keeps current, each written so that a reader, or the folder after a
kill -9, never sees half a write: metrics.jsonl appended one whole line per unbuffered write call
(`MetricsAppender`), run.json replaced atomically (and metrics.csv, rewritten for spreadsheets).

Apart from the writer because these are byte-level rules (one write call per line, fsync once per
epoch, one appender per file) that the writer's bookkeeping only calls; `why` words their errors.
"""

from __future__ import annotations

import errno
import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO

from vae_desktop.core.atomic import atomic_write_bytes
from vae_desktop.core.metrics import EpochMetrics
from vae_desktop.core.metrics_csv import write_metrics_csv
from vae_desktop.core.runs.errors import RunFolderError


class MetricsAppender:
    """metrics.jsonl, kept open for the run; `append` is thread-safe (one append at a time)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._file: BinaryIO | None = None

    def open(self) -> None:
        with self._lock:
            self._file = open(self.path, "ab", buffering=0)

    def append(self, line: bytes, durable: bool = False) -> None:
        """One line in one write call straight to the OS (unbuffered), so a kill leaves at most one
        partial last line; `durable` also fsyncs (once per epoch, not per batch)."""
        with self._lock:
            if self._file is None:
                raise RunFolderError(f"The run in {self.path.parent} is not open for writing (not started, or ended).")
            try:
                view = memoryview(line)
                while view:
                    written = self._file.write(view)
                    view = view[written:]
                if durable:
                    os.fsync(self._file.fileno())
            except OSError as exc:
                raise RunFolderError(f"Could not write {self.path}: {why(exc)}.") from exc

    def sync(self) -> None:
        """Make every appended line durable (raises OSError)."""
        with self._lock:
            if self._file is not None:
                os.fsync(self._file.fileno())

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


def write_run_json(path: Path, data: dict[str, Any]) -> None:
    """Replace run.json atomically with `data` (strict JSON: no NaN)."""
    text = json.dumps(data, indent=2, allow_nan=False) + "\n"
    try:
        atomic_write_bytes(path, text.encode("utf-8"))
    except OSError as exc:
        raise RunFolderError(f"Could not write {path}: {why(exc)}.") from exc


def write_epochs_csv(epochs: Sequence[EpochMetrics], path: Path) -> None:
    """Rewrite metrics.csv from the epoch rows."""
    try:
        write_metrics_csv(epochs, path)
    except OSError as exc:
        raise RunFolderError(f"Could not write {path}: {why(exc)}.") from exc


def why(exc: OSError) -> str:
    """Why a write failed, in words that suggest the fix."""
    reasons = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is used up",
               errno.EROFS: "that disk is read-only", errno.EACCES: "no permission to write there",
               errno.EPERM: "no permission to write there"}
    return reasons.get(exc.errno or -1, str(exc.strerror or exc))
