"""A decoded image folder kept as one uint8 file in the user cache folder, so the next start skips decoding.

Decoding 200,000 JPEGs takes minutes; reading their pixels back takes seconds. The file is named
by a hash of the folder's path and a key over what decides the pixels: every listed file's relative
path, class, size, mtime and mode, the image size asked for and the preparation's version. Adding,
removing or editing a file changes the key, so the folder is decoded again (and the outdated file
of that folder deleted). Layout: the pixels (N, C, H, W) first, so they can be memory-mapped at
offset 0, then a JSON header and a 16-byte trailer (header length, magic). The header holds the
CRC-32 of the pixels: a truncated or damaged file is detected, logged and rebuilt, never trusted.
Files are written atomically (core/atomic.py); a file lock makes a second trainer starting on the
same folder wait for the first one's file instead of decoding the folder again beside it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import struct
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from vae_desktop.core.atomic import atomic_write

log = logging.getLogger(__name__)

MAGIC = b"VAEPIX01"
TRAILER = struct.Struct("<Q8s")  # header length, magic
VERSION = 1  # bump when the preparation of images changes: old files then no longer match
SUFFIX = ".pixels"
CRC_CHUNK = 1 << 24


@dataclass
class DecodedFolder:
    """A folder's usable images as uint8 (N, C, H, W), their class numbers, and why others were skipped."""

    images: np.ndarray
    labels: np.ndarray
    skipped: Counter[str]


@dataclass(frozen=True)
class CacheResult:
    decoded: DecodedFolder
    note: str | None  # for the user: why the cache could not be written; None when all went well


def folder_key(root: Path, files: list[tuple[Path, int]], image_size: int | None) -> str:
    """SHA-256 over everything that decides the decoded pixels (see the module docstring).

    A file that cannot be stat'ed is keyed as such: it will be skipped when decoded."""
    digest = hashlib.sha256(f"v{VERSION} size={image_size}\n".encode())
    for path, label in files:
        try:
            info = path.stat()
            facts = f"{info.st_size} {info.st_mtime_ns} {info.st_mode:o}"
        except OSError as exc:
            facts = f"unreadable {exc.errno}"
        digest.update(f"{path.relative_to(root).as_posix()}\0{label}\0{facts}\n".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def cache_file(cache_dir: Path, root: Path, key: str, image_size: int | None) -> Path:
    """<folder hash>-<size>-<key>.pixels: the folder part finds outdated files of the same folder."""
    folder = hashlib.sha256(os.fsencode(root.resolve())).hexdigest()[:16]
    return cache_dir / f"{folder}-{image_size or 'native'}-{key[:32]}{SUFFIX}"


def load_or_build(path: Path, key: str, build: Callable[[], DecodedFolder]) -> CacheResult:
    """The cached folder at `path`, or `build()` written there for the next time (both logged).

    Never raises because of the cache itself: an unreadable or damaged file is rebuilt, a cache
    folder that cannot be written only costs the next start a decode (the note says so)."""
    found = read_cache(path, key)
    if found is not None:
        return _reused(found, path)
    from filelock import FileLock, Timeout  # deferred: only folder datasets need it

    lock = FileLock(str(path.with_suffix(".lock")))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        log.info("Another process is decoding this folder into %s; waiting for it", path)
        try:
            lock.acquire()
        except OSError as exc:
            return _uncached(build(), path, exc)
    except OSError as exc:  # the cache folder cannot be created or written
        return _uncached(build(), path, exc)
    try:
        found = read_cache(path, key)  # written by the process we waited for
        if found is not None:
            return _reused(found, path)
        decoded = build()
        try:
            write_cache(path, key, decoded)
        except OSError as exc:
            return _uncached(decoded, path, exc)
        _remove_outdated(path)
        log.info("Decoded images saved to the cache %s", path)
        return CacheResult(decoded, None)  # the first start says nothing more than an uncached one did
    finally:
        lock.release()


def _reused(found: DecodedFolder, path: Path) -> CacheResult:
    # The log, not the output: a start from the cache prints just what a decoding start prints.
    log.info("Decoded images read from the cache %s (%d images)", path, len(found.images))
    return CacheResult(found, None)


def _uncached(decoded: DecodedFolder, path: Path, exc: OSError) -> CacheResult:
    log.warning("Cannot write the image cache %s: %s", path, exc)
    return CacheResult(decoded, f"could not write the image cache {path} ({exc.strerror or exc}); "
                                "the next start decodes the folder again")


def write_cache(path: Path, key: str, decoded: DecodedFolder) -> None:
    """Pixels, header, trailer, atomically: a reader sees the old file, no file, or the whole new one."""
    images = np.ascontiguousarray(decoded.images, dtype=np.uint8)
    header = json.dumps({
        "version": VERSION,
        "key": key,
        "shape": list(images.shape),
        "labels": [int(label) for label in decoded.labels],
        "skipped": dict(decoded.skipped),
        "crc32": _crc32(images),
    }).encode()

    def write(handle: BinaryIO) -> None:
        handle.write(images.reshape(-1).data)
        handle.write(header)
        handle.write(TRAILER.pack(len(header), MAGIC))

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, write)


