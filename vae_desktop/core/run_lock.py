"""One writer per run: an advisory lock on a checkpoint, held for as long as one writer owns the run.

Two `train --out SAME` processes, or two windows saving to one file, would otherwise overwrite each
other's checkpoint in turn while both report success. The writer takes `RunLock(checkpoint)` before
its first write and keeps it for the run's lifetime (the CLI: the whole train command; a window:
while that run is the window's). A second writer is refused with a message naming the holder.

- The lock is `fcntl.flock` / `LockFileEx` through the `filelock` library, on `.NAME.lock` beside
  the target. The OS drops it when the holder dies, however it dies: a kill never leaves a run
  locked. The lock file itself stays (deleting it would race with a waiter that has it open).
- Who holds it (pid, host, command, since when) is written to `.NAME.lock.json` after the lock is
  taken, so the refusal can name the holder. That file is only information: a holder that died
  leaves it behind, and the next holder overwrites it.
- Owning the target makes every temp file of ours beside it stale (only a holder writes them), so
  acquiring removes those left by a kill mid-save, for the target and for `also_owns` (files the
  same writer derives from the run, such as the CLI's metrics.csv).
- The key is the checkpoint file, not its folder, so the CLI (`out/checkpoints/latest.vaeckpt`) and a window
  saving to that same file exclude each other, while two windows may save different files into
  one folder. A run folder (run.json, metrics.jsonl, checkpoints/latest.vaeckpt) is locked the
  same way through its main checkpoint, with the other files in `also_owns`.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock, Timeout

from vae_desktop.core.atomic import remove_stale_temps
from vae_desktop.core.errors import RunInUseError


@dataclass(frozen=True)
class LockHolder:
    """Who holds a run lock, as its info file says."""

    pid: int
    host: str
    command: str
    since: float  # time.time() when it took the lock

    def describe(self) -> str:
        started = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.since))
        return f"{self.command} (process {self.pid} on {self.host}, since {started})"


class RunLock:
    """`with RunLock(path, command="vae-desktop train"):` — or acquire() / release() for a longer hold."""

    def __init__(self, target: str | os.PathLike[str], *, also_owns: Sequence[str | os.PathLike[str]] = (),
                 command: str = "VAE Desktop") -> None:
        self.target = Path(os.path.abspath(target))
        self.also_owns = tuple(Path(os.path.abspath(p)) for p in also_owns)
        self.command = command
        self.lock_path = self.target.parent / f".{self.target.name}.lock"
        self.info_path = self.target.parent / f".{self.target.name}.lock.json"
        self._lock = FileLock(str(self.lock_path), timeout=0)
        self._held = False

    @property
    def held(self) -> bool:
        return self._held

    def acquire(self) -> list[Path]:
        """Take the lock now or raise RunInUseError naming the holder; OSError when the folder
        cannot hold a lock file (read-only, missing, not a folder). Returns the stale temp files
        it removed."""
        if self._held:
            return []
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            _raise_if_unopenable(self.lock_path)  # filelock reports some OS errors (ENOENT) as a timeout
            holder = read_holder(self.info_path)
            who = holder.describe() if holder is not None else "another VAE Desktop process"
            raise RunInUseError(f"{self.target} is in use by {who}.") from None
        self._held = True
        try:
            self._write_info()
            removed = []
            for path in (self.target, *self.also_owns):
                removed += remove_stale_temps(path)
        except BaseException:
            self.release()
            raise
        return removed

    def release(self) -> None:
        if not self._held:
            return
        try:
            self.info_path.unlink()
        except OSError:
            pass
        self._lock.release(force=True)
        self._held = False

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()

    def _write_info(self) -> None:
        info = {"pid": os.getpid(), "host": socket.gethostname(), "command": self.command, "since": time.time()}
        # Not atomic_write: no fsync needed for information that only explains a refusal.
        self.info_path.write_text(json.dumps(info) + "\n", encoding="utf-8")


def is_held_elsewhere(target: str | os.PathLike[str]) -> bool:
    """Whether some live process (another one, or another RunLock in this one) holds the lock on
    `target` now. Only looks: it creates no lock file and removes no temp files.

    Two lookers at once must both see an unheld lock as unheld (the window lists its runs and looks
    for interrupted ones in two threads at the same moment), so on POSIX the look is a *shared*
    flock: it fails only against a writer's exclusive one, never against another look. filelock has
    no shared probe compatible with its exclusive lock, hence fcntl here; elsewhere (Windows) the
    look takes the exclusive lock for an instant, as filelock does."""
    lock_path = Path(os.path.abspath(target)).parent / f".{Path(target).name}.lock"
    if not lock_path.exists():
        return False
    if sys.platform != "win32":
        return _held_exclusively(lock_path)
    probe = FileLock(str(lock_path), timeout=0)
    try:
        probe.acquire(timeout=0)
    except Timeout:
        try:
            _raise_if_unopenable(lock_path)  # filelock reports some OS errors as a timeout
        except OSError:
            return False
        return True
    except OSError:
        return False  # cannot even open it (read-only, gone): nobody can be writing through it here
    probe.release(force=True)
    return False


def _held_exclusively(lock_path: Path) -> bool:
    """POSIX: whether an exclusive flock (a RunLock's, through filelock) is held on `lock_path`."""
    import fcntl  # POSIX only: imported here so the module still imports on Windows

    try:
        fd = os.open(lock_path, os.O_RDONLY)
    except OSError:
        return False  # cannot even open it (gone, unreadable): nobody can be writing through it here
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False  # a file system without flock: filelock could not have locked it either
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def read_holder(info_path: Path) -> LockHolder | None:
    """The holder an info file names, or None when it is unreadable or names a process that is gone."""
    try:
        data = json.loads(info_path.read_text(encoding="utf-8"))
        holder = LockHolder(int(data["pid"]), str(data["host"]), str(data["command"]), float(data["since"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if holder.host == socket.gethostname() and not _process_exists(holder.pid):
        return None  # left by a holder that died; the live one has not written its own yet
    return holder


def _raise_if_unopenable(lock_path: Path) -> None:
    """Raise the OSError that opening the lock file gives, if any. Closing this second descriptor does not
    touch the holder's lock: flock and LockFileEx locks belong to the descriptor that took them."""
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    os.close(fd)


def _process_exists(pid: int) -> bool:
    if sys.platform == "win32":  # os.kill(pid, 0) would terminate it there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class HeldLocks:
    """The run locks one long-lived writer (a window) holds: one per file it saves to, each kept while
    that file is the run's or a save to it is still to come, so Save As elsewhere frees the old file."""

    def __init__(self, command: str) -> None:
        self._command = command
        self._locks: dict[str, RunLock] = {}
        self._pending: list[str] = []

    def claim(self, path: str | os.PathLike[str]) -> list[Path]:
        """Hold the lock on `path` (RunInUseError / OSError as RunLock.acquire); returns removed temp files."""
        key = os.path.abspath(path)
        if key in self._locks:
            return []
        lock = RunLock(key, command=self._command)
        removed = lock.acquire()
        self._locks[key] = lock
        return removed

    def save_requested(self, path: str | os.PathLike[str]) -> None:
        """A save to `path` will happen later (in the training thread): keep its lock until `save_done`."""
        self._pending.append(os.path.abspath(path))

    def save_done(self, path: str | os.PathLike[str]) -> None:
        key = os.path.abspath(path)
        if key in self._pending:
            self._pending.remove(key)

    def release_all_but(self, keep: str | os.PathLike[str] | None) -> None:
        """Release every lock except `keep`'s (the run's own file) and those of pending saves."""
        kept = set(self._pending) | ({os.path.abspath(keep)} if keep else set())
        for key in [k for k in self._locks if k not in kept]:
            self._locks.pop(key).release()

    def release_all(self) -> None:
        self._pending.clear()
        self.release_all_but(None)
