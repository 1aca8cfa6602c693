"""The pieces of the loss plots: one quantity's curves (`LossPlot`) and a canvas that times its paints.

`LossPlots` (ui/loss_plots.py) holds the data and decides when to draw; these only draw.
"""

from __future__ import annotations

import time

import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QColor, QPaintEvent

from vae_desktop.ui.theme import Theme, current_theme


class TimedCanvas(pg.GraphicsLayoutWidget):
    """Remembers how long its last paint took, so redraws can be spaced to keep the GUI responsive."""

    last_paint_s = 0.0
    left = Signal()  # the pointer left the plots: the hover cursor and readout go away

    def leaveEvent(self, event: QEvent) -> None:
        super().leaveEvent(event)
        self.left.emit()

    def paintEvent(self, event: QPaintEvent) -> None:
        started = time.perf_counter()
        super().paintEvent(event)
        self.last_paint_s = time.perf_counter() - started


class LossPlot:
    """One quantity (recon or KL): raw and smoothed batch curves, train and test epoch curves."""

    def __init__(self, plot: pg.PlotItem, title: str, quantity: str) -> None:
        self.plot = plot
        self.title = title
        self.quantity = quantity  # "recon" or "kl": the Theme field holding its colour
        # Opaque pale grid lines: pyqtgraph's default translucent grid costs ~15 ms per frame to blend.
        plot.showGrid(x=True, y=True, alpha=1.0)
        plot.setClipToView(True)
        plot.setMenuEnabled(False)
        plot.hideButtons()
        for name in ("left", "bottom"):
            axis = plot.getAxis(name)
            axis.enableAutoSIPrefix(False)  # "epoch (x0.001)" reads worse than plain fractions
            axis.setStyle(tickAlpha=255, maxTickLevel=0)  # grid at labelled ticks only
            axis.setZValue(-1)  # grid lines under the curves
        # Raw batches: opaque pale colour (no alpha blending), 1 px, peak-downsampled so spikes stay visible.
        self.raw = plot.plot(name="batch", autoDownsampleFactor=1.0)
        self.raw.setDownsampling(auto=True, method="peak")
        # The smoothed curve has no spikes to keep: plain subsampling to ~1 point per pixel draws fast.
        self.smooth = plot.plot(name="batch, smoothed", antialias=True, autoDownsampleFactor=1.0)
        self.smooth.setDownsampling(auto=True, method="subsample")
        self.train = plot.plot(
            name="epoch, train", symbol="o", symbolSize=7, antialias=True, autoDownsampleFactor=1.0
        )
        self.test = plot.plot(name="epoch, test", symbol="s", symbolSize=7, antialias=True, autoDownsampleFactor=1.0)
        self._symbols = {self.train: "o", self.test: "s"}
        self._markers_shown = True
        for curve in (self.train, self.test):
            curve.setDownsampling(auto=True, method="subsample")
        for curve in (self.raw, self.smooth):
            curve.setSkipFiniteCheck(True)
        self.cursor = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(120, 120, 120, 160, style=Qt.PenStyle.DotLine))
        self.cursor.setVisible(False)
        plot.addItem(self.cursor, ignoreBounds=True)
        _wrap_title(plot.titleLabel)
        self.apply_theme(current_theme())

    def apply_theme(self, theme: Theme) -> None:
        """Axes, grid, curves and the title's inline legend in the theme's colours."""
        plot = self.plot
        axis_color = QColor(theme.plot_axis)
        for name in ("left", "bottom"):
            axis = plot.getAxis(name)
            axis.setPen(pg.mkPen(axis_color))
            axis.setTextPen(pg.mkPen(axis_color))  # the axis label takes its colour from the text pen
            axis.setTickPen(pg.mkPen(theme.plot_grid))
        color = QColor(getattr(theme, self.quantity))
        pale = theme.raw_curve_color(color.name())
        plot.setTitle(_title_with_legend(self.title, theme, color, pale), size="9pt", justify="left")
        self.raw.setPen(pg.mkPen(pale, width=1))
        self.smooth.setPen(pg.mkPen(color, width=2))
        for curve, series in ((self.train, theme.train), (self.test, theme.test)):
            curve.setPen(pg.mkPen(series, width=1.5))
            curve.setSymbolBrush(pg.mkBrush(series))
            curve.setSymbolPen(pg.mkPen(theme.plot_marker_edge))

    def show_epoch_markers(self, show: bool) -> None:
        """Markers help with a few epochs; thousands of them would only cost drawing time."""
        if show != self._markers_shown:
            self._markers_shown = show
            for curve, symbol in self._symbols.items():
                curve.setSymbol(symbol if show else None)


def _wrap_title(label: pg.LabelItem) -> None:
    """Wrap the title line (title and inline legend) at the plot's width instead of cutting it off.

    pyqtgraph sizes a title to its text on one line and makes that the plot's minimum width
    (LabelItem.updateMin runs on every resize). In a narrow column that pushed the plot's right
    edge out of view, and letting the title shrink instead cut off the end of the legend ("train",
    "test"). With a text width the legend flows onto a second line when the first is full.
    """

    def update_min_wrapped() -> None:
        width = label.size().width()
        label.item.setTextWidth(width if width > 1 else -1)
        bounds = label.itemRect()
        label.setMinimumWidth(0)
        label.setMinimumHeight(bounds.height())
        label._sizeHint = {  # what LabelItem.updateMin stores, without the one-line width as minimum
            Qt.SizeHint.MinimumSize: (0, bounds.height()),
            Qt.SizeHint.PreferredSize: (0, bounds.height()),
            Qt.SizeHint.MaximumSize: (-1, -1),
            Qt.SizeHint.MinimumDescent: (0, 0),
        }
        label.updateGeometry()

    label.updateMin = update_min_wrapped
    label.updateMin()


def _title_with_legend(title: str, theme: Theme, color: QColor, pale: QColor) -> str:
    """The plot title with an inline legend: it never covers a curve, unlike a legend box inside the plot."""

    def key(glyph: str, glyph_color: str, label: str) -> str:
        return (
            f"<span style='color:{glyph_color}; font-size:11pt'>{glyph}</span>"
            f"<span style='color:{theme.plot_axis}'>&nbsp;{label}</span>"
        )

    keys = "&nbsp;&nbsp; ".join(  # a plain space between keys: the legend may wrap there, never inside a key
        [
            key("━", pale.name(), "batch"),
            key("━", color.name(), "smoothed"),
            key("●", theme.train, "train"),
            key("■", theme.test, "test"),
        ]
    )
    return (
        f"<span style='color:{theme.plot_axis}; font-weight:600'>{title}</span>"
        f"&nbsp;&nbsp;&nbsp;&nbsp; {keys}"
    )
