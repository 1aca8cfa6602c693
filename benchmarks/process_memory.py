"""How much memory and how many threads this process holds, for leak checks (tests) and soak runs
(benchmarks). Linux only (/proc and glibc); elsewhere the functions return None.

Resident memory (RSS) is what the user sees in a task manager, but glibc keeps freed blocks in
per-thread arenas for reuse, so RSS moves in steps of whole arenas and by ±15 MB in a 1 GB
process. The live heap (glibc's `mallinfo2`: bytes handed out and not yet freed, including large
mmapped blocks) moves only when something stays allocated: that is the leak signal.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache
from pathlib import Path

_STATUS = Path("/proc/self/status")


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost",
    )]


@cache
def _libc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    if not hasattr(libc, "mallinfo2") or not hasattr(libc, "malloc_trim"):  # musl, or glibc < 2.33
        return None
    libc.mallinfo2.restype = _MallInfo2
    libc.malloc_trim.argtypes = [ctypes.c_size_t]
    return libc


def _status_field(name: str) -> int | None:
    if not _STATUS.exists():
        return None
    for line in _STATUS.read_text().splitlines():
        key, _, value = line.partition(":")
        if key == name:
            return int(value.split()[0])
    return None


def resident_bytes() -> int | None:
    """Resident set size (VmRSS)."""
    kib = _status_field("VmRSS")
    return None if kib is None else kib * 1024


def thread_count() -> int | None:
    """OS threads of this process (Python's, Qt's, torch's)."""
    return _status_field("Threads")


def live_heap_bytes() -> int | None:
    """Bytes malloc has handed out and not had back, across all arenas (small and mmapped blocks)."""
    libc = _libc()
    if libc is None:
        return None
    info = libc.mallinfo2()
    return int(info.uordblks + info.hblkhd)


def release_free_memory() -> None:
    """Return freed-but-cached heap pages to the OS, so RSS is closer to what is alive."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
