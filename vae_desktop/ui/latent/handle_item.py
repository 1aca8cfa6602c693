"""A draggable handle on the latent map: pyqtgraph's TargetItem with a name, a selected look and a menu."""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QPoint, Qt, Signal

from vae_desktop.ui.theme import Theme, current_theme


class HandleItem(pg.TargetItem):
    """Emits sigPositionChanged while dragged (from TargetItem), plus clicks, drag starts and menu requests."""

    sigClicked = Signal(object)  # self
    sigDragStarted = Signal(object)  # self
    sigMenuRequested = Signal(object, object)  # self, QPoint (global screen position)

    def __init__(self, name: str) -> None:
        theme = current_theme()
        super().__init__(size=20, symbol="crosshair", pen=theme.handle, brush=theme.handle_fill)
        self.name = name
        self.setZValue(20)
        self.setLabel(name, {"color": theme.handle, "offset": (11, -11), "anchor": (0, 1)})
        self._selected = False
        self._on_plane = True
        self._theme = theme
        self.apply_theme(theme)

    def set_state(self, selected: bool, on_plane: bool) -> None:
        """Selected handles are drawn in amber; handles off the map plane are drawn dashed."""
        if (selected, on_plane) == (self._selected, self._on_plane):
            return
        self._selected, self._on_plane = selected, on_plane
        self._restyle()

    def apply_theme(self, theme: Theme) -> None:
        """Light theme: dark outline on a pale fill; dark theme: the reverse. Both read over the manifold."""
        self._theme = theme
        self.setBrush(pg.mkBrush(theme.handle_fill))
        self.setHoverBrush(pg.mkBrush(theme.handle_selected + "46"))
        label = self.label()
        if label is not None:
            label.fill = pg.mkBrush(theme.handle_label_fill)
        self._restyle()

    def _restyle(self) -> None:
        colour = self._theme.handle_selected if self._selected else self._theme.handle
        style = Qt.PenStyle.SolidLine if self._on_plane else Qt.PenStyle.DashLine
        self.setPen(pg.mkPen(colour, width=3 if self._selected else 2, style=style))
        self.setHoverPen(pg.mkPen(colour, width=3, style=style))
        label = self.label()
        if label is not None:
            label.setColor(colour)

    def mouseDragEvent(self, ev: Any) -> None:  # pyqtgraph MouseDragEvent
        if ev.isStart() and ev.button() == Qt.MouseButton.LeftButton:
            self.sigDragStarted.emit(self)
        super().mouseDragEvent(ev)

    def mouseClickEvent(self, ev: Any) -> None:  # pyqtgraph MouseClickEvent
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            self.sigClicked.emit(self)
        elif ev.button() == Qt.MouseButton.RightButton and not self.moving:
            ev.accept()
            screen = ev.screenPos()
            self.sigMenuRequested.emit(self, QPoint(int(screen.x()), int(screen.y())))
        else:
            super().mouseClickEvent(ev)
