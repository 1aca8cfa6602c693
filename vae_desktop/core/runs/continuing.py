"""What a run continued in its own folder starts from: the run.json and metrics.jsonl already there,
read back up to the resume point, and the lines to append before the first new row.

Apart from `RunWriter` because reading a previous run back (tolerating a damaged run.json or a
partial last line, refusing a newer format) is its own job; the writer only applies the result.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from vae_desktop.core.metrics import EpochMetrics
from vae_desktop.core.runs.errors import NewerFormatError, RunFormatError
from vae_desktop.core.runs.lines import format_line, parse_chunk
from vae_desktop.core.runs.schema import HeaderRow, RewindRow, RunInfo


@dataclass(frozen=True)
class Continuation:
    """A folder's run, continued from (global_step, epochs_completed)."""

    previous: RunInfo | None  # its run.json; None when missing or damaged (it is replaced)
    run_id: str  # the run's id, kept across continuations
    epochs: list[EpochMetrics]  # the epochs up to the resume point
    lines: list[bytes]  # to append first: end a partial last line, a header, a rewind past the resume point


def continue_run(run_json: Path, metrics: Path, global_step: int, epochs_completed: int,
                 fresh_run_id: str) -> Continuation:
    """Read the folder's run back; rows logged past the resume point (the epoch that was in progress
    when it stopped) are rewound, so readers forget them. A newer-format log raises RunFormatError."""
    previous = read_previous_info(run_json)
    data = metrics.read_bytes() if metrics.exists() else b""
    complete = data[: data.rfind(b"\n") + 1]
    parsed = parse_chunk(complete)  # a newer-format header raises RunFormatError
    epochs = [e.metrics for e in parsed.epochs if e.metrics.epoch <= epochs_completed]
    run_id = previous.run_id if previous else (parsed.headers[0].run_id if parsed.headers else fresh_run_id)
    lines = [] if not data or data.endswith(b"\n") else [b"\n"]
    if not data:
        lines.append(format_line(HeaderRow(run_id).to_dict()))
    logged_past = (parsed.batch.shape[1] and float(parsed.batch[0].max()) > global_step) or any(
        e.metrics.epoch > epochs_completed for e in parsed.epochs)
    if logged_past:  # rows past the resume point (the epoch in progress was lost): readers forget them
        lines.append(format_line(RewindRow(global_step, epochs_completed, "resume").to_dict()))
    return Continuation(previous, run_id, epochs, lines)


def read_previous_info(path: Path) -> RunInfo | None:
    """The run.json of the run being continued; a damaged one is replaced, a newer format refused."""
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    try:
        return RunInfo.from_dict(data)
    except NewerFormatError:
        raise
    except RunFormatError:
        return None
