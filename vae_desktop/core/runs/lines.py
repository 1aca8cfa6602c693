"""metrics.jsonl lines: written in one canonical form, read many thousands at a time.

Opening a run of 10^6 batch rows has to take under 2 s. One json.loads per line takes about 2.7 s
for that here, and one json.loads of all lines as an array about 2.5 s with the columns built
(most of it is making a million dicts). So batch lines are written in a fixed canonical form (fixed
key order, numbers in plain decimal notation) and a block of them is checked against that form and
parsed with a few C-speed passes (bytes.translate, one np.fromstring). A line in any other form
(edited by hand, written by another tool, a NaN written as null, garbage) takes the json.loads path
line by line, with the same result, so the fast path is only ever a shortcut.
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vae_desktop.core.runs.schema import BATCH_FIELDS, BatchRow, EpochRow, HeaderRow, RewindRow

BATCH_PREFIX = b'{"type":"batch","global_step":'
_BATCH_SKELETON = b'{"type":"batch","global_step":,"epoch":,"step":,"recon":,"kl":,"samples_per_s":,"time":}\n'
_NUMBER_BYTES = b"0123456789.-"
_TO_SPACE = bytes(c if c in _NUMBER_BYTES else 0x20 for c in range(256))
_BLOCK_LINES = 8192  # one malformed line sends only its block down the slow path
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
    """Parse complete lines (without their newlines). Never raises for bad lines: they are counted
    as malformed; blank lines and rows of unknown types are skipped. A header of a newer major
    format version raises RunFormatError (the reader must stop, not guess)."""
    result = ParsedLines()
    batch_blocks: list[np.ndarray] = []
    start = 0
    while start < len(lines):
        end = min(start + _BLOCK_LINES, len(lines))
        block = lines[start:end]
        start = end
        batch_lines = [line for line in block if line.startswith(BATCH_PREFIX)]
        fast = _parse_canonical_batch(batch_lines)
        if fast is not None and len(batch_lines) == len(block):
            batch_blocks.append(fast)
            continue
        if fast is not None and not any(b'"rewind"' in line for line in block):
            # Order between batch and epoch rows does not matter without a rewind among them.
            batch_blocks.append(fast)
            block = [line for line in block if not line.startswith(BATCH_PREFIX)]
        slow_batch: list[tuple[float, ...]] = []
        for line in block:
            row = _parse_one(line, result)
            if isinstance(row, BatchRow):
                slow_batch.append(row.values())
            elif isinstance(row, RewindRow):
                if slow_batch:
                    batch_blocks.append(np.asarray(slow_batch, dtype=np.float64).T.reshape(_WIDTH, -1))
                    slow_batch = []
                batch_blocks = [_drop_after(b, row.global_step) for b in batch_blocks]
                result.epochs = [e for e in result.epochs if e.metrics.epoch <= row.epoch]
                result.rewind = _earliest(result.rewind, row)
        if slow_batch:
            batch_blocks.append(np.asarray(slow_batch, dtype=np.float64).T.reshape(_WIDTH, -1))
    if batch_blocks:
        result.batch = batch_blocks[0] if len(batch_blocks) == 1 else np.concatenate(batch_blocks, axis=1)
    return result


def _parse_canonical_batch(lines: list[bytes]) -> np.ndarray | None:
    """(7, n) values of canonical batch lines, or None when any line is not in the canonical form.

    The form check makes the values line up with their columns: every line must have exactly the
    skeleton's bytes outside its values, and every value must be non-empty and made of digits, '.'
    and '-'. Then each value gives at least one number (or a parse error), and a total of exactly
    7 per line means each gave one.
    """
    if not lines:
        return empty_batch()
    joined = b"\n".join(lines) + b"\n"
    if joined.translate(None, _NUMBER_BYTES) != _BATCH_SKELETON * len(lines) or b":," in joined or b":}" in joined:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy warns (future: raises) when a value does not parse
        try:
            values = np.fromstring(joined.translate(_TO_SPACE), dtype=np.float64, sep=" ")
        except (ValueError, DeprecationWarning):
            return None
    if values.size != _WIDTH * len(lines):
        return None
    return np.ascontiguousarray(values.reshape(len(lines), _WIDTH).T)


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
    if parser is HeaderRow.from_dict:
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
