"""The inspector's per-dimension charts: raw outputs, the exp step, the sample and KL (over epochs: `heatmap`).

Each chart owns one pyqtgraph plot and a one-line readout under it that names the value under the
mouse, so a learner can read any bar exactly even when z_dim is large and the bars are thin.
Charts with one entry per dimension zoom and pan along x (mouse wheel / drag) and label every
index while there are few enough to read.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from vae_desktop.core.inspection import DimensionActivity
from vae_desktop.ui.inspector import style
from vae_desktop.ui.inspector.roles import OutputRoles
from vae_desktop.ui.theme import Theme, on_theme

MAX_LABELLED_TICKS = 20  # beyond this, let pyqtgraph choose the tick spacing


def label_every_index(plot: pg.PlotWidget, count: int, names: list[str] | None = None) -> None:
    axis = plot.getPlotItem().getAxis("bottom")
    if count <= MAX_LABELLED_TICKS:
        labels = names if names is not None else [str(i) for i in range(count)]
        axis.setTicks([[(i, labels[i]) for i in range(count)]])
    else:
        axis.setTicks(None)


def _fit_x(plot: pg.PlotWidget, count: int) -> None:
    """Show indices 0..count-1 and keep zooming and panning inside them."""
    view = plot.getPlotItem().getViewBox()
    view.setLimits(xMin=-1.0, xMax=count, minXRange=min(4.0, count + 1.0))
    plot.setXRange(-0.6, count - 0.4, padding=0)


def _fit_y(plot: pg.PlotWidget, low: float, high: float, margin: float = 0.08) -> None:
    low, high = min(low, 0.0), max(high, 0.0)
    span = max(high - low, 1e-3)
    plot.setYRange(low - margin * span, high + margin * span, padding=0)


class Chart(QWidget):
    """A plot plus a readout line that describes the point under the mouse."""

    HINT = "Hover over the chart to read exact values."
    ACCESSIBLE_NAME = "Chart"  # what a screen reader announces; each chart names itself
    DESCRIPTION = ""

    def __init__(self, height: int, parent: QWidget | None = None, *, zoom_x: bool = True) -> None:
        super().__init__(parent)
        self.plot = style.make_plot(self, height, zoom_x=zoom_x)
        self.plot.setAccessibleName(self.ACCESSIBLE_NAME)
        self.plot.setAccessibleDescription(self.DESCRIPTION)
        self.plot.setStatusTip(f"{self.ACCESSIBLE_NAME}: {self.HINT[0].lower()}{self.HINT[1:]}")
        self.readout = QLabel(self.HINT, self)
        self.readout.setObjectName("chartReadout")
        on_theme(self.readout, lambda t: self.readout.setStyleSheet(f"color: {t.muted_text}; font-size: 11px;"))
        self.readout.setTextFormat(Qt.TextFormat.RichText)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.plot)
        layout.addWidget(self.readout)
        self.plot.scene().sigMouseMoved.connect(self._on_mouse_moved)

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        view = self.plot.getPlotItem().getViewBox()
        if not view.sceneBoundingRect().contains(scene_pos):
            return
        point = view.mapSceneToView(scene_pos)
        text = self.describe(point.x(), point.y())
        self.readout.setText(text if text else self.HINT)

    def describe(self, x: float, y: float) -> str | None:
        """Rich text for the value at data coordinates (x, y), or None for none."""
        return None


def _index_at(x: float, count: int) -> int | None:
    index = int(round(x))
    return index if 0 <= index < count else None


class RawOutputChart(Chart):
    """All 2*z_dim encoder outputs as bars, in emission order: mean half blue, log-stddev half orange.

    Each half is titled with the code that gives it its role (`μ = out[:, :16]`), so the chart reads
    as the line `mean, log_std = out[:, :16], out[:, 16:]`.
    """

    ACCESSIBLE_NAME = "Encoder outputs"
    DESCRIPTION = "Bar chart of the encoder's 2·z_dim outputs: the first half is used as the mean, the second as log σ."

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(190, parent)
        item = self.plot.getPlotItem()
        item.setLabel("bottom", "encoder output index")
        item.setLabel("left", "value")
        self.mean_region = pg.LinearRegionItem(movable=False, brush=style.tint(style.MEAN, 28), pen=pg.mkPen(None))
        self.log_std_region = pg.LinearRegionItem(
            movable=False, brush=style.tint(style.LOG_STD, 32), pen=pg.mkPen(None)
        )
        for region in (self.mean_region, self.log_std_region):
            region.setZValue(-10)
            item.addItem(region)
        self.divider = pg.InfiniteLine(angle=90)
        style.themed_pen(self, self.divider, "plot_neutral", 1.5, Qt.PenStyle.DashLine)
        item.addItem(self.divider)
        zero = pg.InfiniteLine(pos=0, angle=0)
        style.themed_pen(self, zero, "plot_neutral", 1)
        item.addItem(zero)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.8)
        item.addItem(self.bars)
        self.mean_title = pg.TextItem("", anchor=(0.5, 0.0))
        self.log_std_title = pg.TextItem("", anchor=(0.5, 0.0))
        for title in (self.mean_title, self.log_std_title):
            font = title.textItem.font()
            font.setBold(True)
            title.setFont(font)
            item.addItem(title)
        self._raw = np.zeros(0)
        self._roles = OutputRoles(0)
        self._theme = on_theme(self, self._apply_theme)

    def _apply_theme(self, theme: Theme) -> None:
        self._theme = theme
        self._write_titles()

    def _write_titles(self) -> None:
        roles = self._roles
        background = self._theme.plot_background
        self.mean_title.setText(f"μ = out[:, {roles.mean_slice}]", color=style.ink(style.MEAN, background))
        self.log_std_title.setText(f"{roles.spread} = out[:, {roles.spread_slice}]",
                                   color=style.ink(style.LOG_STD, background))

    def half_titles(self) -> tuple[str, str]:
        """The code expressions written over the two halves."""
        return self.mean_title.toPlainText(), self.log_std_title.toPlainText()

    def set_encoding(self, raw: np.ndarray, roles: OutputRoles | None = None) -> None:
        """The encoder's 2*z_dim outputs; `roles` says which half is μ (default: the first, log σ second)."""
        raw = np.asarray(raw, dtype=np.float64)
        z_dim = len(raw) // 2
        self._raw = raw
        self._roles = roles if roles is not None and roles.z_dim == z_dim else OutputRoles(z_dim)
        self._write_titles()
        first, second = (style.MEAN, style.LOG_STD) if self._roles.mean_first else (style.LOG_STD, style.MEAN)
        brushes = [pg.mkBrush(first)] * z_dim + [pg.mkBrush(second)] * z_dim
        self.bars.setOpts(x=np.arange(2 * z_dim), height=raw, width=0.8, brushes=brushes, pen=pg.mkPen(None))
        mean_span, spread_span = (-0.5, z_dim - 0.5), (z_dim - 0.5, 2 * z_dim - 0.5)
        if not self._roles.mean_first:
            mean_span, spread_span = spread_span, mean_span
        self.mean_region.setRegion(mean_span)
        self.log_std_region.setRegion(spread_span)
        self.divider.setPos(z_dim - 0.5)
        label_every_index(self.plot, 2 * z_dim)
        _fit_x(self.plot, 2 * z_dim)
        low, high = float(min(raw.min(), 0.0)), float(max(raw.max(), 0.0))
        _fit_y(self.plot, low, high + 0.22 * max(high - low, 1e-3))  # head room for the half titles
        top = self.plot.getPlotItem().getViewBox().viewRange()[1][1]
        first_centre, second_centre = (z_dim - 1) / 2, z_dim + (z_dim - 1) / 2
        if not self._roles.mean_first:
            first_centre, second_centre = second_centre, first_centre
        self.mean_title.setPos(first_centre, top)
        self.log_std_title.setPos(second_centre, top)

    def values(self) -> np.ndarray:
        """The bar heights as drawn."""
        return np.asarray(self.bars.opts["height"], dtype=np.float64)

    def bar_colors(self) -> list[str]:
        """Each bar's fill colour as '#rrggbb', in bar order."""
        return [pg.mkBrush(b).color().name() for b in self.bars.opts["brushes"]]

    def describe(self, x: float, y: float) -> str | None:
        z_dim = len(self._raw) // 2
        i = _index_at(x, 2 * z_dim)
        if i is None:
            return None
        value = self._raw[i]
        role, d = self._roles.dimension_of(i)
        if role == "mean":
            return f"output {i} = {value:+.4f} → used as {style.swatch(style.MEAN, f'mean μ{d}')} of dimension {d}"
        roles = self._roles
        how = f"so σ{d} = {roles.transform}({value:+.3f}) = " if roles.stddev != "raw" else f"so σ{d} = "
        return (
            f"output {i} = {value:+.4f} → used as {style.swatch(style.LOG_STD, f'{roles.spread}{d}')} of dimension {d}, "
            f"{how}{roles.sigma_of(value):.4g}"
        )


