"""Catch up when shown: a panel behind another tab skips work for new weights and redoes it once on show.

Training sends weights several times a second; a hidden panel that redrew for each would spend the
GUI thread on pictures nobody sees. Every panel that follows the weights asks `due()` first: True
means "visible, do it now"; False marks the panel stale, and `catch_up` runs once when it is shown.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QWidget


class RefreshWhenVisible(QObject):
    """Watches `widget`'s show events; runs `catch_up` on the first show after a skipped refresh."""

    def __init__(self, widget: QWidget, catch_up: Callable[[], None]) -> None:
        super().__init__(widget)
        self._widget = widget
        self._catch_up = catch_up
        self._stale = False
        widget.installEventFilter(self)

    @property
    def stale(self) -> bool:
        """True while a refresh was skipped and the widget has not been shown since."""
        return self._stale

    def due(self) -> bool:
        """True when the widget is visible (refresh now); else remember to catch up when it is shown."""
        if self._widget.isVisible():
            return True
        self._stale = True
        return False

    def forget(self) -> None:
        """Nothing to catch up any more (e.g. the model was replaced and redrawn in full)."""
        self._stale = False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._widget and event.type() == QEvent.Type.Show and self._stale:
            self._stale = False
            self._catch_up()
        return False
