"""The latent map's test points: one scatter item per class (each with its legend entry, the first
`MAX_LEGEND_ENTRIES` named), moved in place as training moves the points, and the point under the
pointer picked among the visible classes.

Apart from `LatentMapView` because the per-class items, their legend and picking are one data
structure with its own rules; the view adds hover thumbnails, handles and overlays around it.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF

from vae_desktop.core.latent import nearest_point
from vae_desktop.ui.latent.map_items import class_colour, move_points

MAX_LEGEND_ENTRIES = 12
PICK_RADIUS_PX = 6


class ClassScatter:
    """Points (`uv`, `labels`) drawn on `plot`, named in `legend`."""

    def __init__(self, plot: pg.PlotItem, legend: pg.LegendItem) -> None:
        self._plot, self._legend = plot, legend
        self._items: list[pg.ScatterPlotItem] = []
        self._item_names: list[str] = []
        self.uv = np.zeros((0, 2))
        self.labels = np.zeros(0, np.int64)

    @property
    def items(self) -> tuple[pg.ScatterPlotItem, ...]:
        """One scatter item per class, in label order."""
        return tuple(self._items)

    def set_points(self, uv: np.ndarray, labels: np.ndarray, class_names: list[str]) -> None:
        """Draw points coloured by label; one item per class keeps updates and the legend cheap."""
        self.uv = np.asarray(uv, dtype=np.float64)
        self.labels = np.asarray(labels, dtype=np.int64)
        count = max(len(class_names), int(self.labels.max(initial=-1)) + 1)
        if len(self._items) != count:
            self._rebuild(count, class_names)
        for label, item in enumerate(self._items):
            mask = self.labels == label
            move_points(item, self.uv[mask, 0], self.uv[mask, 1])

    def set_classes(self, class_names: list[str]) -> None:
        """One (still empty) item and legend entry per class, unless these classes have them already."""
        if list(class_names) != self._item_names:
            self._rebuild(len(class_names), class_names)

    def clear(self) -> None:
        """No points; the class items and the legend stay for the next points."""
        self.uv = np.zeros((0, 2))
        self.labels = np.zeros(0, np.int64)
        for item in self._items:
            item.clear()

    def pick(self, view_box: pg.ViewBox, scene_pos: QPointF) -> int | None:
        """The position of the visible point within PICK_RADIUS_PX of `scene_pos`, if any."""
        if len(self.uv) == 0 or not view_box.sceneBoundingRect().contains(scene_pos):
            return None
        target = view_box.mapSceneToView(scene_pos)
        hidden = [label for label, item in enumerate(self._items) if not item.isVisible()]
        candidates = np.flatnonzero(~np.isin(self.labels, hidden)) if hidden else None
        points = self.uv if candidates is None else self.uv[candidates]
        found = nearest_point(points, np.array([target.x(), target.y()]), view_box.viewPixelSize(), PICK_RADIUS_PX)
        if found is None:
            return None
        return int(found if candidates is None else candidates[found])

    def _rebuild(self, count: int, class_names: list[str]) -> None:
        for item in self._items:
            self._plot.removeItem(item)
        self._legend.clear()
        self._items = []
        self._item_names = list(class_names[:count])
        for label in range(count):
            r, g, b = class_colour(label)
            name = class_names[label] if label < len(class_names) else f"class {label}"
            item = pg.ScatterPlotItem(size=5, pen=None, brush=pg.mkBrush(r, g, b, 190), symbol="o")
            item.setZValue(0)
            self._plot.addItem(item)
            if label < MAX_LEGEND_ENTRIES:
                self._legend.addItem(item, name)
            self._items.append(item)
        if count > MAX_LEGEND_ENTRIES:
            self._legend.addItem(pg.PlotDataItem(pen=None), f"… {count - MAX_LEGEND_ENTRIES} more classes")
