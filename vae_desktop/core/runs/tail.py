"""MetricsTail: the complete new lines of metrics.jsonl since the last poll.

The shape of TensorBoard's event-file loader: keep a byte offset, consume complete lines only (a
half-written last line waits for its newline), and notice when the file is no longer the one that
was being read. Network and synced folders send no change events and may replace a file wholesale
(rsync writes a copy and renames it), so every poll starts from a stat:

- unchanged size, mtime and inode: nothing to do (one stat per poll when idle);
- smaller than the offset (truncated, or replaced by a shorter copy): read again from the start;
- otherwise the few bytes just before the offset are read again with the new data and compared
  with what was read last time; after a change of inode the file's first line is compared too.
  A mismatch (a rotated or rewritten file) means read again from the start. A replacement whose
  beginning and last-read bytes are unchanged is a synced copy of the same log that grew: reading
  carries on from the offset rather than re-reading everything.

Reading again from the start is reported as `restarted`: the caller drops what it had.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vae_desktop.core.runs.errors import RunFormatError
from vae_desktop.core.runs.lines import empty_batch, parse_chunk
from vae_desktop.core.runs.schema import BATCH_FIELDS, METRICS_JSONL, EpochRow, HeaderRow, RewindRow
from vae_desktop.core.runs.source import FileStat, RunSource

_ANCHOR_BYTES = 256  # re-read before the offset to recognise the same file
_HEAD_BYTES = 4096  # the first line (the header, with the run id) identifies the log
DEFAULT_MAX_READ = 64 << 20  # per poll; a bigger backlog comes in over several polls (`more`)
DEFAULT_MAX_LINE = 16 << 20  # a "line" longer than this without a newline is garbage


@dataclass
class TailUpdate:
    """What one poll found. `batch` holds copies (plain numpy arrays keyed by BATCH_FIELDS)."""

    batch: dict[str, np.ndarray] = field(default_factory=lambda: _columns(empty_batch()))
    epochs: list[EpochRow] = field(default_factory=list)
    rewind: RewindRow | None = None  # drop earlier rows past this point before appending these
    restarted: bool = False  # the file was replaced or truncated: these rows start from its beginning
    malformed: int = 0  # lines skipped in this poll
    missing: bool = False  # metrics.jsonl does not exist (yet, or any more)
    more: bool = False  # more complete data is waiting than one poll reads: poll again now
    problem: str | None = None

    @property
    def batch_rows(self) -> int:
        return len(self.batch["global_step"])


def _columns(batch: np.ndarray) -> dict[str, np.ndarray]:
    return {name: np.array(batch[i], dtype=np.float64) for i, name in enumerate(BATCH_FIELDS)}


class MetricsTail:
    def __init__(self, source: RunSource, name: str = METRICS_JSONL, max_read: int = DEFAULT_MAX_READ,
                 max_line: int = DEFAULT_MAX_LINE) -> None:
        self.source = source
        self.name = name
        self.max_read = max_read
        self.max_line = max_line
        self.offset = 0
        self.malformed_total = 0
        self.header: HeaderRow | None = None
        self._seen: FileStat | None = None
        self._anchor = b""  # the bytes just before `offset`
        self._head = b""  # the first line (or first _HEAD_BYTES) of the file being read
        self._refused: str | None = None
        self._more = False  # the last read stopped at max_read with more data waiting

    def poll(self) -> TailUpdate:
        if self._refused is not None:
            return TailUpdate(problem=self._refused)
        try:
            found = self.source.stat(self.name)
        except ConnectionError:
            raise  # the whole source is unreachable: the follower says so once
        except OSError as exc:
            return TailUpdate(problem=f"Could not check {self.name}: {exc}")
        if found is None:
            return TailUpdate(missing=True)
        if self._seen is not None and found.identity == self._seen.identity and not self._more:
            return TailUpdate()
        try:
            return self._read(found)
        except FileNotFoundError:  # vanished between the stat and the read: the next poll sees why
            return TailUpdate(missing=True)
        except ConnectionError:
            raise
        except OSError as exc:
            return TailUpdate(problem=f"Could not read {self.name}: {exc}")

    def _read(self, found: FileStat) -> TailUpdate:
        restarted = False
        if self.offset and (found.size < self.offset or not self._same_file(found)):
            self._reset()
            restarted = True
        data, capped = self._read_from_offset(found)
        if self._anchor and not data.startswith(self._anchor):  # rewritten in place near our offset
            self._reset()
            restarted = True
            data, capped = self._read_from_offset(found)
        skip = len(self._anchor)
        update = TailUpdate(restarted=restarted)
        self._seen, self._more = found, False
        end = data.rfind(b"\n", skip) + 1 - skip  # bytes of complete lines after the anchor
        if end <= 0:
            if len(data) - skip <= self.max_line:
                return update  # a half-written line: wait for its newline
            garbage = data[skip:]  # no newline in sight: skip what was seen of it as one malformed line
            self._advance(garbage)
            update.malformed = 1
            self.malformed_total += 1
            self._more = update.more = capped
            return update
        complete = data[skip:skip + end] if skip or end < len(data) else data
        if self.offset == 0:
            self._head = complete[:_HEAD_BYTES].split(b"\n", 1)[0]
        try:
            parsed = parse_chunk(complete)
        except RunFormatError as exc:  # a header of a newer major version, or not our format at all
            self._refused = str(exc)
            return TailUpdate(problem=self._refused, restarted=restarted)
        if parsed.headers and self.header is None:
            self.header = parsed.headers[0]
        update.batch = _columns(parsed.batch)
        update.epochs = parsed.epochs
        update.rewind = parsed.rewind
        update.malformed += parsed.malformed
        self.malformed_total += update.malformed
        self._advance(complete)
        self._more = update.more = capped
        return update

    def _advance(self, consumed: bytes) -> None:
        self.offset += len(consumed)
        if len(consumed) >= _ANCHOR_BYTES:
            self._anchor = consumed[-_ANCHOR_BYTES:]
        else:
            self._anchor = (self._anchor + consumed)[-_ANCHOR_BYTES:]

    def _read_from_offset(self, found: FileStat) -> tuple[bytes, bool]:
        """The anchor bytes before the offset and what follows, and whether more is left to read."""
        start = self.offset - len(self._anchor)
        available = found.size - start
        limit = len(self._anchor) + max(self.max_read, self.max_line + 1)
        return self.source.read_range(self.name, start, max(0, min(available, limit))), available > limit

    def _same_file(self, found: FileStat) -> bool:
        """After a change of inode: does the new file begin with the line the old one began with?"""
        if self._seen is None or found.inode is None or self._seen.inode is None or found.inode == self._seen.inode:
            return True
        if not self._head:
            return True
        return self.source.read_range(self.name, 0, len(self._head)) == self._head

    def _reset(self) -> None:
        self.offset = 0
        self._anchor = b""
        self._head = b""
        self.header = None