class SampleChart(Chart):
    """Per dimension: the posterior mean, the band mean ± stddev, and the drawn z, over the prior's ±1 band."""

    ACCESSIBLE_NAME = "The sample z"
    DESCRIPTION = "Per latent dimension: the mean, the band mean ± σ and the drawn sample z, over the prior's ±1 band."

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(200, parent)
        item = self.plot.getPlotItem()
        item.setLabel("bottom", "latent dimension")
        item.setLabel("left", "z")
        self.prior_band = pg.LinearRegionItem(
            values=(-1.0, 1.0),
            orientation="horizontal",
            movable=False,
            brush=style.tint(style.PRIOR, 60),
            pen=pg.mkPen(None),
        )
        self.prior_band.setZValue(-10)
        item.addItem(self.prior_band)
        item.addItem(pg.InfiniteLine(pos=0, angle=0, pen=pg.mkPen(style.PRIOR, width=1)))
        self.spread = pg.ErrorBarItem(x=np.zeros(0), y=np.zeros(0), beam=0.3, pen=pg.mkPen(style.STD, width=2.5))
        self.means = pg.ScatterPlotItem(size=8, brush=pg.mkBrush(style.MEAN))
        style.themed_pen(self, self.means, "plot_marker_edge", 1)
        self.samples = pg.ScatterPlotItem(size=13, symbol="d", brush=pg.mkBrush(style.SAMPLE))
        style.themed_pen(self, self.samples, "plot_ink", 0.8)
        for element in (self.spread, self.samples, self.means):
            item.addItem(element)
        self._mean = self._std = self._eps = self._z = np.zeros(0)

    def set_values(self, mean: np.ndarray, std: np.ndarray, eps: np.ndarray, z: np.ndarray) -> None:
        self._mean, self._std, self._eps, self._z = (np.asarray(a, dtype=np.float64) for a in (mean, std, eps, z))
        dims = np.arange(len(self._mean), dtype=np.float64)
        beam = 0.3 if len(dims) <= 64 else 0.0
        self.spread.setData(x=dims, y=self._mean, top=self._std, bottom=self._std, beam=beam)
        self.means.setData(dims, self._mean, size=style.marker_size(len(dims), largest=8))
        self.samples.setData(dims, self._z, size=style.marker_size(len(dims), largest=13))
        label_every_index(self.plot, len(dims))
        _fit_x(self.plot, len(dims))
        low = float(min((self._mean - self._std).min(), self._z.min(), -1.0))
        high = float(max((self._mean + self._std).max(), self._z.max(), 1.0))
        _fit_y(self.plot, low, high)

    def sample_positions(self) -> np.ndarray:
        """The drawn z as plotted (y of each diamond)."""
        return np.asarray(self.samples.getData()[1], dtype=np.float64)

    def describe(self, x: float, y: float) -> str | None:
        d = _index_at(x, len(self._mean))
        if d is None:
            return None
        return (
            f"dimension {d}: {style.swatch(style.SAMPLE, f'z{d}')} = "
            f"{style.swatch(style.MEAN, f'{self._mean[d]:+.3f}')} + "
            f"{style.swatch(style.STD, f'{self._std[d]:.3g}')} × "
            f"{style.swatch(style.EPS, f'({self._eps[d]:+.3f})')} = {self._z[d]:+.4f}"
        )


