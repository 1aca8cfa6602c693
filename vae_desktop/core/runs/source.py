"""File access for run readers: the same reader works on a local (or mounted network) folder and
over SFTP (sftp_source.SftpSource), because it only ever asks a source these few things.

Names are relative to the run folder with "/" separators ("checkpoints/latest.vaeckpt"). A file
that is missing reads as `stat() -> None`; one that vanishes between a stat and a read raises
FileNotFoundError; anything else (permissions, a lost connection) raises another OSError. Readers
treat every OSError as "try again on the next poll", never as a crash.
"""

from __future__ import annotations

import os
import stat as stat_module
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path, PurePosixPath


@dataclass(frozen=True)
class FileStat:
    size: int
    mtime_ns: int
    inode: int | None  # None where the file system or protocol does not tell (SFTP, some SMB mounts)
    is_dir: bool = False

    @property
    def identity(self) -> tuple[int, int, int | None]:
        """Changes whenever the file is appended to, rewritten or replaced by a rename."""
        return (self.size, self.mtime_ns, self.inode)


@dataclass(frozen=True)
class FetchedFile:
    """A complete local copy of a run file (for a local source: the file itself)."""

    name: str
    path: Path
    stat: FileStat


class RunSource(ABC):
    """Read access to one run folder."""

    is_local: bool = False

    @abstractmethod
    def describe(self) -> str:
        """The folder as the user would write it (a path, or user@host:/path)."""

    @abstractmethod
    def stat(self, name: str) -> FileStat | None:
        """Size, mtime and inode of a file or folder; None when it does not exist."""

    @abstractmethod
    def read_range(self, name: str, offset: int, length: int) -> bytes:
        """Up to `length` bytes from `offset` (fewer at the end of the file)."""

    @abstractmethod
    def read_bytes(self, name: str) -> bytes:
        """The whole file."""

    @abstractmethod
    def list_dir(self, name: str = "") -> list[str]:
        """Entry names of a folder (sorted); [] when it does not exist."""

    @abstractmethod
    def fetch(self, name: str) -> FetchedFile:
        """A complete local copy of `name` to load (only copied when remote)."""

    def exists(self, name: str) -> bool:
        return self.stat(name) is not None

    def close(self) -> None:  # noqa: B027 - most sources hold nothing to release
        """Release connections and temporary copies."""

    def __enter__(self) -> RunSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def check_name(name: str) -> str:
    """Refuse names that would leave the run folder (they only ever come from this package)."""
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts:
        raise ValueError(f"not a name inside a run folder: {name!r}")
    return "" if str(path) == "." else str(path)


class LocalSource(RunSource):
    """A run folder on a local disk or a mounted network/synced folder (NFS, SSHFS, SMB, Dropbox)."""

    is_local = True

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def describe(self) -> str:
        return str(self.root)

    def path(self, name: str) -> Path:
        clean = check_name(name)
        return self.root / clean if clean else self.root

    def stat(self, name: str) -> FileStat | None:
        try:
            result = os.stat(self.path(name))
        except (FileNotFoundError, NotADirectoryError):
            return None
        return FileStat(result.st_size, result.st_mtime_ns, result.st_ino or None, stat_module.S_ISDIR(result.st_mode))

    def read_range(self, name: str, offset: int, length: int) -> bytes:
        with open(self.path(name), "rb") as handle:
            handle.seek(offset)
            return handle.read(length)

    def read_bytes(self, name: str) -> bytes:
        return self.path(name).read_bytes()

    def list_dir(self, name: str = "") -> list[str]:
        try:
            return sorted(os.listdir(self.path(name)))
        except (FileNotFoundError, NotADirectoryError):
            return []

    def fetch(self, name: str) -> FetchedFile:
        found = self.stat(name)
        if found is None:
            raise FileNotFoundError(f"{self.path(name)} does not exist")
        return FetchedFile(name, self.path(name), found)
