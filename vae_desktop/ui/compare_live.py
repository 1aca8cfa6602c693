"""Compared run folders kept live: each is read, then polled, in its own QThread.

The follow worker's design (ui/follow/worker.py) for a run in the comparison: a `CompareWorker`
moved to a QThread opens the folder (`LiveComparedRun`: the whole history so far), then polls it on
a timer, once a second, so neither a long history, a slow network folder nor an SSH round trip
ever freezes the window. Each poll that finds new rows sends a snapshot of the run's curves
(plain numpy copies). A settled run (finished, stopped or failed, nothing more arriving) is only
checked for a change of status, every `settled_ms`. `LiveRuns` starts and stops the workers and
relays what they send, in the GUI thread.
"""

from __future__ import annotations

import logging
import threading

from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal, Slot

from vae_desktop.core.runs.comparison_live import LiveComparedRun
from vae_desktop.ui.logging_setup import LOGGER_NAME
from vae_desktop.ui.retired_threads import RetiredThreads

log = logging.getLogger(f"{LOGGER_NAME}.compare")

COMPARE_POLL_MS = 1000  # at most once a second per compared run
SETTLED_CHECK_MS = 5000  # a settled run: one stat of run.json this often
THREAD_WAIT_MS = 5000  # closing waits this long for a read in progress (an SSH round trip)


class CompareWorker(QObject):
    opened = Signal(object)  # ComparedRun: the folder as first read
    grew = Signal(str, object, str)  # key, RunCurves (a snapshot), checkpoint path ('' while none)
    failed = Signal(object)  # the exception that kept the folder from being read

    def __init__(self, folder: str, interval_ms: int = COMPARE_POLL_MS, settled_ms: int = SETTLED_CHECK_MS) -> None:
        super().__init__()
        self.folder = folder
        self.interval_ms = interval_ms
        self.settled_ms = settled_ms
        self._live: LiveComparedRun | None = None
        self._timer: QTimer | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()  # poll and close never overlap

    @property
    def settled(self) -> bool:
        live = self._live
        return live is not None and live.settled

    def request_stop(self) -> None:
        """Called from the GUI thread: nothing more is sent; the thread's end closes the source."""
        self._stopping.set()

    @Slot()
    def begin(self) -> None:
        """Read the folder (in the worker thread) and start polling it."""
        try:
            with self._lock:
                live = LiveComparedRun(self.folder)
        except Exception as exc:  # said in the window by whoever asked; never raised in this thread
            log.debug("Reading %s for the comparison failed", self.folder, exc_info=True)
            if not self._stopping.is_set():
                self.failed.emit(exc)
            return
        self._live = live
        if self._stopping.is_set():
            return
        self.opened.emit(live.run)
        self._timer = QTimer(self)
        self._timer.setInterval(self.interval_ms)
        self._timer.timeout.connect(self.poll)
        self._timer.start()

    @Slot()
    def poll(self) -> None:
        live = self._live
        if live is None or self._stopping.is_set():
            return
        with self._lock:
            try:
                curves = live.poll()
            except Exception:  # the follower says a folder's problems itself; anything else once, then retry
                log.warning("Polling %s for the comparison failed", self.folder, exc_info=True)
                curves = None
        if self._timer is not None:
            self._timer.setInterval(self.settled_ms if live.settled else self.interval_ms)
        if curves is not None and not self._stopping.is_set():
            self.grew.emit(live.key, curves, live.checkpoint)

    @Slot()
    def close_source(self) -> None:
        """Runs in the worker thread as it ends (connected directly to QThread.finished)."""
        if self._timer is not None:
            self._timer.stop()
        with self._lock:
            if self._live is not None:
                try:
                    self._live.close()
                except Exception:  # closing a dropped connection must not end the thread badly
                    log.info("Closing %s failed", self.folder, exc_info=True)
                self._live = None


class LiveRuns(QObject):
    """The compared folders' workers, one thread each, from reading a folder to leaving the comparison."""

    opened = Signal(object, object)  # CompareWorker, ComparedRun
    failed = Signal(object, object)  # CompareWorker, the exception
    grew = Signal(str, object, str)  # key, RunCurves, checkpoint path

    def __init__(self, parent: QObject, interval_ms: int = COMPARE_POLL_MS,
                 settled_ms: int = SETTLED_CHECK_MS) -> None:
        super().__init__(parent)
        self.interval_ms = interval_ms
        self.settled_ms = settled_ms
        self._threads: dict[CompareWorker, QThread] = {}
        self._retired = RetiredThreads()

    @property
    def workers(self) -> list[CompareWorker]:
        return list(self._threads)

    def start(self, folder: str) -> CompareWorker:
        worker = CompareWorker(folder, self.interval_ms, self.settled_ms)
        thread = QThread(self)
        thread.setObjectName("vae-desktop: compare")
        worker.moveToThread(thread)
        thread.started.connect(worker.begin)
        thread.finished.connect(worker.close_source, Qt.ConnectionType.DirectConnection)  # in the worker thread
        worker.opened.connect(self._on_opened)
        worker.grew.connect(self._on_grew)
        worker.failed.connect(self._on_failed)
        self._threads[worker] = thread
        thread.start()
        return worker

    def stop(self, worker: CompareWorker) -> None:
        """No more news from `worker`; its thread ends after the poll in progress (never waited for here)."""
        thread = self._threads.pop(worker, None)
        if thread is None:
            return
        worker.request_stop()
        worker.opened.disconnect(self._on_opened)
        worker.grew.disconnect(self._on_grew)
        worker.failed.disconnect(self._on_failed)
        self._retired.retire(thread, worker)

    def shutdown(self) -> None:
        """The window closes: stop every worker and wait (briefly) for their threads."""
        for worker in list(self._threads):
            self.stop(worker)
        self._retired.wait(THREAD_WAIT_MS)

    def join(self, timeout_s: float) -> bool:
        """Wait for the threads of stopped workers; True when none is left running."""
        return self._retired.wait(int(timeout_s * 1000))

    @Slot(object)
    def _on_opened(self, run: object) -> None:
        worker = self.sender()
        if isinstance(worker, CompareWorker) and worker in self._threads:
            self.opened.emit(worker, run)

    @Slot(object)
    def _on_failed(self, exc: object) -> None:
        worker = self.sender()
        if isinstance(worker, CompareWorker) and worker in self._threads:
            self.failed.emit(worker, exc)

    @Slot(str, object, str)
    def _on_grew(self, key: str, curves: object, checkpoint: str) -> None:
        if self.sender() in self._threads:
            self.grew.emit(key, curves, checkpoint)