def read_cache(path: Path, key: str) -> DecodedFolder | None:
    """The folder stored at `path` when it is whole and made for `key`; None (logged) otherwise."""
    try:
        return _read(path, key)
    except FileNotFoundError:
        return None
    except Exception as exc:  # damaged bytes can fail anywhere (json, struct, numpy): rebuild, never crash
        log.info("Ignoring the image cache %s (%s); decoding the folder again", path, exc)  # it heals itself
        return None


def _read(path: Path, key: str) -> DecodedFolder | None:
    with path.open("rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size < TRAILER.size:
            raise ValueError("too short")
        handle.seek(size - TRAILER.size)
        header_len, magic = TRAILER.unpack(handle.read(TRAILER.size))
        if magic != MAGIC or header_len > size - TRAILER.size:
            raise ValueError("no trailer")
        handle.seek(size - TRAILER.size - header_len)
        header = json.loads(handle.read(header_len))
    if header.get("version") != VERSION or header.get("key") != key:
        return None  # another folder state's file under a colliding name prefix: not ours
    shape = tuple(int(n) for n in header["shape"])
    if len(shape) != 4 or shape[1] not in (1, 3) or min(shape) < 0:
        raise ValueError(f"bad shape {shape}")
    pixels = int(np.prod(shape))
    if pixels + header_len + TRAILER.size != size:
        raise ValueError(f"size {size} does not match its {shape} images (truncated?)")
    labels = np.asarray(header["labels"], dtype=np.int64)
    if labels.shape != (shape[0],):
        raise ValueError("labels do not match the images")
    images = np.memmap(path, dtype=np.uint8, mode="r", shape=shape) if pixels else np.zeros(shape, np.uint8)
    if _crc32(images) != header["crc32"]:
        raise ValueError("pixels do not match their CRC-32 (damaged)")
    skipped: Counter[str] = Counter({str(k): int(v) for k, v in header["skipped"].items()})
    return DecodedFolder(images, labels, skipped)


def _crc32(images: np.ndarray) -> int:
    flat = images.reshape(-1)
    crc = 0
    for start in range(0, flat.size, CRC_CHUNK):
        crc = zlib.crc32(np.ascontiguousarray(flat[start : start + CRC_CHUNK]).data, crc)
    return crc


def _remove_outdated(path: Path) -> None:
    """Other files of the same folder and size (the folder changed since): they would never match again."""
    prefix = path.name.rsplit("-", 1)[0] + "-"
    for other in path.parent.glob(f"{prefix}*{SUFFIX}"):
        if other != path:
            try:
                other.unlink()
                log.info("Removed the outdated image cache %s", other)
            except OSError:
                pass
