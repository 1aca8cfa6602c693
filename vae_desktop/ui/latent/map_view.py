"""The latent map itself: manifold mosaic, class-coloured scatter, handles, posterior ellipse, path.

It only draws what it is given and reports what the user does (drags, clicks, keys, drops) as
signals in map coordinates; `LatentPanel` decides what those mean in latent space. The points
themselves (per-class items, legend, picking) are `ClassScatter`'s (class_scatter.py).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QKeyEvent
from PySide6.QtWidgets import QGraphicsItem, QWidget

from vae_desktop.ui.latent.class_scatter import ClassScatter
from vae_desktop.ui.latent.handle_item import HandleItem
from vae_desktop.ui.latent.map_items import HoverThumbnail, class_colour, same_points
from vae_desktop.ui.theme import Theme, current_theme, on_theme

MANIFOLD_OPACITY = 0.7


class LatentMapView(pg.PlotWidget):
    handleDragged = Signal(str, float, float)  # name, u, v (during the drag, on every move)
    handleDragStarted = Signal(str)
    handleClicked = Signal(str)
    handleMenuRequested = Signal(str, QPoint)
    addHandleRequested = Signal(float, float)  # double click on empty map
    mapMenuRequested = Signal(float, float, QPoint)  # right click on empty map: u, v, screen position
    pointClicked = Signal(int)  # position in the arrays given to set_scatter
    deleteRequested = Signal()
    nudgeRequested = Signal(float, float)  # map units
    viewChanged = Signal()
    filesDropped = Signal(list)  # local file paths

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, background=current_theme().map_background)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAcceptDrops(True)
        self.setMinimumSize(320, 280)
        self.setAccessibleName("Latent map")
        self.setAccessibleDescription(
            "The encoded test set as points coloured by class, over a grid of decoded images, with draggable "
            "handles. Arrow keys move the selected handle, Delete removes it."
        )
        self.setStatusTip(  # not a tooltip: it would cover the hover thumbnails
            "Hover a point to see its image, click it to inspect it; double-click to add a handle; "
            "drag handles (or use the arrow keys) to decode; right-click for more."
        )
        plot = self.getPlotItem()
        plot.setAspectLocked(True)
        plot.showGrid(x=True, y=True, alpha=0.25)
        plot.hideButtons()
        plot.setMenuEnabled(False)  # our own menus; the view's menu would offer irrelevant plot options
        for side in ("left", "bottom"):
            axis = plot.getAxis(side)
            axis.enableAutoSIPrefix(False)  # "z0 (x0.001)" would hide the latent values themselves
            # Cache the drawn axis: replaying its tick labels costs several ms per frame, and a drag
            # that repaints the whole view would pay it on every mouse move for unchanged axes.
            axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self._vb = plot.getViewBox()

        self._manifold = pg.ImageItem(axisOrder="row-major")
        self._manifold_range: tuple[tuple[float, float], tuple[float, float]] | None = None
        self._manifold.setZValue(-10)
        self._manifold.setOpacity(MANIFOLD_OPACITY)
        plot.addItem(self._manifold, ignoreBounds=True)
        self._legend = plot.addLegend(offset=(-8, 8))
        self._scatter = ClassScatter(plot, self._legend)

        self._ellipse = pg.PlotDataItem()
        self._ellipse_centre = pg.ScatterPlotItem(size=9, symbol="o", brush=None)
        self._path = pg.PlotDataItem(symbol="o", symbolSize=6, symbolPen=None)
        for item in (self._ellipse, self._ellipse_centre, self._path):
            item.setZValue(10)
            plot.addItem(item, ignoreBounds=True)
        self._hover = HoverThumbnail()
        self._vb.addItem(self._hover, ignoreBounds=True)
        self._hover_source: Callable[[int], tuple[np.ndarray, str, int]] | None = None
        self._hovered: int | None = None
        self._pointer: QPointF | None = None  # the last pointer position over the map (scene pixels)

        self._handles: dict[str, HandleItem] = {}
        self._placing = False
        self._dragging = False  # no hover picking while a handle is dragged: every millisecond goes to decoding

        scene = self.scene()
        scene.sigMouseMoved.connect(self._on_mouse_moved)
        scene.sigMouseClicked.connect(self._on_mouse_clicked)
        self._vb.sigRangeChanged.connect(lambda *_: self.viewChanged.emit())
        self._axis_labels = ("", "")
        self._theme = on_theme(self, self.apply_theme)

    def apply_theme(self, theme: Theme) -> None:
        """Background, axes, legend, overlays and handles in the theme's colours (live on a switch)."""
        self._theme = theme
        self.setBackground(theme.map_background)
        plot = self.getPlotItem()
        for side in ("left", "bottom"):
            axis = plot.getAxis(side)
            axis.setTextPen(pg.mkPen(theme.map_axis_text))
            axis.setPen(pg.mkPen(theme.map_axis_line))
            axis.update()  # its drawing is cached (see above)
        self._draw_axis_labels()
        self._legend.setBrush(pg.mkBrush(theme.map_legend_background))
        self._legend.setPen(pg.mkPen(theme.map_legend_border))
        self._legend.setLabelTextColor(pg.mkColor(theme.map_axis_text))
        for _sample, label in self._legend.items:  # existing labels keep their colour until redrawn
            label.setText(label.text, color=theme.map_axis_text)
        self._ellipse.setPen(pg.mkPen(theme.ellipse, width=2, style=Qt.PenStyle.DashLine))
        self._ellipse_centre.setPen(pg.mkPen(theme.ellipse, width=2))
        path = pg.mkColor(theme.path)
        path.setAlpha(210)
        self._path.setPen(pg.mkPen(path, width=2))
        self._path.setSymbolBrush(pg.mkBrush(theme.path))
        for item in self._handles.values():
            item.apply_theme(theme)

    # ---- scatter -------------------------------------------------------------------------------
    def set_scatter(self, uv: np.ndarray, labels: np.ndarray, class_names: list[str]) -> None:
        """Draw points coloured by label; one item per class keeps updates and the legend cheap."""
        self._scatter.set_points(uv, labels, class_names)
        # The points moved (training): the thumbnail belongs to whatever is under the pointer now,
        # not to the point that was there, and not at that point's old place.
        self._hovered = None
        self._hover.hide()
        if self._pointer is not None:
            self._on_mouse_moved(self._pointer)

    def set_classes(self, class_names: list[str]) -> None:
        """One (still empty) scatter item and legend entry per class, made before the points arrive.

        Making them costs the GUI thread a few ms, which would otherwise add to the first map refresh,
        the longest thing the GUI thread does while training starts.
        """
        self._scatter.set_classes(class_names)

    def clear_scatter(self) -> None:
        """No points; the class items and the legend stay for the next points (`set_classes` replaces them)."""
        self._scatter.clear()
        self._hover.hide()

    def set_hover_source(self, source: Callable[[int], tuple[np.ndarray, str, int]] | None) -> None:
        """`source(position)` gives (image, caption, label) of a scatter point for the hover thumbnail."""
        self._hover_source = source

    def scatter_positions(self) -> np.ndarray:
        return self._scatter.uv

    def point_to_widget(self, u: float, v: float) -> QPoint:
        """Where a map point is in viewport pixels (tests and benchmarks aim the mouse with this)."""
        scene_point = self._vb.mapViewToScene(QPointF(u, v))
        return self.mapFromScene(scene_point)

    # ---- manifold, grid, overlays ----------------------------------------------------------------
    def set_manifold(self, image: np.ndarray | None, u_range: tuple[float, float], v_range: tuple[float, float]) -> None:
        """Show a decoded mosaic (top row first) stretched over the given map rectangle."""
        if image is None:
            self._manifold.clear()
            return
        # Row 0 of the image item is drawn at the lowest v, so flip to keep the top row at the top.
        self._manifold.setImage(image[::-1], autoLevels=False, levels=(0.0, 1.0))
        self._manifold.setRect(QRectF(u_range[0], v_range[0], u_range[1] - u_range[0], v_range[1] - v_range[0]))
        self._manifold_range = ((float(u_range[0]), float(u_range[1])), (float(v_range[0]), float(v_range[1])))

    def manifold_range(self) -> tuple[tuple[float, float], tuple[float, float]] | None:
        """The map rectangle (u range, v range) the shown mosaic covers, or None before the first."""
        return self._manifold_range

    def manifold_visible(self) -> bool:
        return bool(self._manifold.isVisible())

    def legend_names(self) -> list[str]:
        """The legend's entries as the user reads them."""
        return [label.text for _, label in self._legend.items]

    @property
    def class_items(self) -> tuple[pg.ScatterPlotItem, ...]:
        """One scatter item per class, in label order (moved in place when the point count per class stays)."""
        return self._scatter.items

    def manifold_image(self) -> np.ndarray | None:
        """The mosaic as the user sees it (top row first), or None when none is shown."""
        image = self._manifold.image
        return None if image is None else image[::-1]

    def set_manifold_visible(self, visible: bool) -> None:
        self._manifold.setVisible(visible)

    def set_grid_visible(self, visible: bool) -> None:
        self.getPlotItem().showGrid(x=visible, y=visible, alpha=0.25)

    def set_axis_labels(self, u: str, v: str) -> None:
        if (u, v) == self._axis_labels:
            return  # a new label throws away both axes' cached drawings (several ms each to redo)
        self._axis_labels = (u, v)
        self._draw_axis_labels()

    def _draw_axis_labels(self) -> None:
        u, v = self._axis_labels
        self.getPlotItem().setLabel("bottom", u, color=self._theme.map_axis_text)
        self.getPlotItem().setLabel("left", v, color=self._theme.map_axis_text)

    def set_ellipse(self, outline: np.ndarray | None, centre: np.ndarray | None = None) -> None:
        if same_points(self._ellipse, outline) and same_points(
            self._ellipse_centre, None if centre is None else np.asarray(centre, dtype=np.float64).reshape(1, 2)
        ):
            return  # unchanged (e.g. fresh weights, same inspected posterior): a repaint of 10k points saved
        if outline is None:
            self._ellipse.setData([], [])
            self._ellipse_centre.setData([], [])
            return
        self._ellipse.setData(outline[:, 0], outline[:, 1])
        if centre is not None:
            self._ellipse_centre.setData([centre[0]], [centre[1]])

    def ellipse_outline(self) -> np.ndarray:
        x, y = self._ellipse.getData()
        return np.zeros((0, 2)) if x is None else np.stack([x, y], axis=1)

    def set_path(self, points: np.ndarray | None) -> None:
        if same_points(self._path, points):
            return  # the path depends on the handles and the plane, not on the weights: no repaint
        if points is None:
            self._path.setData([], [])
        else:
            self._path.setData(points[:, 0], points[:, 1])

    def visible_range(self) -> tuple[tuple[float, float], tuple[float, float]]:
        (u0, u1), (v0, v1) = self._vb.viewRange()
        return (float(u0), float(u1)), (float(v0), float(v1))

    def set_visible_range(self, u_range: tuple[float, float], v_range: tuple[float, float]) -> None:
        self._vb.setRange(xRange=u_range, yRange=v_range, padding=0)

    # ---- handles -------------------------------------------------------------------------------
    def sync_handles(self, handles: list[tuple[str, np.ndarray, bool, bool]]) -> None:
        """Make the drawn handles match (name, (u, v), selected, on_plane) rows: add, move, restyle, remove."""
        wanted = {name for name, *_ in handles}
        for name in list(self._handles):
            if name not in wanted:
                item = self._handles.pop(name)
                self.getPlotItem().removeItem(item)
                label = item.label()
                if label is not None and label.scene() is not None:
                    label.scene().removeItem(label)
        for name, uv, selected, on_plane in handles:
            found = self._handles.get(name)
            if found is None:
                item = HandleItem(name)
                item.sigPositionChanged.connect(self._on_handle_moved)
                item.sigClicked.connect(lambda it: self.handleClicked.emit(it.name))
                item.sigDragStarted.connect(self._on_drag_started)
                item.sigPositionChangeFinished.connect(self._on_drag_finished)
                item.sigMenuRequested.connect(lambda it, at: self.handleMenuRequested.emit(it.name, at))
                self.getPlotItem().addItem(item, ignoreBounds=True)
                self._handles[name] = item
            else:
                item = found
            self.place_handle(name, float(uv[0]), float(uv[1]))
            item.set_state(selected, on_plane)

    def place_handle(self, name: str, u: float, v: float) -> None:
        """Move a handle without reporting it as a user drag."""
        self._placing = True
        try:
            self._handles[name].setPos(u, v)
        finally:
            self._placing = False

    def handle_item(self, name: str) -> HandleItem:
        return self._handles[name]

    def _on_drag_started(self, item: HandleItem) -> None:
        self._dragging = True
        self._hovered = None
        self._hover.hide()
        self.handleDragStarted.emit(item.name)

    def _on_drag_finished(self, _item: HandleItem) -> None:
        self._dragging = False

    def _on_handle_moved(self, item: HandleItem) -> None:
        if self._placing:
            return
        pos = item.pos()
        self.handleDragged.emit(item.name, float(pos.x()), float(pos.y()))

    # ---- mouse, keys, drops ------------------------------------------------------------------------
    def _pick(self, scene_pos: QPointF) -> int | None:
        return self._scatter.pick(self._vb, scene_pos)

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        self._pointer = QPointF(scene_pos)
        if self._dragging:
            return
        source = self._hover_source
        picked = self._pick(scene_pos) if source is not None else None
        if picked == self._hovered:
            return
        self._hovered = picked
        if picked is None:
            self._hover.hide()
            return
        assert source is not None
        image, caption, label = source(picked)
        at = QPointF(*self._scatter.uv[picked])
        self._hover.show_image(
            image, caption, class_colour(label), at, self._vb.sceneBoundingRect(), self._vb.mapViewToScene(at)
        )

    def hover_thumbnail(self) -> HoverThumbnail:
        return self._hover

    def leaveEvent(self, event: QEvent) -> None:
        """The pointer left the map: no thumbnail may stay behind (the scene reports no move for that)."""
        super().leaveEvent(event)
        self._pointer = None
        self._hovered = None
        self._hover.hide()

    def _on_mouse_clicked(self, ev: Any) -> None:  # pyqtgraph MouseClickEvent
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        if ev.isAccepted() and isinstance(ev.currentItem, HandleItem):
            return
        if not self._vb.sceneBoundingRect().contains(ev.scenePos()):
            return
        if ev.button() == Qt.MouseButton.RightButton:
            point = self._vb.mapSceneToView(ev.scenePos())
            screen = ev.screenPos()
            self.mapMenuRequested.emit(float(point.x()), float(point.y()), QPoint(int(screen.x()), int(screen.y())))
            return
        if ev.button() != Qt.MouseButton.LeftButton:
            return
        if ev.double():
            point = self._vb.mapSceneToView(ev.scenePos())
            self.addHandleRequested.emit(float(point.x()), float(point.y()))
            return
        picked = self._pick(ev.scenePos())
        if picked is not None:
            self.pointClicked.emit(picked)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.deleteRequested.emit()
            return
        steps: dict[int, tuple[int, int]] = {Qt.Key.Key_Left: (-1, 0), Qt.Key.Key_Right: (1, 0), Qt.Key.Key_Up: (0, 1), Qt.Key.Key_Down: (0, -1)}
        if key in steps:
            (u0, u1), (v0, v1) = self.visible_range()
            fraction = 0.1 if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else 0.02
            du, dv = steps[key]
            self.nudgeRequested.emit(du * fraction * (u1 - u0), dv * fraction * (v1 - v0))
            return
        super().keyPressEvent(event)

    def dragEnterEvent(self, event: QDragEnterEvent | QDragMoveEvent) -> None:
        if event.mimeData().hasUrls() and any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        self.dragEnterEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        paths = [p for p in paths if Path(p).is_file()]
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        self.filesDropped.emit(paths)
