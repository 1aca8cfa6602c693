"""Colours and plot set-up shared by the inspector's charts.

One colour per quantity, used for its bars, its table column and its caption, so a learner can
follow a number from the encoder output to the sample by colour alone (Okabe-Ito palette, readable
with colour-blindness). Text in these colours goes through `ink`, which keeps the hue but lightens or
darkens it until it reads on the current theme's background (blue and purple on a dark window did not).
"""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

from vae_desktop.ui.theme import Theme, current_theme, on_theme, readable_on

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


def ink(color: str, background: str | None = None) -> str:
    """`color` as text on `background` (default: the current theme's window), readable in both themes."""
    return readable_on(color, background or current_theme().window)


def swatch(color: str, text: str) -> str:
    """Rich text: a square in the chart colour and bold text in its readable shade, for captions."""
    return f'<span style="color:{color}">&#9632;</span> <b style="color:{ink(color)}">{text}</b>'


def themed_pen(
    owner: QObject, item: Any, role: str, width: float, style: Qt.PenStyle = Qt.PenStyle.SolidLine
) -> None:
    """Give `item` a pen in the theme colour `role` (e.g. "plot_neutral"), redone on every theme switch."""
    on_theme(owner, lambda theme: item.setPen(pg.mkPen(getattr(theme, role), width=width, style=style)))


def marker_size(count: int, largest: int = 20, smallest: int = 4) -> int:
    """Symbol size in pixels that keeps `count` markers side by side from overlapping into a smear."""
    return int(max(smallest, min(largest, 480 // max(count, 1))))


def make_plot(parent: QWidget | None, height: int, *, zoom_x: bool = True) -> pg.PlotWidget:
    """A PlotWidget in the theme's colours (no global pyqtgraph options), x-zoom only; it follows theme switches."""
    plot = pg.PlotWidget(parent=parent)
    plot.setFixedHeight(height)
    item = plot.getPlotItem()
    item.hideButtons()
    item.setMenuEnabled(False)
    item.showGrid(x=False, y=True, alpha=0.25)
    for name in ("left", "bottom"):
        item.getAxis(name).enableAutoSIPrefix(False)  # "value (x0.001)" would hide the real numbers
    plot.setMouseEnabled(x=zoom_x, y=False)
    on_theme(plot, lambda theme: apply_plot_theme(plot, theme))
    return plot


def apply_plot_theme(plot: pg.PlotWidget, theme: Theme) -> None:
    """Background, axes and axis labels of one chart in the theme's colours."""
    plot.setBackground(theme.plot_background)
    for name in ("left", "bottom", "right"):
        axis = plot.getPlotItem().getAxis(name)
        axis.setPen(pg.mkPen(theme.text))
        axis.setTextPen(pg.mkPen(theme.text))  # the axis label takes its colour from the text pen
