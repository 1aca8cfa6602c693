"""Open only regular files, and walk folder trees without recursion and without symlink loops.

A user's folder can hold anything with any name: a named pipe called `cat.png` blocks `open()` until
some other program writes to it (forever, usually), a device node reads from hardware, a socket cannot
be opened at all, a broken link points nowhere. Every data file VAE Desktop reads goes through
`open_regular`, which looks before it opens (no `open()` on anything but a regular file) and checks
again on the open descriptor, so a file swapped for a pipe in between cannot block either.

`walk_files` lists a tree with an explicit stack: `Path.rglob` and `os.walk` recurse on Python 3.11
and die with RecursionError about 1,000 folders deep. Linked folders are followed, each real folder
(device, inode) once, so a link back to a parent ends instead of looping.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

# O_NONBLOCK makes the second look (fstat on the open descriptor) safe even for a pipe that appeared
# after the first look: opening a pipe for reading without it waits for a writer.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)


class NotRegularFileError(OSError):
    """`path` is a pipe, socket, device, folder or broken link: nothing VAE Desktop will open."""

    def __init__(self, path: str | os.PathLike[str], kind: str) -> None:
        super().__init__(f"{os.fspath(path)} is {kind}, not a regular file")
        self.path = os.fspath(path)
        self.kind = kind

    def __str__(self) -> str:
        return self.args[0]


def describe_mode(mode: int) -> str:
    """What a non-regular file is, in words for a message."""
    for test, kind in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device")):
        if test(mode):
            return kind
    return "a special file"


def check_regular(path: str | os.PathLike[str]) -> os.stat_result:
    """Stat `path` (following links); NotRegularFileError unless it is a regular file."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise NotRegularFileError(path, "a broken link") from None
        raise
    if not stat.S_ISREG(info.st_mode):
        raise NotRegularFileError(path, describe_mode(info.st_mode))
    return info


def open_regular(path: str | os.PathLike[str]) -> BinaryIO:
    """Open a regular file for binary reading; anything else is NotRegularFileError and is never opened."""
    check_regular(path)
    fd = os.open(path, _OPEN_FLAGS)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):  # swapped for something else since the first look
            raise NotRegularFileError(path, describe_mode(info.st_mode))
        if _OPEN_FLAGS & getattr(os, "O_NONBLOCK", 0):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


@dataclass
class TreeListing:
    """What `walk_files` found: wanted regular files, wanted names that are not regular files, and
    folders it could not list (with the reason), all sorted."""

    files: list[Path] = field(default_factory=list)
    not_regular: list[Path] = field(default_factory=list)
    unreadable_folders: list[tuple[Path, OSError]] = field(default_factory=list)


def folder_key(path: str | os.PathLike[str]) -> tuple[int, int]:
    """The identity of a real folder, whatever links lead to it."""
    info = os.stat(path)
    return (info.st_dev, info.st_ino)


def walk_files(
    root: Path, wanted: Callable[[str], bool], skip: frozenset[tuple[int, int]] = frozenset()
) -> TreeListing:
    """Every file under `root` (at any depth) whose name passes `wanted`, iteratively.

    Folders that cannot be listed (no permission, vanished, path too long) are reported, not fatal.
    Folders in `skip` (see `folder_key`) are not entered: e.g. the dataset folder itself, when a class
    subfolder links back to it.
    """
    listing = TreeListing()
    seen: set[tuple[int, int]] = set(skip)
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            key = folder_key(folder)
            if key in seen:
                continue
            seen.add(key)
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError as exc:
            listing.unreadable_folders.append((folder, exc))
            continue
        for entry in entries:
            path = folder / entry.name
            try:
                is_dir = entry.is_dir()  # follows links; loops end at `seen`
            except OSError:
                is_dir = False
            if is_dir:
                stack.append(path)
            elif wanted(entry.name):
                try:
                    regular = stat.S_ISREG(entry.stat().st_mode)
                except OSError:  # a broken link, or the entry vanished meanwhile
                    regular = False
                (listing.files if regular else listing.not_regular).append(path)
    listing.files.sort()
    listing.not_regular.sort()
    listing.unreadable_folders.sort(key=lambda item: item[0])
    return listing