class KlChart(Chart):
    """This image's KL per dimension as bars; test-set mean KL as ticks; collapsed dimensions in grey."""

    ACCESSIBLE_NAME = "KL per dimension"
    DESCRIPTION = "Bar chart of this image's KL divergence per latent dimension, with the test-set mean as ticks."

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(180, parent)
        item = self.plot.getPlotItem()
        item.setLabel("bottom", "latent dimension")
        item.setLabel("left", "KL (nats)")
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.7)
        self.test_mean = pg.ScatterPlotItem(size=20, symbol="_")
        style.themed_pen(self, self.test_mean, "plot_ink", 2.5)
        self.inactive_marks = pg.ScatterPlotItem(size=10, symbol="x", pen=pg.mkPen(style.INACTIVE, width=2))
        for element in (self.bars, self.test_mean, self.inactive_marks):
            item.addItem(element)
        self._kl = np.zeros(0)
        self._activity: DimensionActivity | None = None

    def set_values(self, kl_per_dim: np.ndarray, activity: DimensionActivity | None) -> None:
        self._kl = np.asarray(kl_per_dim, dtype=np.float64)
        z_dim = len(self._kl)
        dims = np.arange(z_dim)
        usable = activity is not None and len(activity.kl_per_dim) == z_dim
        self._activity = activity if usable else None
        inactive = self._activity.inactive if self._activity is not None else np.zeros(z_dim, dtype=bool)
        brushes = [pg.mkBrush(style.INACTIVE if off else style.KL) for off in inactive]
        self.bars.setOpts(x=dims, height=self._kl, width=0.7, brushes=brushes, pen=pg.mkPen(None))
        if self._activity is not None:
            active = ~inactive  # a collapsed dimension's mean sits at 0, under its cross
            self.test_mean.setData(dims[active], self._activity.kl_per_dim[active], size=style.marker_size(z_dim))
            self.inactive_marks.setData(
                dims[inactive], np.zeros(int(inactive.sum())), size=style.marker_size(z_dim, largest=10)
            )
            top = max(float(self._kl.max()), float(self._activity.kl_per_dim.max()))
        else:
            self.test_mean.setData([], [])
            self.inactive_marks.setData([], [])
            top = float(self._kl.max())
        label_every_index(self.plot, z_dim)
        _fit_x(self.plot, z_dim)
        _fit_y(self.plot, 0.0, max(top, 0.05))

    def values(self) -> np.ndarray:
        return np.asarray(self.bars.opts["height"], dtype=np.float64)

    def inactive_dimensions(self) -> list[int]:
        """Dimensions drawn as collapsed (grey bar with a cross)."""
        return [int(round(x)) for x in self.inactive_marks.getData()[0]]

    def describe(self, x: float, y: float) -> str | None:
        d = _index_at(x, len(self._kl))
        if d is None:
            return None
        text = f"dimension {d}: {style.swatch(style.KL, f'KL = {self._kl[d]:.4f} nats')} for this image"
        if self._activity is not None:
            mean_kl = self._activity.kl_per_dim[d]
            state = "inactive (collapsed to the prior)" if self._activity.inactive[d] else "active"
            text += f"; {mean_kl:.4f} nats on average over the test images: {state}"
        return text
