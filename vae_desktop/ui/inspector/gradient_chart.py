"""One output role's gradients per latent dimension: the reconstruction part and the KL part as bars,
their sum as a tick. Two of these (the mean outputs, the spread outputs) make the gradient section."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from vae_desktop.ui.inspector import style
from vae_desktop.ui.inspector.charts import Chart, _fit_x, _fit_y, _index_at, label_every_index


class GradientChart(Chart):
    """∂loss/∂output for one half of the encoder's outputs; training moves each output against its bar."""

    ACCESSIBLE_NAME = "Gradients per dimension"
    DESCRIPTION = "Bar pairs per latent dimension: the reconstruction part and the KL part of the gradient."

    def __init__(self, output_name: str, parent: QWidget | None = None) -> None:
        super().__init__(150, parent)
        self.output_name = output_name  # "μ" or "log σ": how the readout names the output
        item = self.plot.getPlotItem()
        item.setLabel("bottom", "latent dimension")
        item.setLabel("left", f"∂loss/∂{output_name}")
        zero = pg.InfiniteLine(pos=0, angle=0)
        style.themed_pen(self, zero, "plot_neutral", 1.2)
        item.addItem(zero)
        self.recon_bars = pg.BarGraphItem(x=[], height=[], width=0.38, brush=style.RECON, pen=pg.mkPen(None))
        self.kl_bars = pg.BarGraphItem(x=[], height=[], width=0.38, brush=style.KL, pen=pg.mkPen(None))
        self.totals = pg.ScatterPlotItem(size=16, symbol="_")
        style.themed_pen(self, self.totals, "plot_ink", 2.5)
        for element in (self.recon_bars, self.kl_bars, self.totals):
            item.addItem(element)
        self._recon = np.zeros(0)
        self._kl = np.zeros(0)

    def set_values(self, recon: np.ndarray, kl: np.ndarray) -> None:
        self._recon = np.asarray(recon, dtype=np.float64)
        self._kl = np.asarray(kl, dtype=np.float64)
        dims = np.arange(len(self._recon))
        total = self._recon + self._kl
        self.recon_bars.setOpts(x=dims - 0.2, height=self._recon)
        self.kl_bars.setOpts(x=dims + 0.2, height=self._kl)
        self.totals.setData(dims, total, size=style.marker_size(len(dims), largest=16))
        label_every_index(self.plot, len(dims))
        _fit_x(self.plot, len(dims))
        values = np.concatenate([self._recon, self._kl, total]) if len(dims) else np.zeros(1)
        _fit_y(self.plot, float(values.min()), float(values.max()))

    def recon_values(self) -> np.ndarray:
        return np.asarray(self.recon_bars.opts["height"], dtype=np.float64)

    def kl_values(self) -> np.ndarray:
        return np.asarray(self.kl_bars.opts["height"], dtype=np.float64)

    def describe(self, x: float, y: float) -> str | None:
        d = _index_at(x, len(self._recon))
        if d is None:
            return None
        name = f"{self.output_name}{d}"
        return (
            f"dimension {d}: ∂loss/∂{name} = {style.swatch(style.RECON, f'{self._recon[d]:+.4g} from reconstruction')}"
            f" {style.swatch(style.KL, f'{self._kl[d]:+.4g} from KL')} = {self._recon[d] + self._kl[d]:+.4g}"
        )
