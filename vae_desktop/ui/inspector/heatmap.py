"""The inspector's heat map of per-dimension KL over the finished epochs (one row per epoch)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QWidget

from vae_desktop.ui.inspector.charts import Chart, label_every_index
from vae_desktop.ui.theme import Theme, on_theme


class EpochAxis(pg.AxisItem):
    """Left axis of the heat map: row i is labelled with the epoch number it holds."""

    def __init__(self) -> None:
        super().__init__("left")
        self.enableAutoSIPrefix(False)  # one epoch spans -0.5..0.5, which read "epoch (x0.001)"
        self.epochs: list[int] = []

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        labels = []
        for value in values:
            row = int(round(value))
            ok = abs(value - row) < 1e-6 and 0 <= row < len(self.epochs)
            labels.append(str(self.epochs[row]) if ok else "")
        return labels


class KlHeatmap(Chart):
    """Per-dimension test KL, one row per finished epoch (epoch 1 at the top), one column per dimension."""

    HINT = "Hover over a cell to read its epoch, dimension and KL."
    ACCESSIBLE_NAME = "KL per dimension over the epochs"
    DESCRIPTION = "Heat map of the mean test KL per latent dimension (columns) after each epoch (rows)."

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, parent)
        self.epoch_axis = EpochAxis()
        self.plot.getPlotItem().setAxisItems({"left": self.epoch_axis})
        self.plot.setFixedHeight(240)
        item = self.plot.getPlotItem()
        item.showGrid(x=False, y=False)
        item.setLabel("bottom", "latent dimension")
        item.setLabel("left", "epoch")
        item.invertY(True)
        self.plot.setMouseEnabled(x=True, y=True)
        self.image = pg.ImageItem(axisOrder="row-major")
        item.addItem(self.image)
        self.color_bar = pg.ColorBarItem(
            values=(0.0, 1.0), colorMap=pg.colormap.get("viridis"), interactive=False, width=14
        )
        self.color_bar.setImageItem(self.image, insert_in=item)
        self.color_bar.axis.enableAutoSIPrefix(False)
        self.color_bar.axis.setLabel("KL (nats)")
        on_theme(self, self._apply_theme)
        self._matrix = np.zeros((0, 0))
        self._epochs: list[int] = []

    def _apply_theme(self, theme: Theme) -> None:
        for axis in (self.epoch_axis, self.color_bar.axis):
            axis.setPen(pg.mkPen(theme.text))
            axis.setTextPen(pg.mkPen(theme.text))  # the axis label takes its colour from the text pen

    def set_rows(self, matrix: np.ndarray, epochs: list[int]) -> None:
        self._matrix = np.asarray(matrix, dtype=np.float64)
        self._epochs = list(epochs)
        self.epoch_axis.epochs = self._epochs
        rows = len(self._epochs)
        if rows == 0:
            self.image.clear()
            return
        z_dim = self._matrix.shape[1]
        top = max(float(np.nanmax(self._matrix)), 0.05)
        self.color_bar.setLevels((0.0, top))
        self.image.setImage(self._matrix, autoLevels=False, levels=(0.0, top))
        self.image.setRect(QRectF(-0.5, -0.5, z_dim, rows))
        view = self.plot.getPlotItem().getViewBox()
        view.setLimits(xMin=-0.5, xMax=z_dim - 0.5, yMin=-0.5, yMax=rows - 0.5)
        self.plot.setXRange(-0.5, z_dim - 0.5, padding=0)
        self.plot.setYRange(-0.5, rows - 0.5, padding=0)
        label_every_index(self.plot, z_dim)
        self.epoch_axis.setTicks(None if rows > 12 else [[(i, str(e)) for i, e in enumerate(self._epochs)]])

    def shown_matrix(self) -> np.ndarray:
        """The image data as drawn: (epochs, z_dim)."""
        data = self.image.image
        return np.zeros((0, 0)) if data is None else np.asarray(data)

    def describe(self, x: float, y: float) -> str | None:
        if not self._epochs:
            return None
        row, d = int(round(y)), int(round(x))
        if not (0 <= row < len(self._epochs) and 0 <= d < self._matrix.shape[1]):
            return None
        return f"epoch {self._epochs[row]}, dimension {d}: mean test KL {self._matrix[row, d]:.4f} nats"
