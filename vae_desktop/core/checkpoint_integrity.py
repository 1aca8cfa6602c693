"""A checkpoint's checksum: SHA-256 over every byte of the file, stored as the zip archive's comment.

torch.load does not check the CRC32s its own zip writer stores, so flipped bits inside a tensor
record load silently as changed weights. The scheme, and why:
- The digest covers the whole file (headers, padding, the end record), not only the records, so
  *any* changed byte is caught, and verifying is one sequential read (hashlib releases the GIL).
- It lives in the zip comment: the one place a zip archive holds free bytes after all of its
  content, which torch and zipfile both read past. Older VAE Desktop versions load these files
  unchanged; nothing is added to the pickled payload but a marker (`payload_marker`) saying that
  a digest must be there, so a damaged comment cannot pass for an older file without one.
- Files without a digest (saved before it existed) are checked against the zip CRC32s of every
  record instead, which catches damage to the data but not to headers or padding.
"""

from __future__ import annotations

import hashlib
import zipfile
from typing import BinaryIO

DIGEST_KIND = "sha256-zip-comment"
_TAG = b"vae-desktop-sha256:"
_COMMENT_SIZE = len(_TAG) + 64
_END_RECORD = b"PK\x05\x06"
_END_RECORD_SIZE = 22  # without its comment; the comment length is its last two bytes
_CHUNK = 1 << 20


class ChecksumWriter:
    """The file object torch.save writes to: hashes what passes through and remembers a failed write's
    OSError (torch's zip writer swallows it: a full disk surfaces as "RuntimeError: unexpected pos")."""

    def __init__(self, handle: BinaryIO) -> None:
        self._handle = handle
        self._hash = hashlib.sha256()
        self._tail = b""  # the last bytes written, not hashed yet: the end record is rewritten at the end
        self.error: OSError | None = None

    def write(self, data: bytes) -> int:
        try:
            written = self._handle.write(data)
        except OSError as exc:
            self.error = exc
            raise
        view = memoryview(data)
        if len(view) >= _END_RECORD_SIZE:
            self._hash.update(self._tail)
            self._hash.update(view[:-_END_RECORD_SIZE])
            self._tail = bytes(view[-_END_RECORD_SIZE:])
        else:
            joined = self._tail + bytes(view)
            self._hash.update(joined[:-_END_RECORD_SIZE])
            self._tail = joined[-_END_RECORD_SIZE:]
        return written

    def flush(self) -> None:
        self._handle.flush()

    def append_digest(self) -> None:
        """After torch.save: give the end record a comment holding the digest of everything before it."""
        end = self._tail
        if len(end) != _END_RECORD_SIZE or not end.startswith(_END_RECORD) or end[-2:] != b"\0\0":
            raise RuntimeError("torch.save did not end with a plain zip end record")
        end = end[:-2] + _COMMENT_SIZE.to_bytes(2, "little")
        self._hash.update(end)
        try:
            self._handle.seek(-2, 2)
            self._handle.write(end[-2:])
            self._handle.write(_TAG + self._hash.hexdigest().encode("ascii"))
        except OSError as exc:
            self.error = exc
            raise


def read_digest(handle: BinaryIO, size: int) -> str | None:
    """The digest stored at the end of an open checkpoint, or None when it has none (or it is unreadable)."""
    if size < _END_RECORD_SIZE + _COMMENT_SIZE:
        return None
    handle.seek(size - _COMMENT_SIZE)
    comment = handle.read(_COMMENT_SIZE)
    if not comment.startswith(_TAG):
        return None
    try:
        return comment[len(_TAG):].decode("ascii")
    except UnicodeDecodeError:
        return None


def digest_matches(handle: BinaryIO, size: int, expected: str) -> bool:
    """Hash everything before the comment and compare with the stored digest."""
    digest = hashlib.sha256()
    handle.seek(0)
    left = size - _COMMENT_SIZE
    while left > 0:
        chunk = handle.read(min(_CHUNK, left))
        if not chunk:
            return False
        digest.update(chunk)
        left -= len(chunk)
    return digest.hexdigest() == expected


def first_bad_record(handle: BinaryIO) -> str | None:
    """For files without a digest: the first record whose zip CRC32 does not match (None: all match).

    Raises zipfile.BadZipFile (and whatever the zip reader raises on hostile bytes) when the archive
    itself cannot be read."""
    handle.seek(0)
    with zipfile.ZipFile(handle) as archive:
        return archive.testzip()
