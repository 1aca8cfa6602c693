"""Dropping a run folder on the window follows it (a dropped checkpoint file opens as File ▸ Open does).

The window's drag and drop handlers call these (Qt delivers drop events only to the widget's own
handlers, after its drag manager has accepted the drag: an event filter never sees them in tests)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QDropEvent


def dropped_path(event: QDropEvent) -> str | None:
    """The one local path dropped, or None (several items, or not a file)."""
    urls = event.mimeData().urls()
    if len(urls) != 1 or not urls[0].isLocalFile():
        return None
    return urls[0].toLocalFile()


def accept_drag(event: QDropEvent) -> None:
    """Drag enter and move: accept one local path (what it is, is said when it is dropped)."""
    if dropped_path(event) is not None:
        event.acceptProposedAction()


def handle_drop(event: QDropEvent, on_drop: Callable[[str], object] | None) -> None:
    path = dropped_path(event)
    if path is not None and on_drop is not None:
        event.acceptProposedAction()
        on_drop(path)
