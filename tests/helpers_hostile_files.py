"""Real hostile files for dataset tests: pipes, sockets, links, deep trees, NaN images, decompression bombs."""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import stat
import struct
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image


def save_grey(path: Path, value: int = 128, size: int = 8) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((size, size), value, np.uint8)).save(path)
    return path


def make_fifo(path: Path) -> Path:
    """A named pipe: open() for reading blocks until a writer comes, i.e. forever."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)
    return path


def release_fifo_readers(path: Path, quiet_s: float = 1.0) -> None:
    """Unblock readers stuck in open() on `path` (code under test that did open it, perhaps again and
    again): a writer comes and goes, each reader sees end of file. Returns once no reader has been
    waiting for `quiet_s`; at once when none ever was, which is what the fixed code gives."""
    quiet_since = time.monotonic()
    while time.monotonic() - quiet_since < quiet_s:
        try:
            if not stat.S_ISFIFO(os.lstat(path).st_mode):  # gone, or replaced by a file: nobody can wait on it
                return
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:  # ENXIO: nobody is reading
            if exc.errno not in (errno.ENXIO, errno.ENOENT):
                raise
            time.sleep(0.05)
            continue
        os.close(fd)
        quiet_since = time.monotonic()


@contextlib.contextmanager
def unix_socket(path: Path) -> Iterator[Path]:
    """A listening socket file named `path` (open() on it fails with ENXIO)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(path))
        server.listen(1)
        yield path


def deep_folder(root: Path, depth: int) -> Path:
    """`depth` nested folders under root, made one at a time (os.makedirs recurses and cannot)."""
    root.mkdir(parents=True, exist_ok=True)
    folder = root
    for _ in range(depth):
        folder = folder / "d"
        folder.mkdir()
    return folder


def remove_deep_folder(root: Path) -> None:
    """Delete a tree made by deep_folder, bottom up: shutil.rmtree (and so pytest's clean-up of old
    temporary folders) recurses once per level and dies at ~1,000 on Python 3.11."""
    for folder, subfolders, files in _walk_bottom_up(root):
        for name in files:
            os.unlink(os.path.join(folder, name))
        for name in subfolders:
            os.rmdir(os.path.join(folder, name))


def _walk_bottom_up(root: Path) -> list[tuple[str, list[str], list[str]]]:
    """(folder, subfolders, files) with every folder after all of its subfolders; links are not followed."""
    order, stack = [], [str(root)]
    while stack:
        folder = stack.pop()
        with os.scandir(folder) as it:
            entries = list(it)
        subfolders = [e.name for e in entries if e.is_dir(follow_symlinks=False)]
        files = [e.name for e in entries if not e.is_dir(follow_symlinks=False)]
        order.append((folder, subfolders, files))
        stack.extend(os.path.join(folder, name) for name in subfolders)
    return order[::-1]


def png_claiming_size(path: Path, width: int, height: int) -> Path:
    """A tiny PNG whose header claims width x height grey pixels: a decompression bomb's header."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))
    return path


def nan_tiff(path: Path) -> Path:
    """A float TIFF that is a fine gradient except for one NaN pixel."""
    array = np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8)
    array[3, 4] = np.nan
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array, mode="F").save(path)
    return path
