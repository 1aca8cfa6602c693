"""The latent panel's toolbar: which plane the map shows, manifold and grid, decode mode, file opening."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget

from vae_desktop.core.explorer import PLANE_DIMS, PLANE_PCA
from vae_desktop.core.latent import dimension_name

__all__ = ["PLANE_DIMS", "PLANE_PCA", "MapControls"]


class MapControls(QWidget):
    planeChanged = Signal()  # mode or chosen dimensions changed
    dimsPicked = Signal()  # the user chose a dimension in one of the two boxes
    manifoldToggled = Signal(bool)
    gridSizeChanged = Signal(int)
    gridToggled = Signal(bool)
    decodeModeChanged = Signal(bool)  # True: sample pixels
    resampleRequested = Signal()
    fitRequested = Signal()
    openRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # Two rows, so the panel fits beside the loss plots on a laptop screen.
        rows = QVBoxLayout(self)
        rows.setContentsMargins(0, 0, 0, 0)
        rows.setSpacing(4)
        layout = QHBoxLayout()
        layout.setSpacing(6)
        second = QHBoxLayout()
        second.setSpacing(6)
        rows.addLayout(layout)
        rows.addLayout(second)

        layout.addWidget(QLabel("Map:"))
        self.plane_combo = QComboBox()
        self.plane_combo.addItem("PCA plane of the means", PLANE_PCA)
        self.plane_combo.addItem("Two latent dimensions", PLANE_DIMS)
        self.plane_combo.setToolTip(
            "PCA: the plane through the centre of the encoded test set's posterior means along their two main "
            "directions.\n"
            "Two dimensions: vary the chosen latent dimensions; all others are held at the selected handle's values."
        )
        self.u_combo = QComboBox()
        self.v_combo = QComboBox()
        self.u_combo.setToolTip("Latent dimension along the horizontal axis")
        self.v_combo.setToolTip("Latent dimension along the vertical axis")
        self.fixed_plane_label = QLabel()
        # Wide enough for its longest choice: a combo sized for 18 characters cut "PCA plane of the po…".
        self.plane_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        for widget in (self.plane_combo, self.u_combo, self.v_combo, self.fixed_plane_label):
            layout.addWidget(widget)
        layout.addStretch(1)

        self.manifold_check = QCheckBox("Manifold")
        self.manifold_check.setChecked(True)
        self.manifold_check.setToolTip("Decoded images of a grid over the visible region, drawn under the points")
        self.grid_size = QSpinBox()
        self.grid_size.setRange(2, 40)
        self.grid_size.setValue(20)
        self.grid_size.setPrefix("N = ")
        self.grid_size.setToolTip("Manifold images along the longer side of the view")
        self.grid_check = QCheckBox("Grid")
        self.grid_check.setChecked(True)
        self.grid_check.setToolTip("Coordinate grid lines")
        for option in (self.manifold_check, self.grid_size, self.grid_check):
            second.addWidget(option)
        second.addSpacing(10)

        self.decode_combo = QComboBox()
        self.decode_combo.addItem("Decode mean")
        self.decode_combo.addItem("Decode sample")
        self.decode_combo.setToolTip(
            "Mean: the decoder's pixel probabilities.\nSample: pixels drawn from them (Bernoulli); "
            "the manifold always shows the mean."
        )
        self.resample_button = QPushButton("Resample")
        self.resample_button.setEnabled(False)
        self.resample_button.setToolTip("Draw new pixel noise for the sampled images (Decode sample only)")
        second.addWidget(self.decode_combo)
        second.addWidget(self.resample_button)
        second.addStretch(1)
        self.fit_button = QPushButton("Fit view")
        self.fit_button.setToolTip("Zoom to the encoded test set and follow it while training")
        self.open_button = QPushButton("Open image…")
        self.open_button.setToolTip("Encode an image file and place it as a handle (or drop files on the map)")
        layout.addWidget(self.fit_button)
        layout.addWidget(self.open_button)

        self.plane_combo.currentIndexChanged.connect(self._on_plane_mode)
        self.u_combo.currentIndexChanged.connect(lambda _: self._on_dim_changed(self.u_combo, self.v_combo))
        self.v_combo.currentIndexChanged.connect(lambda _: self._on_dim_changed(self.v_combo, self.u_combo))
        self.manifold_check.toggled.connect(self.manifoldToggled)
        self.manifold_check.toggled.connect(self.grid_size.setEnabled)
        self.grid_size.valueChanged.connect(self.gridSizeChanged)
        self.grid_check.toggled.connect(self.gridToggled)
        self.decode_combo.currentIndexChanged.connect(self._on_decode_mode)
        self.resample_button.clicked.connect(self.resampleRequested)
        self.fit_button.clicked.connect(self.fitRequested)
        self.open_button.clicked.connect(self.openRequested)
        self._dims = (0, 1)

    # ---- state ---------------------------------------------------------------------------------
    @property
    def plane_mode(self) -> str:
        return self.plane_combo.currentData()

    @property
    def dims(self) -> tuple[int, int]:
        return self._dims

    def set_z_dim(self, z_dim: int) -> None:
        """Offer the plane choice only when there is one (more than two latent dimensions)."""
        choose = z_dim > 2
        self.plane_combo.setVisible(choose)
        self.fixed_plane_label.setVisible(not choose)
        self.fixed_plane_label.setText(
            f"the latent plane ({dimension_name(0)}, {dimension_name(1)})" if z_dim == 2
            else f"the latent line {dimension_name(0)}"
        )
        for combo in (self.u_combo, self.v_combo):
            combo.blockSignals(True)
            combo.clear()
            combo.addItems([dimension_name(d) for d in range(z_dim)])
        self._dims = (0, 1 if z_dim > 1 else 0)
        self.u_combo.setCurrentIndex(self._dims[0])
        self.v_combo.setCurrentIndex(self._dims[1])
        for combo in (self.u_combo, self.v_combo):
            combo.blockSignals(False)
        self._update_dim_visibility()

    def set_dims(self, dims: tuple[int, int]) -> None:
        """Show these two dimensions (0-based) without reporting a change (the caller applies it)."""
        self._dims = (int(dims[0]), int(dims[1]))
        for combo, dim in ((self.u_combo, self._dims[0]), (self.v_combo, self._dims[1])):
            combo.blockSignals(True)
            combo.setCurrentIndex(dim)
            combo.blockSignals(False)

    def show_plane(self, mode: str, dims: tuple[int, int]) -> None:
        """Show the explorer state's plane choice without reporting a change (the state already has it)."""
        if self.plane_mode != mode:
            self.plane_combo.blockSignals(True)
            self.plane_combo.setCurrentIndex(self.plane_combo.findData(mode))
            self.plane_combo.blockSignals(False)
            self._update_dim_visibility()
        if tuple(dims) != self._dims:
            self.set_dims(dims)

    def set_plane(self, mode: str, dims: tuple[int, int] | None = None) -> None:
        self.plane_combo.blockSignals(True)
        self.plane_combo.setCurrentIndex(self.plane_combo.findData(mode))
        self.plane_combo.blockSignals(False)
        if dims is not None:
            self.set_dims(dims)
        self._update_dim_visibility()
        self.planeChanged.emit()

    # ---- reactions -------------------------------------------------------------------------------
    def _on_plane_mode(self, _index: int) -> None:
        self._update_dim_visibility()
        self.planeChanged.emit()

    def _update_dim_visibility(self) -> None:
        show = self.plane_combo.isVisibleTo(self) and self.plane_mode == PLANE_DIMS
        self.u_combo.setVisible(show)
        self.v_combo.setVisible(show)

    def _on_dim_changed(self, changed: QComboBox, other: QComboBox) -> None:
        if changed.currentIndex() == other.currentIndex():
            # Picking the other axis's dimension swaps the two instead of making a degenerate plane.
            previous = self._dims[0] if changed is self.u_combo else self._dims[1]
            other.blockSignals(True)
            other.setCurrentIndex(previous)
            other.blockSignals(False)
        self._dims = (self.u_combo.currentIndex(), self.v_combo.currentIndex())
        self.dimsPicked.emit()
        self.planeChanged.emit()

    def _on_decode_mode(self, index: int) -> None:
        self.resample_button.setEnabled(index == 1)
        self.decodeModeChanged.emit(index == 1)
