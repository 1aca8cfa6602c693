"""One compared run's curves in one loss plot, and the colours runs are told apart by.

The window's own run keeps its own items (ui/loss_plot_items.py), recoloured here while a
comparison is open; a run folder gets a `RunCurveItems` per plot. Each run has one colour in both
plots: its raw batches pale, its smoothed batches solid, its epochs with markers (● train dashed,
■ test solid), as in a single run's plot, so the key reads the same.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from vae_desktop.core.runs.comparison import PALETTE_SIZE, RunCurves
from vae_desktop.ui.loss_plot_items import LossPlot
from vae_desktop.ui.loss_plots import MAX_EPOCH_MARKERS
from vae_desktop.ui.theme import Theme

# Okabe & Ito's colour-blind-safe palette (black left out: it vanishes on the dark theme).
RUN_COLOURS: tuple[str, ...] = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#999999")
assert len(RUN_COLOURS) == PALETTE_SIZE

_STEP, _RECON, _KL, _RECON_S, _KL_S, _CENTER = range(6)  # LossTrace columns
SELECTED_WIDTH = 2.6
OTHER_WIDTH = 1.3
TRAIN_STYLE = Qt.PenStyle.DashLine


def run_colour(index: int) -> str:
    return RUN_COLOURS[index % len(RUN_COLOURS)]


def style_run_items(items: tuple[pg.PlotDataItem, ...], colour: str, theme: Theme, selected: bool) -> None:
    """Pens of one run's four curves (raw, smoothed, train, test): the selected run drawn thicker and on top."""
    raw, smooth, train, test = items
    width = SELECTED_WIDTH if selected else OTHER_WIDTH
    raw.setPen(pg.mkPen(theme.raw_curve_color(colour), width=1))
    smooth.setPen(pg.mkPen(colour, width=width))
    train.setPen(pg.mkPen(colour, width=width * 0.75, style=TRAIN_STYLE))
    test.setPen(pg.mkPen(colour, width=width * 0.75))
    for curve in (train, test):
        if curve.opts["symbol"] is not None:  # thousands of epochs are drawn without markers
            curve.setSymbolBrush(pg.mkBrush(colour))
            curve.setSymbolPen(pg.mkPen(theme.plot_marker_edge))
            curve.setSymbolSize(8 if selected else 6)
    z = 5 if selected else 1
    raw.setZValue(z - 1)
    for curve in (smooth, train, test):
        curve.setZValue(z)


class RunCurveItems:
    """A run folder's curves in one plot (`quantity` "recon" or "kl"), drawn from its RunCurves."""

    def __init__(self, plot: LossPlot) -> None:
        self.lossplot = plot
        p = plot.plot
        self.raw = p.plot(autoDownsampleFactor=1.0)
        self.raw.setDownsampling(auto=True, method="peak")
        self.smooth = p.plot(antialias=True, autoDownsampleFactor=1.0)
        self.smooth.setDownsampling(auto=True, method="subsample")
        self.train = p.plot(symbol="o", antialias=True)
        self.test = p.plot(symbol="s", antialias=True)

    @property
    def items(self) -> tuple[pg.PlotDataItem, ...]:
        return (self.raw, self.smooth, self.train, self.test)

    def set_curves(self, curves: RunCurves) -> None:
        spe = max(1, curves.steps_per_epoch)
        view = curves.trace()
        value, smoothed = (_RECON, _RECON_S) if self.lossplot.quantity == "recon" else (_KL, _KL_S)
        full = curves.smoothing - 1
        self.raw.setData(view[_STEP] / spe, view[value])
        self.smooth.setData(view[_CENTER, full:] / spe, view[smoothed, full:])
        markers = len(curves.epochs) <= MAX_EPOCH_MARKERS  # as for a single run: markers cost drawing time
        self.train.setSymbol("o" if markers else None)
        self.test.setSymbol("s" if markers else None)
        ex = np.array([e.epoch for e in curves.epochs], dtype=np.float64)
        train_name, test_name = ("train_recon", "test_recon") if self.lossplot.quantity == "recon" else (
            "train_kl", "test_kl")
        self.train.setData(ex, np.array([getattr(e, train_name) for e in curves.epochs], dtype=np.float64))
        self.test.setData(ex, np.array([getattr(e, test_name) for e in curves.epochs], dtype=np.float64))

    def style(self, colour: str, theme: Theme, selected: bool) -> None:
        style_run_items(self.items, colour, theme, selected)

    def set_visible(self, visible: bool) -> None:
        for item in self.items:
            item.setVisible(visible)

    def remove(self) -> None:
        for item in self.items:
            self.lossplot.plot.removeItem(item)


def comparison_title(title: str, theme: Theme, keys: list[tuple[str, str]]) -> str:
    """The plot title with the runs' legend inline (colour, label), then what the line styles mean."""

    def key(glyph: str, colour: str, label: str) -> str:
        return (f"<span style='color:{colour}; font-size:11pt'>{glyph}</span>"
                f"<span style='color:{theme.plot_axis}'>&nbsp;{label.replace(' ', '&nbsp;')}</span>")

    runs = "&nbsp;&nbsp; ".join(key("━", QColor(colour).name(), label) for colour, label in keys)
    styles = "&nbsp;&nbsp; ".join([key("●", theme.plot_axis, "train"), key("■", theme.plot_axis, "test")])
    return (f"<span style='color:{theme.plot_axis}; font-weight:600'>{title}</span>"
            f"&nbsp;&nbsp;&nbsp;&nbsp; {runs}&nbsp;&nbsp;&nbsp; {styles}")
