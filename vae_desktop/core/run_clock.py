"""Elapsed time and ETA for a training run, counting only the time it actually trained.

Pauses do not count, and the ETA uses the pace of the current session (steps done since Start),
so a resumed checkpoint or a different device gets an honest estimate.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable


class RunClock:
    """Active (unpaused) seconds since `start()`, and steps done in that time."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._accumulated = 0.0
        self._since: float | None = None
        self._steps = 0

    def start(self) -> None:
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
        running = self._clock() - self._since if self._since is not None else 0.0
        return self._accumulated + running

    def eta(self, remaining_steps: int) -> float | None:
        """Seconds left at the session's pace; None until a few steps give a pace."""
        if self._steps < 3 or remaining_steps < 0:
            return None
        return self.elapsed() / self._steps * remaining_steps


def format_duration(seconds: float | None) -> str:
    """'0:42', '12:05', '1:02:03'; an em dash when unknown."""
    if seconds is None or not math.isfinite(seconds):
        return "—"
    total = max(0, int(round(seconds)))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
