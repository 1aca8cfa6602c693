"""Runs the latent map's heavy jobs (encode the test set, decode the manifold) off the GUI thread.

Jobs coalesce: while one runs, newer requests replace the pending one (`merge_jobs` keeps the work
it still owed), so a burst of weight updates or view changes costs at most one extra job. The
thread exits when it runs out of work and starts again on the next request, so no idle thread
outlives the panel; `shutdown()` drops pending work and waits for the running job.
"""

from __future__ import annotations

import logging
import os
import sys
import threading

import torch
from PySide6.QtCore import QObject, QThread, Signal

from vae_desktop.core.latent_map import MapComputer, MapJob, MapResult, merge_jobs
from vae_desktop.ui.logging_setup import LOGGER_NAME

log = logging.getLogger(f"{LOGGER_NAME}.latent")


class MapWorker(QThread):
    resultReady = Signal(object)  # MapResult (numpy arrays only)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._pending: MapJob | None = None
        self._active = False
        self._closed = False
        self._computer = MapComputer()

    def submit(self, job: MapJob) -> None:
        with self._lock:
            if self._closed:
                return  # after shutdown (window closing): starting again would outlive the interpreter
            self._pending = merge_jobs(self._pending, job)
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
                result: MapResult = self._computer.run(job)
            except Exception as exc:  # any failure is shown in the panel and logged, never kills the app
                log.exception("Latent map job failed")
                self.failed.emit(f"Updating the latent map failed: {exc}")
                continue
            self.resultReady.emit(result)


MAP_THREAD_NICE = 10


def _yield_cpu() -> None:
    """Give this thread a lower CPU priority (Linux, where Qt's thread priorities do nothing).

    On a 2-core machine the map worker, the training thread and the GUI thread are three busy threads
    on two cores. Niced, the worker takes whatever the other two leave, so a map refresh neither slows
    training nor delays the GUI's paint of the previous result. On Linux a nice value set on a thread
    id applies to that thread only; a fresh worker thread starts from the GUI thread's value again.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, max(os.getpriority(os.PRIO_PROCESS, tid), MAP_THREAD_NICE))
    except OSError:
        log.debug("Could not lower the map worker's priority", exc_info=True)
