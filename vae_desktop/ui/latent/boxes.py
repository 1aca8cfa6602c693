"""Side boxes of the latent panel: the interpolation strip and the inspected image with its reconstruction."""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from vae_desktop.ui.latent.image_view import ImageView
from vae_desktop.ui.theme import Theme, on_theme


def _mute(label: QLabel, theme: Theme) -> None:
    label.setStyleSheet(f"color: {theme.muted_text};")


class InterpolationBox(QGroupBox):
    """Pick a start and end handle and a number of steps; shows the decoded images along the path."""

    pairChanged = Signal(object, object)  # start name or None, end name or None
    stepsChanged = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Interpolation", parent)
        self.start_combo = QComboBox()
        self.end_combo = QComboBox()
        self.steps = QSpinBox()
        self.steps.setRange(2, 16)
        self.steps.setValue(8)
        self.steps.setSuffix(" steps")
        self.start_combo.setToolTip("The handle the interpolation starts from")
        self.end_combo.setToolTip("The handle the interpolation ends at")
        self.steps.setToolTip("Images decoded along the straight line between the two handles")
        self.start_combo.setAccessibleName("Interpolate from")
        self.end_combo.setAccessibleName("Interpolate to")
        row = QHBoxLayout()
        for widget in (QLabel("from"), self.start_combo, QLabel("to"), self.end_combo, self.steps):
            row.addWidget(widget)
        row.addStretch(1)
        self.strip = ImageView(56, "Add a second handle (double-click the map) to see the path between two handles.")
        self.strip.setMinimumHeight(72)
        self.strip.setMaximumHeight(130)
        self.strip.setAccessibleName("Interpolation")
        self.strip.setAccessibleDescription("Images decoded at evenly spaced points between the two handles.")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 6)
        layout.addLayout(row)
        layout.addWidget(self.strip)
        self.start_combo.currentIndexChanged.connect(self._emit_pair)
        self.end_combo.currentIndexChanged.connect(self._emit_pair)
        self.steps.valueChanged.connect(self.stepsChanged)

    def set_handles(self, names: list[str], pair: tuple[str | None, str | None]) -> None:
        for combo, chosen in ((self.start_combo, pair[0]), (self.end_combo, pair[1])):
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(names)
            combo.setCurrentIndex(names.index(chosen) if chosen in names else -1)
            combo.blockSignals(False)

    def _emit_pair(self, _index: int) -> None:
        start = self.start_combo.currentText() or None
        end = self.end_combo.currentText() or None
        self.pairChanged.emit(start, end)


class InspectedImageBox(QGroupBox):
    """An encoded image (test point or file) beside its reconstruction; its posterior is drawn on the map."""

    addHandleRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Inspected image", parent)
        self.title_label = QLabel("Click a point on the map.")
        self.title_label.setWordWrap(True)
        self.original = ImageView(84)
        self.reconstruction = ImageView(84)
        self.add_button = QPushButton("Add as handle")
        self.add_button.setToolTip("Place a handle at this image's posterior mean")
        self.add_button.setEnabled(False)
        grid = QGridLayout()
        grid.addWidget(self.original, 0, 0)
        grid.addWidget(self.reconstruction, 0, 1)
        for column, text in enumerate(("input", "reconstruction")):
            caption = QLabel(text)
            caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
            on_theme(caption, partial(_mute, caption))
            grid.addWidget(caption, 1, column)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 6)
        layout.addWidget(self.title_label)
        layout.addLayout(grid)
        layout.addWidget(self.add_button)
        self.add_button.clicked.connect(self.addHandleRequested)

    def clear(self) -> None:
        self.title_label.setText("Click a point on the map.")
        self.original.set_image(None)
        self.reconstruction.set_image(None)
        self.add_button.setEnabled(False)
