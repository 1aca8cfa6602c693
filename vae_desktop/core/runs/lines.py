"""metrics.jsonl lines: written in one canonical form, read many thousands at a time.

Opening a run of 10^6 batch rows has to take under 2 s. One json.loads per line takes about 2.7 s
for that here, and one json.loads of all lines as an array about 2.5 s with the columns built
(most of it is making a million dicts). So batch lines are written in a fixed canonical form (fixed
key order, numbers in plain decimal notation) and a block of them is checked against that form and
parsed with a few C-speed passes (bytes.translate, numpy's C CSV reader). A line in any other form
(edited by hand, written by another tool, a NaN written as null, garbage) takes the json.loads path
line by line, with the same result, so the fast path is only ever a shortcut.
"""

from __future__ import annotations

import io
import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vae_desktop.core.runs.schema import BATCH_FIELDS, BatchRow, EpochRow, HeaderRow, RewindRow

BATCH_PREFIX = b'{"type":"batch","global_step":'
_BATCH_SKELETON = b'{"type":"batch","global_step":,"epoch":,"step":,"recon":,"kl":,"samples_per_s":,"time":}\n'
_NUMBER_BYTES = b"0123456789.-"
_NOT_CSV = bytes(c for c in range(256) if c not in b"0123456789.-,\n")
_BLOCK_LINES = 8192  # one malformed line sends only its block down the slow path
_NEWLINE, _B = ord("\n"), ord("b")
_TYPE_LETTER = BATCH_PREFIX.index(b"batch")
_WIDTH = len(BATCH_FIELDS)


def _fixed(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}" if math.isfinite(value) else "null"


def format_batch_line(row: BatchRow) -> bytes:
    """The canonical batch line (what `parse_lines` reads fastest), newline included."""
    return (
        f'{{"type":"batch","global_step":{int(row.global_step)},"epoch":{int(row.epoch)},"step":{int(row.step)},'
        f'"recon":{_fixed(row.recon, 6)},"kl":{_fixed(row.kl, 6)},"samples_per_s":{_fixed(row.samples_per_s, 1)},'
        f'"time":{_fixed(row.time, 3)}}}\n'
    ).encode("ascii")


def format_line(row: dict[str, Any]) -> bytes:
    """Any other row as one compact JSON line (NaN must already be None: JSON has no NaN)."""
    return (json.dumps(row, separators=(",", ":"), allow_nan=False, ensure_ascii=True) + "\n").encode("ascii")


def empty_batch() -> np.ndarray:
    return np.empty((_WIDTH, 0), dtype=np.float64)


@dataclass
class ParsedLines:
    """What a block of complete lines held, in file order already applied.

    batch: (len(BATCH_FIELDS), n) float64, one column per row. rewind: the earliest point any
    rewind row in the block went back to; rows before it in the block are already dropped, and a
    reader drops its own earlier rows past it before appending these.
    """

    batch: np.ndarray = field(default_factory=empty_batch)
    epochs: list[EpochRow] = field(default_factory=list)
    rewind: RewindRow | None = None
    headers: list[HeaderRow] = field(default_factory=list)
    malformed: int = 0


def parse_lines(lines: list[bytes]) -> ParsedLines:
    """`parse_chunk` for a list of lines without their newlines."""
    return parse_chunk(b"".join(line + b"\n" for line in lines))


def parse_chunk(chunk: bytes) -> ParsedLines:
    """Parse complete lines (each ending in a newline). Never raises for bad lines: they are
    counted as malformed; blank lines and rows of unknown types are skipped. A header of a newer
    major format version raises RunFormatError (the reader must stop, not guess).

    Runs of consecutive lines that look like batch lines go through the canonical fast path (which
    checks them fully and falls back to json.loads when any line is not canonical); every other
    line goes through json.loads, in file order, so rewinds apply to exactly the rows before them.
    """
    result = ParsedLines()
    if not chunk:
        return result
    if not chunk.endswith(b"\n"):
        chunk += b"\n"
    buf = np.frombuffer(chunk, dtype=np.uint8)
    ends = np.flatnonzero(buf == _NEWLINE) + 1  # one past each line's newline
    starts = np.empty_like(ends)
    starts[0], starts[1:] = 0, ends[:-1]
    # A cheap guess (the "b" of {"type":"batch"); the fast path checks each run of them in full.
    looks_batch = (ends - starts > _TYPE_LETTER) & (buf[np.minimum(starts + _TYPE_LETTER, len(buf) - 1)] == _B)
    changes = np.flatnonzero(np.diff(looks_batch.view(np.int8))) + 1
    bounds = [0, *changes.tolist(), len(ends)]
    blocks: list[np.ndarray] = []
    for first, last in zip(bounds[:-1], bounds[1:], strict=True):
        if looks_batch[first]:
            for sub in range(first, last, _BLOCK_LINES):
                stop = min(sub + _BLOCK_LINES, last)
                segment = chunk[starts[sub]:ends[stop - 1]]
                fast = _parse_canonical_batch(segment, stop - sub)
                if fast is not None:
                    blocks.append(fast)
                else:
                    _parse_slowly(segment, result, blocks)
        else:
            _parse_slowly(chunk[starts[first]:ends[last - 1]], result, blocks)
    if blocks:
        result.batch = blocks[0] if len(blocks) == 1 else np.concatenate(blocks, axis=1)
    return result


