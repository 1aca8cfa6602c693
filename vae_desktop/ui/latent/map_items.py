"""Pieces the latent map draws with: class colours, the hover thumbnail, and in-place point updates."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPixmapItem

from vae_desktop.ui.qimage import to_qimage
from vae_desktop.ui.theme import current_theme

# Tableau 10: distinct on a dark background and readable for the common colour-vision deficiencies.
CLASS_COLOURS = [
    (78, 121, 167), (242, 142, 43), (225, 87, 89), (118, 183, 178), (89, 161, 79),
    (237, 201, 72), (176, 122, 161), (255, 157, 167), (156, 117, 95), (186, 176, 172),
]


def class_colour(label: int) -> tuple[int, int, int]:
    return CLASS_COLOURS[label % len(CLASS_COLOURS)]


class HoverThumbnail(QGraphicsPixmapItem):
    """A test image and its class drawn beside the hovered point, at a fixed size on screen."""

    SCALE = 3

    def __init__(self) -> None:
        super().__init__()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.setZValue(30)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.hide()

    def show_image(
        self, image: np.ndarray, caption: str, colour: tuple[int, int, int], at: QPointF, room: QRectF, scene_at: QPointF
    ) -> None:
        """Show the thumbnail beside the point `at` (map units), which is drawn at `scene_at`.

        It goes up and to the right of the point, or to the left and below where that would leave
        `room` (the visible map, in scene pixels), so it is never cut by the edge of the map.
        """
        picture = to_qimage(image)
        w, h = picture.width() * self.SCALE, picture.height() * self.SCALE
        theme = current_theme()
        pixmap = QPixmap(w + 8, h + 26)
        pixmap.fill(QColor(theme.tooltip_base))
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        painter.drawImage(QRectF(4, 4, w, h), picture)
        painter.setPen(QPen(QColor(*colour), 2))
        painter.drawRect(1, 1, w + 6, h + 24)
        painter.setPen(QColor(theme.tooltip_text))
        font = QFont(painter.font())
        font.setPointSizeF(8.5)
        painter.setFont(font)
        painter.drawText(QRectF(4, h + 5, w, 18), Qt.AlignmentFlag.AlignCenter, caption)
        painter.end()
        self.setPixmap(pixmap)
        width, height = pixmap.width(), pixmap.height()
        dx = 12 if scene_at.x() + 12 + width <= room.right() else -12 - width  # screen pixels
        dy = -height - 12 if scene_at.y() - 12 - height >= room.top() else 12
        self.setOffset(dx, dy)
        self.setPos(at)
        self.show()


def same_points(item: pg.PlotDataItem, points: np.ndarray | None) -> bool:
    """Whether `item` already shows exactly `points` ((N, 2) map coordinates; None means nothing)."""
    x, y = item.getData()
    shown = 0 if x is None else len(x)
    if points is None or len(points) == 0:
        return shown == 0
    return shown == len(points) and np.array_equal(x, points[:, 0]) and np.array_equal(y, points[:, 1])


def move_points(item: pg.ScatterPlotItem, x: np.ndarray, y: np.ndarray) -> None:
    """Show the item's points at new positions, keeping each point's cached symbol when the count is unchanged.

    `setData` clears and re-adds every point, and pyqtgraph then looks each new point's symbol up in
    its atlas one by one in Python: for 10,000 points that is most of a map refresh on the GUI thread.
    While training, a refresh moves the same test images, so writing the positions into the item's
    point table and invalidating its bounds (what `addPoints` ends with) is enough.
    """
    data = getattr(item, "data", None)
    names = getattr(getattr(data, "dtype", None), "names", None) or ()
    if len(x) == 0 or data is None or len(data) != len(x) or not {"x", "y", "sourceRect"} <= set(names):
        item.setData(x=x, y=y)
        return
    data["x"] = x
    data["y"] = y
    item.prepareGeometryChange()
    item.informViewBoundsChanged()
    item.bounds = [None, None]
    item.invalidate()
    item.sigPlotChanged.emit(item)
