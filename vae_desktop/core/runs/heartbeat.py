"""A daemon thread that calls `beat` every `interval_s` until stopped.

The training thread cannot be trusted to write a heartbeat itself: a long evaluation, a pause or
a slow data loader would look like a dead run. A thread of its own beats whatever training does
(torch releases the GIL in its kernels; pure Python yields it every few milliseconds). It is a
daemon so a killed or crashing process never hangs on it; a clean stop joins it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class Heartbeat:
    def __init__(self, beat: Callable[[], None], interval_s: float, name: str = "run-heartbeat") -> None:
        if interval_s <= 0:
            raise ValueError("interval_s must be positive")
        self._beat = beat
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self.beats = 0
        self.last_error: BaseException | None = None  # the last failed beat (e.g. a full disk); beating goes on

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop beating and wait for a beat in progress to finish (never two writers at once)."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout_s)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self._beat()
                self.beats += 1
                self.last_error = None
            except Exception as exc:  # a failed beat must not end the thread; the next one retries
                self.last_error = exc
