"""Dropping a run folder on the window follows it (a dropped checkpoint file opens as File ▸ Open does)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QWidget


def dropped_path(event: QDropEvent) -> str | None:
    """The one local path dropped, or None (several items, or not a file)."""
    data = event.mimeData()
    urls = data.urls() if data is not None else []
    if len(urls) != 1 or not urls[0].isLocalFile():
        return None
    return urls[0].toLocalFile()


class DropTarget(QObject):
    """Accepts a dropped path on `widget` and hands it to `on_drop` (which says what it is)."""

    def __init__(self, widget: QWidget, on_drop: Callable[[str], object]) -> None:
        super().__init__(widget)
        self._on_drop = on_drop
        widget.setAcceptDrops(True)
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind not in (QEvent.Type.DragEnter, QEvent.Type.DragMove, QEvent.Type.Drop):
            return False
        if not isinstance(event, QDropEvent):  # (drag enter and move events are drop events too)
            return False
        path = dropped_path(event)
        if path is None:
            return False
        event.acceptProposedAction()
        if kind == QEvent.Type.Drop:
            self._on_drop(path)
        return True
