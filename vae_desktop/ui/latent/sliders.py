"""One slider (with an exact number box) per latent dimension of the selected handle, in a scroll area.

Up to 256 rows; only values the user changes are reported (`valueEdited`), programmatic updates
never echo back. Dimensions that span the map (chosen-dimensions mode) are highlighted.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QGridLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from vae_desktop.core.latent import dimension_name
from vae_desktop.ui.theme import Theme, on_theme

STEPS_PER_UNIT = 100  # slider resolution: 0.01
SPIN_LIMIT = 1000.0


class LatentSliders(QWidget):
    valueEdited = Signal(int, float)  # dimension, new value

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[tuple[QLabel, QSlider, QDoubleSpinBox]] = []
        self._limit = 4.0
        self._values = np.zeros(0)
        self._scroll = QScrollArea(self)
        self._scroll.setWidgetResizable(True)
        self._scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._body = QWidget()
        self._grid = QGridLayout(self._body)
        self._grid.setContentsMargins(4, 2, 4, 2)
        self._grid.setVerticalSpacing(1)
        self._grid.setColumnStretch(1, 1)
        self._scroll.setWidget(self._body)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._scroll)
        self._highlighted: tuple[int, ...] = ()
        self._theme = on_theme(self, self._apply_theme)

    def _apply_theme(self, theme: Theme) -> None:
        self._theme = theme
        self.set_highlighted(self._highlighted)

    @property
    def z_dim(self) -> int:
        return len(self._rows)

    def set_dimensions(self, z_dim: int) -> None:
        """Rebuild the rows for a model with z_dim latent dimensions."""
        for widgets in self._rows:
            for widget in widgets:
                self._grid.removeWidget(widget)
                widget.deleteLater()
        self._rows = []
        for dim in range(z_dim):
            name = dimension_name(dim)
            label = QLabel(name)
            label.setMinimumWidth(34)
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            spin = QDoubleSpinBox()
            spin.setRange(-SPIN_LIMIT, SPIN_LIMIT)
            spin.setDecimals(2)
            spin.setSingleStep(0.05)
            spin.setKeyboardTracking(False)
            spin.setFixedWidth(72)
            for widget, how in ((slider, "drag"), (spin, "type")):
                tip = f"{name} of the selected handle: {how} to move the handle along this latent dimension"
                widget.setToolTip(tip)
                widget.setStatusTip(tip)
                widget.setAccessibleName(name)
            slider.valueChanged.connect(lambda value, d=dim: self._on_slider(d, value))
            spin.valueChanged.connect(lambda value, d=dim: self._on_spin(d, value))
            self._grid.addWidget(label, dim, 0)
            self._grid.addWidget(slider, dim, 1)
            self._grid.addWidget(spin, dim, 2)
            self._rows.append((label, slider, spin))
        self._grid.setRowStretch(z_dim, 1)
        self._values = np.zeros(z_dim)
        self.set_limit(self._limit)

    def set_limit(self, limit: float) -> None:
        """Sliders cover [-limit, limit]; the number boxes accept any value."""
        self._limit = max(float(limit), 0.5)
        ticks = int(round(self._limit * STEPS_PER_UNIT))
        for _, slider, _ in self._rows:
            slider.blockSignals(True)
            slider.setRange(-ticks, ticks)
            slider.blockSignals(False)
        self.set_values(self._values)

    def set_values(self, z: np.ndarray) -> None:
        """Show z without emitting valueEdited; unchanged rows are not touched (cheap during drags)."""
        z = np.asarray(z, dtype=np.float64)
        for dim, (_, slider, spin) in enumerate(self._rows):
            value = float(z[dim])
            if spin.value() != round(value, 2) or slider.value() != self._ticks(value):
                spin.blockSignals(True)
                slider.blockSignals(True)
                spin.setValue(value)
                slider.setValue(self._ticks(value))
                slider.blockSignals(False)
                spin.blockSignals(False)
        self._values = z.copy()

    def values(self) -> np.ndarray:
        return self._values.copy()

    def set_highlighted(self, dims: tuple[int, ...]) -> None:
        """Mark the dimensions that the map's axes vary (bold amber labels)."""
        self._highlighted = tuple(dims)
        emphasis = f"color: {self._theme.emphasis}; font-weight: bold;"
        for dim, (label, _, _) in enumerate(self._rows):
            label.setStyleSheet(emphasis if dim in dims else "")

    def set_enabled_rows(self, enabled: bool) -> None:
        self._body.setEnabled(enabled)

    def row_widgets(self, dim: int) -> tuple[QLabel, QSlider, QDoubleSpinBox]:
        return self._rows[dim]

    def _ticks(self, value: float) -> int:
        return int(round(np.clip(value, -self._limit, self._limit) * STEPS_PER_UNIT))

    def _on_slider(self, dim: int, ticks: int) -> None:
        value = ticks / STEPS_PER_UNIT
        spin = self._rows[dim][2]
        spin.blockSignals(True)
        spin.setValue(value)
        spin.blockSignals(False)
        self._values[dim] = value
        self.valueEdited.emit(dim, value)

    def _on_spin(self, dim: int, value: float) -> None:
        slider = self._rows[dim][1]
        slider.blockSignals(True)
        slider.setValue(self._ticks(value))
        slider.blockSignals(False)
        self._values[dim] = value
        self.valueEdited.emit(dim, float(value))
