"""The latent panel's widgets and where they sit: an empty page, then toolbar, map, side column, status.

Kept apart from `LatentPanel` (what the widgets do) so each file has one job; nothing here is connected.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSplitter, QStackedLayout, QVBoxLayout, QWidget

from vae_desktop.ui.latent.boxes import InspectedImageBox, InterpolationBox
from vae_desktop.ui.latent.controls import MapControls
from vae_desktop.ui.latent.image_view import ImageView
from vae_desktop.ui.latent.map_view import LatentMapView
from vae_desktop.ui.latent.sliders import LatentSliders

EMPTY_TEXT = (
    "No model yet.\n\nStart training or open a checkpoint to explore its latent space here:\n"
    "the encoded test set, a manifold of decoded images, and handles you can drag."
)


@dataclass
class LatentWidgets:
    stack: QStackedLayout  # page 0: `empty_label`, page 1: `content`
    empty_label: QLabel
    content: QWidget
    controls: MapControls
    map_view: LatentMapView
    interpolation_box: InterpolationBox
    handle_title: QLabel
    handle_image: ImageView
    plane_status: QLabel
    snap_button: QPushButton
    inspected_box: InspectedImageBox
    sliders_title: QLabel
    sliders: LatentSliders
    status_label: QLabel


def build_latent_widgets(panel: QWidget) -> LatentWidgets:
    stack = QStackedLayout(panel)
    empty = QLabel(EMPTY_TEXT)
    empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
    empty.setWordWrap(True)
    font = QFont(empty.font())
    font.setPointSizeF(font.pointSizeF() * 1.15)
    empty.setFont(font)
    stack.addWidget(empty)

    content = QWidget()
    stack.addWidget(content)
    controls = MapControls()
    map_view = LatentMapView()
    interpolation_box = InterpolationBox()
    left = QWidget()
    left_layout = QVBoxLayout(left)
    left_layout.setContentsMargins(0, 0, 0, 0)
    left_layout.addWidget(map_view, 1)
    left_layout.addWidget(interpolation_box)

    handle_title = QLabel()
    handle_title.setStyleSheet("font-weight: bold;")
    handle_image = ImageView(200, "Double-click the map to add a handle.")
    plane_status = QLabel()
    plane_status.setWordWrap(True)
    snap_button = QPushButton("Back onto the map plane")
    snap_button.setToolTip("Move the handle to the point of the map plane nearest to it")
    snap_button.hide()
    inspected_box = InspectedImageBox()
    sliders_title = QLabel()
    sliders = LatentSliders()
    side = QWidget()
    side.setMinimumWidth(250)
    side.setMaximumWidth(380)
    side_layout = QVBoxLayout(side)
    side_layout.setContentsMargins(4, 0, 0, 0)
    side_layout.addWidget(handle_title)
    side_layout.addWidget(handle_image, 3)
    side_layout.addWidget(plane_status)
    side_layout.addWidget(snap_button)
    side_layout.addWidget(inspected_box)
    side_layout.addWidget(sliders_title)
    side_layout.addWidget(sliders, 4)

    splitter = QSplitter(Qt.Orientation.Horizontal)
    splitter.addWidget(left)
    splitter.addWidget(side)
    splitter.setStretchFactor(0, 1)
    splitter.setStretchFactor(1, 0)
    status = QLabel()
    status.setWordWrap(True)
    layout = QVBoxLayout(content)
    layout.setContentsMargins(6, 6, 6, 4)
    layout.addWidget(controls)
    layout.addWidget(splitter, 1)
    status_row = QHBoxLayout()
    status_row.addWidget(status, 1)
    layout.addLayout(status_row)
    return LatentWidgets(
        stack, empty, content, controls, map_view, interpolation_box, handle_title, handle_image,
        plane_status, snap_button, inspected_box, sliders_title, sliders, status,
    )
