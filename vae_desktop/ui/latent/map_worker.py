"""Runs the latent map's heavy jobs (encode the test set, decode the manifold) off the GUI thread.

Jobs coalesce: while one runs, newer requests replace the pending one (`merge_jobs` keeps the work
it still owed), so a burst of weight updates or view changes costs at most one extra job. The
thread exits when it runs out of work and starts again on the next request, so no idle thread
outlives the panel; `shutdown()` drops pending work and waits for the running job.
"""

from __future__ import annotations

import threading

import torch
from PySide6.QtCore import QObject, QThread, Signal

from vae_desktop.core.latent_map import MapComputer, MapJob, MapResult, merge_jobs


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
            self.start()

    def shutdown(self) -> None:
        """Drop queued work, wait for the running job, and accept no more (the app is closing)."""
        with self._lock:
            self._pending = None
            self._closed = True
        self.wait()

    def reopen(self) -> None:
        """Accept work again (the panel was closed and is shown again)."""
        with self._lock:
            self._closed = False

    def run(self) -> None:
        # One core at most: on a small machine the trainer needs the other; torch's default would take both.
        torch.set_num_threads(1)
        while True:
            with self._lock:
                job, self._pending = self._pending, None
                if job is None:
                    self._active = False
                    return
            try:
                result: MapResult = self._computer.run(job)
            except Exception as exc:  # any failure is shown in the panel, never kills the app  # noqa: BLE001
                self.failed.emit(f"Updating the latent map failed: {exc}")
                continue
            self.resultReady.emit(result)
