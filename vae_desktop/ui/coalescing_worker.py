"""A thread that runs the newest of a stream of jobs off the GUI thread (the latent map, the gradients).

Jobs coalesce: while one runs, newer requests replace the pending one (`merge` decides what the
replacement still owes), so a burst of weight updates costs at most one extra job. The thread exits
when it runs out of work and starts again on the next request, so no idle thread outlives its
panel; `shutdown()` drops pending work and waits for the running job. Results are emitted as they
come (numpy arrays only); a failing job is logged and reported, and never kills the app.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

import torch
from PySide6.QtCore import QObject, QThread, Signal

from vae_desktop.ui.logging_setup import LOGGER_NAME

log = logging.getLogger(f"{LOGGER_NAME}.background")

BACKGROUND_THREAD_NICE = 10


class CoalescingWorker(QThread):
    resultReady = Signal(object)  # what `compute` returned
    failed = Signal(str)

    def __init__(
        self,
        compute: Callable[[Any], Any],
        merge: Callable[[Any, Any], Any],
        what: str,
        parent: QObject | None = None,
    ) -> None:
        """`compute(job)` runs in the thread; `merge(pending_or_None, newer)` is the job that replaces a
        pending one; `what` names the work in a failure message ("Updating the latent map")."""
        super().__init__(parent)
        self._compute = compute
        self._merge = merge
        self._what = what
        self._lock = threading.Lock()
        self._pending: Any = None
        self._active = False
        self._closed = False

    def submit(self, job: object) -> None:
        with self._lock:
            if self._closed:
                return  # after shutdown (window closing): starting again would outlive the interpreter
            self._pending = self._merge(self._pending, job)
            start = not self._active
            self._active = True
        if start:
            self.wait()  # a previous run may still be returning after it found no work
            self.start(QThread.Priority.LowestPriority)  # Windows and macOS; Linux: see _yield_cpu

    def shutdown(self) -> None:
        """Drop queued work, wait for the running job, and accept no more (the app is closing)."""
        with self._lock:
            self._pending = None
            self._closed = True
        self.wait()

    def run(self) -> None:
        # One core at most: on a small machine the trainer needs the other; torch's default would take both.
        torch.set_num_threads(1)
        _yield_cpu()
        while True:
            with self._lock:
                job, self._pending = self._pending, None
                if job is None:
                    self._active = False
                    return
            try:
                result = self._compute(job)
            except Exception as exc:  # any failure is shown in the panel and logged, never kills the app
                log.exception("%s failed", self._what)
                self.failed.emit(f"{self._what} failed: {exc}")
                continue
            self.resultReady.emit(result)


def _yield_cpu() -> None:
    """Give this thread a lower CPU priority (Linux, where Qt's thread priorities do nothing).

    On a 2-core machine a background job, the training thread and the GUI thread are three busy threads
    on two cores. Niced, the job takes whatever the other two leave, so it neither slows training nor
    delays the GUI's paint of the previous result. On Linux a nice value set on a thread id applies to
    that thread only; a fresh worker thread starts from the GUI thread's value again.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, max(os.getpriority(os.PRIO_PROCESS, tid), BACKGROUND_THREAD_NICE))
    except OSError:
        log.debug("Could not lower a background thread's priority", exc_info=True)
