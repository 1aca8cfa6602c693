"""Read IDX files (the MNIST family's format), gzipped or not, without torchvision or pickle.

The header is read first and the data after it in chunks, so a small file whose header claims
terabytes (or a gzip bomb) is refused before anything that size is allocated.
"""

from __future__ import annotations

import gzip
import math
import struct
import zlib
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from vae_desktop.core.errors import DatasetError
from vae_desktop.core.regular_files import NotRegularFileError, open_regular

_DTYPES: dict[int, npt.DTypeLike] = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
MAX_DATA_BYTES = 4 << 30  # EMNIST, the largest of the family, holds 0.6 GB
_CHUNK = 16 << 20


class _Reader(Protocol):
    """A plain file or a gzip stream: all `_parse` needs is `read`."""

    def read(self, size: int, /) -> bytes: ...


def read_idx(path: Path) -> np.ndarray:
    """Return the array stored in an IDX file; a damaged file is a DatasetError naming it and the damage."""
    try:
        with open_regular(path) as raw:
            if path.suffix == ".gz":
                with gzip.GzipFile(fileobj=raw, mode="rb") as unpacked:
                    return _parse(path, unpacked)
            return _parse(path, raw)
    except NotRegularFileError as exc:
        raise DatasetError(f"Cannot read {path}: it is {exc.kind}, not a file.") from None
    except PermissionError:
        raise DatasetError(f"No permission to read {path}.") from None
    except gzip.BadGzipFile as exc:
        if str(exc).startswith("Not a gzipped file"):
            raise DatasetError(f"{path} is damaged: it is not a gzip file ({exc}).") from None
        raise DatasetError(f"{path} is damaged: its gzip data is corrupt ({exc}).") from None
    except (EOFError, zlib.error) as exc:  # the gzip stream ends early, or its compressed data is corrupt
        raise DatasetError(f"{path} is damaged: its gzip data is corrupt or cut short ({exc}).") from None
    except OSError as exc:
        raise DatasetError(f"Cannot read {path}: {exc.strerror or exc}.") from None


def _parse(path: Path, handle: _Reader) -> np.ndarray:
    magic = handle.read(4)
    if not magic:
        raise DatasetError(f"{path} is empty.")
    if len(magic) < 4 or magic[0] != 0 or magic[1] != 0 or magic[2] not in _DTYPES:
        raise DatasetError(f"{path} is not an IDX file.")
    ndim = magic[3]
    dims = handle.read(4 * ndim)
    if len(dims) < 4 * ndim:
        raise DatasetError(f"{path} is truncated.")
    shape = struct.unpack(f">{ndim}I", dims)
    dtype = np.dtype(_DTYPES[magic[2]])
    expected = math.prod(shape) * dtype.itemsize  # Python ints: a crafted header cannot overflow this
    if expected > MAX_DATA_BYTES:
        raise DatasetError(f"{path} is damaged: its header claims {expected:,} bytes of data ({shape}).")
    data = bytearray()
    while len(data) < expected:
        chunk = handle.read(min(_CHUNK, expected - len(data)))
        if not chunk:
            break
        data += chunk
    found = len(data) + len(handle.read(1))
    if found != expected:
        more = "more" if found > expected else f"only {found:,}"
        raise DatasetError(f"{path} is truncated or damaged (expected {expected:,} data bytes, found {more}).")
    return np.frombuffer(data, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))
