"""Run one slow, GUI-free call (import torch, load a dataset) off the GUI thread; get the result back in it.

A plain Python thread does the work; a QObject living in the GUI thread relays the result through a
queued signal, so `on_done` / `on_error` always run in the GUI thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from vae_desktop.ui.logging_setup import LOGGER_NAME

log = logging.getLogger(f"{LOGGER_NAME}.background")

THREAD_PREFIX = "vae-desktop: "  # names the threads in a debugger or a crash report


class BackgroundCall(QObject):
    """`BackgroundCall(fn, on_done, on_error).start()`; keep a reference until `completed` fires."""

    _succeeded = Signal(object)
    _failed = Signal(object)
    completed = Signal()

    def __init__(
        self,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[BaseException], None],
        name: str = "background",
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._fn = fn
        self._on_done = on_done
        self._on_error = on_error
        self._name = name
        self._thread: threading.Thread | None = None
        self._succeeded.connect(self._deliver_result)
        self._failed.connect(self._deliver_error)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"{THREAD_PREFIX}{self._name}", daemon=True)
        self._thread.start()

    def join(self, timeout_s: float) -> bool:
        """Wait up to `timeout_s` for the call's thread; True when it has ended (or never started)."""
        thread = self._thread
        if thread is None:
            return True
        thread.join(max(0.0, timeout_s))
        return not thread.is_alive()

    def _run(self) -> None:
        try:
            try:
                result = self._fn()
            except BaseException as exc:  # delivered to the GUI thread; nothing dies silently here
                log.debug("%s failed", self._name, exc_info=True)
                self._failed.emit(exc)
            else:
                self._succeeded.emit(result)
        except RuntimeError:  # the window (and this relay) was closed while the work ran: nobody to tell
            log.info("%s finished after its window closed", self._name)

    @Slot(object)
    def _deliver_result(self, result: Any) -> None:
        try:
            self._on_done(result)
        finally:
            self.completed.emit()

    @Slot(object)
    def _deliver_error(self, exc: BaseException) -> None:
        try:
            self._on_error(exc)
        finally:
            self.completed.emit()
