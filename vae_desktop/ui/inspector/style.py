"""Colours and plot set-up shared by the inspector's charts.

One colour per quantity, used for its bars, its table column and its caption, so a learner can
follow a number from the encoder output to the sample by colour alone (Okabe-Ito palette, readable
with colour-blindness).
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QWidget

MEAN = "#0072B2"  # blue: mu, the first z_dim outputs
LOG_STD = "#E69F00"  # orange: log sigma, the second z_dim outputs
STD = "#009E73"  # green: sigma = exp(log sigma)
EPS = "#CC79A7"  # pink: the noise epsilon
SAMPLE = "#D55E00"  # vermillion: z = mu + sigma * eps
KL = "#7B3294"  # purple: the KL force
RECON = "#1B7837"  # dark green: the reconstruction force
INACTIVE = "#A0A0A0"  # grey: collapsed dimensions (bars, marks)
INACTIVE_TEXT = "#767676"  # the same grey, dark enough to read as text
PRIOR = "#9E9E9E"  # the N(0, 1) band


def tint(color: str, alpha: int) -> QColor:
    """`color` with the given alpha (0-255), for shaded backgrounds."""
    result = QColor(color)
    result.setAlpha(alpha)
    return result


def swatch(color: str, text: str) -> str:
    """Rich text: a coloured square and bold coloured text, for captions that name a quantity."""
    return f'<span style="color:{color}">&#9632;</span> <b style="color:{color}">{text}</b>'


def marker_size(count: int, largest: int = 20, smallest: int = 4) -> int:
    """Symbol size in pixels that keeps `count` markers side by side from overlapping into a smear."""
    return int(max(smallest, min(largest, 480 // max(count, 1))))


def make_plot(parent: QWidget | None, height: int, *, zoom_x: bool = True) -> pg.PlotWidget:
    """A PlotWidget in the window's own colours (no global pyqtgraph options), x-zoom only."""
    palette = parent.palette() if parent is not None else QPalette()
    background = palette.color(QPalette.ColorRole.Base)
    foreground = palette.color(QPalette.ColorRole.Text)
    plot = pg.PlotWidget(parent=parent, background=background)
    plot.setFixedHeight(height)
    item = plot.getPlotItem()
    item.hideButtons()
    item.setMenuEnabled(False)
    item.showGrid(x=False, y=True, alpha=0.25)
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.setPen(pg.mkPen(foreground))
        axis.setTextPen(pg.mkPen(foreground))
        axis.enableAutoSIPrefix(False)  # "value (x0.001)" would hide the real numbers
    plot.setMouseEnabled(x=zoom_x, y=False)
    return plot
