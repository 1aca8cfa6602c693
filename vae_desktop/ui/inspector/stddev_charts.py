"""Section ②'s charts: how the spread outputs become σ (exp by default; softplus and raw as the model says).

Apart from charts.py (the other per-dimension charts) so each file stays small; both share `Chart`.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from vae_desktop.ui.inspector import style
from vae_desktop.ui.inspector.charts import Chart, _fit_x, _fit_y, _index_at, label_every_index
from vae_desktop.ui.inspector.roles import OutputRoles


class ExpStepChart(Chart):
    """Per dimension, log-stddev (before exp, any sign) next to stddev (after exp, always positive)."""

    ACCESSIBLE_NAME = "log σ and σ per dimension"
    DESCRIPTION = "Bar pairs per latent dimension: log σ before exp and σ after it."

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(170, parent)
        item = self.plot.getPlotItem()
        item.setLabel("bottom", "latent dimension")
        zero = pg.InfiniteLine(pos=0, angle=0)
        style.themed_pen(self, zero, "plot_neutral", 1.2)
        item.addItem(zero)
        self.before = pg.BarGraphItem(x=[], height=[], width=0.38, brush=style.LOG_STD, pen=pg.mkPen(None))
        self.after = pg.BarGraphItem(x=[], height=[], width=0.38, brush=style.STD, pen=pg.mkPen(None))
        item.addItem(self.before)
        item.addItem(self.after)
        self._log_std = np.zeros(0)
        self._std = np.zeros(0)
        self._roles = OutputRoles(0)

    def set_values(self, log_std: np.ndarray, std: np.ndarray, roles: OutputRoles | None = None) -> None:
        """The spread outputs (log σ for exp) and σ; `roles` names them (default: exp)."""
        self._log_std = np.asarray(log_std, dtype=np.float64)
        self._std = np.asarray(std, dtype=np.float64)
        self._roles = roles or OutputRoles(len(self._std))
        dims = np.arange(len(self._std))
        self.before.setOpts(x=dims - 0.2, height=self._log_std)
        self.after.setOpts(x=dims + 0.2, height=self._std)
        label_every_index(self.plot, len(dims))
        _fit_x(self.plot, len(dims))
        _fit_y(self.plot, float(self._log_std.min()), float(max(self._std.max(), self._log_std.max())))

    def before_values(self) -> np.ndarray:
        return np.asarray(self.before.opts["height"], dtype=np.float64)

    def after_values(self) -> np.ndarray:
        return np.asarray(self.after.opts["height"], dtype=np.float64)

    def describe(self, x: float, y: float) -> str | None:
        d = _index_at(x, len(self._std))
        if d is None:
            return None
        roles = self._roles
        return (
            f"dimension {d}: {style.swatch(style.LOG_STD, f'{roles.spread}{d} = {self._log_std[d]:+.4f}')} → "
            f"{roles.transform} → {style.swatch(style.STD, f'σ{d} = {self._std[d]:.4g}')}"
        )


class ExpCurveChart(Chart):
    """The curve sigma = exp(log sigma) with every dimension as a dot on it: any x lands above zero."""

    HINT = "Every dot is one dimension."
    ACCESSIBLE_NAME = "The exp curve"
    DESCRIPTION = "The curve σ = exp(log σ), with one dot per latent dimension of this image."

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(170, parent, zoom_x=False)
        item = self.plot.getPlotItem()
        item.setLabel("bottom", "log σ (any real number)")
        item.setLabel("left", "σ = exp(log σ)")
        item.showGrid(x=True, y=True, alpha=0.25)
        zero = pg.InfiniteLine(pos=0, angle=0)
        style.themed_pen(self, zero, "plot_neutral", 1.2, Qt.PenStyle.DashLine)
        item.addItem(zero)
        self.curve = pg.PlotDataItem(pen=pg.mkPen(style.STD, width=2.5))
        self.dots = pg.ScatterPlotItem(size=9, brush=pg.mkBrush(style.LOG_STD))
        style.themed_pen(self, self.dots, "plot_ink", 0.8)
        item.addItem(self.curve)
        item.addItem(self.dots)
        self._log_std = np.zeros(0)
        self._roles = OutputRoles(0)

    def set_values(self, log_std: np.ndarray, std: np.ndarray, roles: OutputRoles | None = None) -> None:
        """Dots at (spread output, σ) on the curve of the model's stddev function (exp by default)."""
        self._log_std = np.asarray(log_std, dtype=np.float64)
        roles = self._roles = roles or OutputRoles(len(self._log_std))
        item = self.plot.getPlotItem()
        item.setLabel("bottom", f"{roles.spread} (any real number)")
        item.setLabel("left", roles.sigma_formula if roles.stddev != "raw" else "σ = the output")
        low = min(-2.5, float(self._log_std.min()) - 0.3)
        high = max(0.8, float(self._log_std.max()) + 0.3)
        t = np.linspace(low, high, 200)
        curve = np.array([roles.sigma_of(float(v)) for v in t])
        self.curve.setData(t, curve)
        self.dots.setData(self._log_std, np.asarray(std, dtype=np.float64), data=list(range(len(self._log_std))))
        self.plot.setXRange(low, high, padding=0)
        top, bottom = float(curve.max()), float(min(curve.min(), 0.0))
        self.plot.setYRange(bottom - 0.15 * (top - bottom), 1.08 * top, padding=0)

    def describe(self, x: float, y: float) -> str | None:
        roles = self._roles
        value = roles.sigma_of(x)
        name = f"{roles.transform}({x:+.2f})" if roles.stddev != "raw" else f"σ = {x:+.2f}"
        if roles.stddev == "raw":
            return f"{name}: {'no Normal has σ ≤ 0' if x <= 0 else 'a valid σ'}"
        return f"{name} = {value:.4g}: still above zero" if x < 0 else f"{name} = {value:.4g}"