def _parse_slowly(segment: bytes, result: ParsedLines, blocks: list[np.ndarray]) -> None:
    """json.loads line by line, appending batch rows to `blocks` and applying rewinds in order."""
    rows: list[tuple[float, ...]] = []
    for line in segment.split(b"\n")[:-1]:
        row = _parse_one(line, result)
        if isinstance(row, BatchRow):
            rows.append(row.values())
        elif isinstance(row, RewindRow):
            if rows:
                blocks.append(np.asarray(rows, dtype=np.float64).T.reshape(_WIDTH, -1))
                rows = []
            blocks[:] = [_drop_after(b, row.global_step) for b in blocks]
            result.epochs = [e for e in result.epochs if e.metrics.epoch <= row.epoch]
            result.rewind = _earliest(result.rewind, row)
    if rows:
        blocks.append(np.asarray(rows, dtype=np.float64).T.reshape(_WIDTH, -1))


def _parse_canonical_batch(segment: bytes, count: int) -> np.ndarray | None:
    """(7, count) values of `count` canonical batch lines (newlines included), or None when any
    line is not in the canonical form.

    The form check makes the values line up with their columns: every line must have exactly the
    skeleton's bytes outside its values (so the keys are in order) and every value must be
    non-empty and made of digits, '.' and '-'; the CSV reader then checks each is a number.
    """
    if segment.translate(None, _NUMBER_BYTES) != _BATCH_SKELETON * count or b":," in segment or b":}" in segment:
        return None
    # What is left once the skeleton is deleted is a CSV with an empty first field:
    # ",1,1,1,99.0,5.1,1234.5,1796167334.184\n". numpy's C reader parses it and refuses any row
    # whose fields are not 8 numbers (1.2.3, a lone "-").
    try:
        values = np.loadtxt(io.BytesIO(segment.translate(None, _NOT_CSV)), dtype=np.float64, delimiter=",",
                            usecols=range(1, _WIDTH + 1), comments=None, ndmin=2)
    except ValueError:
        return None
    if values.shape != (count, _WIDTH):
        return None
    return np.ascontiguousarray(values.T)


def _parse_one(line: bytes, result: ParsedLines) -> object:
    """One line through json.loads: a row object, None (blank or unknown type), or counted malformed."""
    if not line.strip():
        return None
    try:
        data = json.loads(line)
    except ValueError:  # includes UnicodeDecodeError
        result.malformed += 1
        return None
    if not isinstance(data, dict):
        result.malformed += 1
        return None
    kind = data.get("type")
    parser = _PARSERS.get(kind) if isinstance(kind, str) else None
    if parser is None:
        if kind is None:
            result.malformed += 1
        return None  # a row type from a newer minor version: skipped, not an error
    if kind == "header":
        header = HeaderRow.from_dict(data)  # a newer major version raises: stop reading
        result.headers.append(header)
        return header
    try:
        row = parser(data)
    except (TypeError, ValueError, KeyError, OverflowError):
        result.malformed += 1
        return None
    if isinstance(row, EpochRow):
        result.epochs.append(row)
    return row


_PARSERS = {"batch": BatchRow.from_dict, "epoch": EpochRow.from_dict, "rewind": RewindRow.from_dict,
            "header": HeaderRow.from_dict}


def _drop_after(batch: np.ndarray, global_step: int) -> np.ndarray:
    keep = batch[0] <= global_step
    return batch if keep.all() else batch[:, keep]


def _earliest(current: RewindRow | None, new: RewindRow) -> RewindRow:
    if current is None:
        return new
    return RewindRow(min(current.global_step, new.global_step), min(current.epoch, new.epoch), new.reason)
