"""Elapsed time and ETA for a training run, counting only the time it actually trained.

Pauses do not count. Elapsed is the run's: a Continue (or an opened checkpoint) starts a session
on top of the seconds the run had already trained. The ETA uses the pace of the current session
only (steps done since Start), so a resumed checkpoint or a different device gets an honest estimate.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable


class RunClock:
    """A run's active (unpaused) seconds, and the steps done in the current session."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._earlier = 0.0  # seconds the run trained before this session
        self._accumulated = 0.0
        self._since: float | None = None
        self._steps = 0

    def start(self, earlier: float = 0.0) -> None:
        """Start a session of a run that has already trained `earlier` seconds (0 for a new run)."""
        self._earlier = max(0.0, earlier)
        self._accumulated, self._steps = 0.0, 0
        self._since = self._clock()

    def pause(self) -> None:
        if self._since is not None:
            self._accumulated += self._clock() - self._since
            self._since = None

    def resume(self) -> None:
        if self._since is None:
            self._since = self._clock()

    stop = pause

    def add_steps(self, count: int) -> None:
        self._steps += count

    @property
    def running(self) -> bool:
        return self._since is not None

    def elapsed(self) -> float:
        """The run's active seconds: earlier sessions and this one."""
        return self._earlier + self._session_seconds()

    def _session_seconds(self) -> float:
        running = self._clock() - self._since if self._since is not None else 0.0
        return self._accumulated + running

    def eta(self, remaining_steps: int) -> float | None:
        """Seconds left at this session's pace; None until a few steps give a pace."""
        if self._steps < 3 or remaining_steps < 0:
            return None
        return self._session_seconds() / self._steps * remaining_steps


def format_duration(seconds: float | None) -> str:
    """'0:42', '12:05', '1:02:03'; an em dash when unknown."""
    if seconds is None or not math.isfinite(seconds):
        return "—"
    total = max(0, int(round(seconds)))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
