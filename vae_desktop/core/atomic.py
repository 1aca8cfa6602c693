"""Atomic file writes: write a temp file beside the target, fsync, then os.replace.

A crash or kill mid-write leaves the previous file untouched; a failed write leaves no temp file.
A kill mid-write does leave the temp file (`.NAME.XXXXXXXX.tmp`): `remove_stale_temps` removes
those of one target, and only a writer that owns the target (see `run_lock`) may call it.
"""

from __future__ import annotations

import errno
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

TEMP_SUFFIX = ".tmp"
# mkstemp's random part: 8 characters from tempfile's own alphabet.
_TEMP_RANDOM = r"[a-z0-9_]{8}"


def atomic_write(path: str | os.PathLike[str], write: Callable[[BinaryIO], object]) -> Path:
    """Call `write(file)` on a temp file in the target folder and move it over `path` when complete."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=_temp_prefix(target), suffix=TEMP_SUFFIX, dir=target.parent)
    try:
        os.chmod(tmp_name, 0o666 & ~_current_umask())  # mkstemp makes 0600; saved files should look normal
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except OSError:
            pass
        raise
    _fsync_dir(target.parent)
    return target


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    return atomic_write(path, lambda handle: handle.write(data))


def stale_temps(path: str | os.PathLike[str]) -> list[Path]:
    """Temp files `atomic_write(path, ...)` would name, left in the folder by interrupted writes.

    Only regular files named exactly like ours count (not symlinks, not other programs' `*.tmp`).
    Whether they are stale is the caller's knowledge: it owns `path`, so nobody else writes them.
    """
    target = Path(path)
    pattern = re.compile(re.escape(_temp_prefix(target)) + _TEMP_RANDOM + re.escape(TEMP_SUFFIX))
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return []
    return sorted(Path(e.path) for e in entries if pattern.fullmatch(e.name) and e.is_file(follow_symlinks=False))


def remove_stale_temps(path: str | os.PathLike[str]) -> list[Path]:
    """Delete `stale_temps(path)`; returns those removed (a file that vanished meanwhile is not listed)."""
    removed = []
    for temp in stale_temps(path):
        try:
            temp.unlink()
        except FileNotFoundError:
            continue
        removed.append(temp)
    return removed


def describe_write_error(exc: OSError, path: str | os.PathLike[str]) -> str:
    """Why writing `path` failed, in words that suggest the fix ("the disk is full")."""
    target = Path(path)
    if exc.errno == errno.ENOSPC:
        return "the disk is full"
    if exc.errno == errno.EDQUOT:
        return "the disk quota is used up"
    if exc.errno == errno.EROFS:
        return "that disk is read-only"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "no permission to write in that folder"
    if exc.errno in (errno.ENOTDIR, errno.EEXIST):
        blocker = _file_in_the_way(target)
        if blocker is not None:
            return f"{blocker} is not a folder: it is a file"
    return str(exc.strerror or exc)


def _file_in_the_way(target: Path) -> Path | None:
    """The nearest existing ancestor of `target` (or target's folder) when it is not a folder."""
    for folder in target.parents:
        if folder.exists() or folder.is_symlink():
            return None if folder.is_dir() else folder
    return None


def _temp_prefix(target: Path) -> str:
    return f".{target.name}."


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable where the OS allows opening a directory."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
