"""Real mouse input for graphics views in tests and benchmarks.

`QTest.mouseMove` cannot hold a button down, so a drag is sent as raw events: press, moves that
carry the pressed button in `buttons`, release (the approach of pyqtgraph's tests/ui_testing.py).
pyqtgraph ignores move events that arrive within 10 ms of the previous one (`mouseRateLimit`), so
callers space their moves at least that far apart.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QWidget

NO_BUTTON = Qt.MouseButton.NoButton
NO_MODIFIER = Qt.KeyboardModifier.NoModifier


def _send(
    widget: QWidget,
    kind: QEvent.Type,
    pos: QPoint,
    button: Qt.MouseButton,
    buttons: Qt.MouseButton,
    modifiers: Qt.KeyboardModifier = NO_MODIFIER,
) -> None:
    local = QPointF(pos)
    event = QMouseEvent(kind, local, QPointF(widget.mapToGlobal(pos)), button, buttons, modifiers)
    QApplication.sendEvent(widget, event)


def mouse_move(widget: QWidget, pos: QPoint, buttons: Qt.MouseButton = NO_BUTTON) -> None:
    _send(widget, QEvent.Type.MouseMove, pos, NO_BUTTON, buttons)


def mouse_press(widget: QWidget, pos: QPoint, button: Qt.MouseButton = Qt.MouseButton.LeftButton) -> None:
    _send(widget, QEvent.Type.MouseButtonPress, pos, button, button)


def mouse_release(widget: QWidget, pos: QPoint, button: Qt.MouseButton = Qt.MouseButton.LeftButton) -> None:
    _send(widget, QEvent.Type.MouseButtonRelease, pos, button, NO_BUTTON)


def mouse_click(widget: QWidget, pos: QPoint, button: Qt.MouseButton = Qt.MouseButton.LeftButton) -> None:
    mouse_move(widget, pos)
    mouse_press(widget, pos, button)
    mouse_release(widget, pos, button)


def mouse_double_click(widget: QWidget, pos: QPoint) -> None:
    left = Qt.MouseButton.LeftButton
    mouse_move(widget, pos)
    mouse_press(widget, pos, left)
    mouse_release(widget, pos, left)
    _send(widget, QEvent.Type.MouseButtonDblClick, pos, left, left)
    mouse_release(widget, pos, left)


def drag_path(start: QPoint, end: QPoint, steps: int) -> list[QPoint]:
    """Intermediate points of a straight drag, end included."""
    return [
        QPoint(round(start.x() + (end.x() - start.x()) * i / steps), round(start.y() + (end.y() - start.y()) * i / steps))
        for i in range(1, steps + 1)
    ]
