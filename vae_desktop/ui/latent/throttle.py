"""Rate limiting for expensive refreshes: run now, then at most once per interval, never dropping the last.

While training sends fresh weights several times per second, the latent map re-encodes its scatter
and re-decodes its manifold through a Throttle, so the GUI keeps time for the user's drags.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer


class Throttle(QObject):
    """The first request runs at once; requests during the following interval coalesce into one call at its end."""

    def __init__(self, interval_ms: int, callback: Callable[[], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._callback = callback
        self._pending = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._on_timeout)

    def request(self) -> None:
        if self._timer.isActive():
            self._pending = True
            return
        self._callback()
        self._timer.start()

    def set_interval(self, interval_ms: int) -> None:
        self._timer.setInterval(interval_ms)

    def cancel(self) -> None:
        self._pending = False
        self._timer.stop()

    def _on_timeout(self) -> None:
        if self._pending:
            self._pending = False
            self._callback()
            self._timer.start()
