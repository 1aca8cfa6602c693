"""RunFollower: everything new in a run folder since the last poll, as one plain-data RunUpdate.

A GUI polls it from a worker thread at least once a second (a file watcher can only hint: network
folders send no events) and emits the update as it is: numpy copies, frozen dataclasses and
strings, nothing live. Every failure of the folder (files missing, damaged, replaced, a lost SSH
connection) ends up in `problems` or in the status; poll() itself does not raise for them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from vae_desktop.core.runs.checkpoint_watch import CheckpointFile, CheckpointWatch
from vae_desktop.core.runs.schema import METRICS_JSONL, EpochRow, RewindRow
from vae_desktop.core.runs.source import RunSource
from vae_desktop.core.runs.state import STALL_AFTER_S, UNKNOWN, RunState, RunStatus
from vae_desktop.core.runs.tail import MetricsTail, TailUpdate


@dataclass
class RunUpdate:
    status: RunStatus
    batch: dict[str, np.ndarray]  # new batch rows: one float64 array per schema.BATCH_FIELDS name
    epochs: list[EpochRow] = field(default_factory=list)  # new epoch rows
    rewind: RewindRow | None = None  # first drop earlier rows past this point, then append these
    restarted: bool = False  # metrics.jsonl was replaced or truncated: drop everything, these rows start over
    checkpoint: CheckpointFile | None = None  # a new complete checkpoint to load
    malformed_lines: int = 0  # skipped so far in this run's metrics.jsonl
    more: bool = False  # a backlog is waiting: poll again at once
    problems: list[str] = field(default_factory=list)  # one sentence each, for a banner

    @property
    def batch_rows(self) -> int:
        return len(self.batch["global_step"])

    @property
    def has_news(self) -> bool:
        return bool(self.batch_rows or self.epochs or self.rewind or self.restarted or self.checkpoint)


class RunFollower:
    def __init__(self, source: RunSource, stall_after_s: float = STALL_AFTER_S) -> None:
        self.source = source
        self.state = RunState(source, stall_after_s=stall_after_s)
        self.tail = MetricsTail(source)
        self.checkpoints = CheckpointWatch(source)
        self._status = RunStatus(UNKNOWN, None)

    def poll(self) -> RunUpdate:
        try:
            status = self.state.poll()
            tail = self.tail.poll()
            saves = status.info.checkpoints.saves if status.info is not None else None
            checkpoint, checkpoint_problem = self.checkpoints.poll(saves)
        except ConnectionError as exc:  # SSH dropped or refused: what was known stays, the next poll retries
            self._status = replace(self._status, problem=str(exc))
            return RunUpdate(status=self._status, batch=TailUpdate().batch, malformed_lines=self.tail.malformed_total,
                             problems=[str(exc)])
        self._status = status
        problems = [p for p in (status.problem, tail.problem, checkpoint_problem) if p]
        if tail.missing and self.tail.offset > 0:
            problems.append(f"{METRICS_JSONL} is gone; the curves so far are kept.")
        if tail.malformed:
            problems.append(f"Skipped {tail.malformed} malformed line{'s' if tail.malformed != 1 else ''} "
                            f"in {METRICS_JSONL} ({self.tail.malformed_total} so far).")
        return RunUpdate(status=status, batch=tail.batch, epochs=tail.epochs, rewind=tail.rewind,
                         restarted=tail.restarted, checkpoint=checkpoint,
                         malformed_lines=self.tail.malformed_total, more=tail.more, problems=problems)

    def checkpoint_failed(self) -> None:
        """The last reported checkpoint could not be loaded: report it again on the next poll."""
        self.checkpoints.retry()

    def close(self) -> None:
        self.source.close()
