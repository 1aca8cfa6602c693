"""A fixed row of test images above their current reconstructions, refreshed while training.

Reconstructions decode the posterior mean with the GUI's own model copy (`ModelMirror`), at most
every `refresh_interval_ms` (weights arrive a few times per second; decoding ten images is cheap,
but doing it per weight update would still be wasted work). Clicking an image emits
`testImageSelected(test_index)` so other panels can show that image.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QEvent, QRectF, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen, QShowEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from vae_desktop.core.showcase import pick_showcase_indices
from vae_desktop.ui.qimage import to_qimage
from vae_desktop.ui.theme import Theme, on_theme

if TYPE_CHECKING:  # the mirror module imports torch; this widget must paint before torch loads
    from vae_desktop.ui.model_mirror import ModelMirror

ROW_TITLES = ("Test images", "Reconstructions")
NO_DATASET_TEXT = "Test images appear here once a dataset is loaded."
NO_MODEL_TEXT = "Start training to see the reconstructions."
LABEL_WIDTH = 112
PADDING = 8
GAP = 6


class ReconstructionStrip(QWidget):
    testImageSelected = Signal(int)

    def __init__(self, count: int = 10, refresh_interval_ms: int = 500, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._count = count
        self._mirror: ModelMirror | None = None
        self._indices = np.zeros(0, dtype=np.int64)
        self._originals: np.ndarray | None = None  # (N, H, W[, C]) floats in [0, 1]
        self._reconstructions: np.ndarray | None = None
        self._original_images: list[QImage] = []
        self._recon_images: list[QImage] = []
        self._hovered = -1
        self._selected = -1
        self._dirty = False
        self.setMouseTracking(True)
        self.setMinimumHeight(120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setToolTip("Click an image to inspect it")
        # Started by new weights, not a poll: at most one refresh per interval, none while nothing changes.
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(refresh_interval_ms)
        self._timer.timeout.connect(self._refresh_if_dirty)
        self._theme = on_theme(self, self._apply_theme)

    def _apply_theme(self, theme: Theme) -> None:
        self._theme = theme
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(LABEL_WIDTH + self._count * 70, 2 * 70 + 2 * PADDING + GAP)

    # ---- model and data -------------------------------------------------------------------------
    def set_mirror(self, mirror: ModelMirror) -> None:
        self._mirror = mirror
        mirror.datasetChanged.connect(self._on_dataset_changed)
        mirror.modelReplaced.connect(self.refresh_now)
        mirror.weightsUpdated.connect(self._mark_dirty)
        self._on_dataset_changed()

    @property
    def indices(self) -> np.ndarray:
        """Test-set indices of the images shown, left to right."""
        return self._indices.copy()

    def originals(self) -> np.ndarray | None:
        return None if self._originals is None else self._originals.copy()

    def reconstructions(self) -> np.ndarray | None:
        return None if self._reconstructions is None else self._reconstructions.copy()

    @Slot()
    def _on_dataset_changed(self) -> None:
        dataset = self._mirror.dataset if self._mirror is not None else None
        self._selected = -1
        if dataset is None or dataset.num_test == 0:
            self._indices = np.zeros(0, dtype=np.int64)
            self._originals = None
            self._original_images = []
        else:
            self._indices = pick_showcase_indices(dataset.test_labels.numpy(), self._count)
            pixels = dataset.test_images[self._indices].numpy().astype(np.float32) / 255.0
            self._originals = pixels[:, 0] if pixels.shape[1] == 1 else pixels.transpose(0, 2, 3, 1)
            self._original_images = [to_qimage(image) for image in self._originals]
        self.refresh_now()

    @Slot()
    def _mark_dirty(self) -> None:
        self._dirty = True
        if not self._timer.isActive():
            self._timer.start()

    @Slot()
    def _refresh_if_dirty(self) -> None:
        if self._dirty and self.isVisible():  # hidden: showEvent catches up
            self.refresh_now()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._dirty and not self._timer.isActive():
            self._timer.start()

    @Slot()
    def refresh_now(self) -> None:
        """Decode the shown test images with the mirror's current weights."""
        self._dirty = False
        mirror = self._mirror
        model = mirror.model if mirror is not None else None
        dataset = mirror.dataset if mirror is not None else None
        if model is None or dataset is None or not len(self._indices):  # the mirror refuses a mismatched pair
            self._reconstructions = None
            self._recon_images = []
        else:
            # torch is imported lazily: this module is part of the window that paints before torch loads.
            from vae_desktop.core.inference import decode_images, encode_means

            means, _ = encode_means(model, dataset.test_images[self._indices])
            self._reconstructions = decode_images(model, means)
            self._recon_images = [to_qimage(image) for image in self._reconstructions]
        self.update()

    # ---- drawing and clicks ---------------------------------------------------------------------
    def _cell_size(self) -> float:
        count = max(1, len(self._indices) or self._count)
        by_width = (self.width() - LABEL_WIDTH - PADDING - GAP * (count - 1)) / count
        by_height = (self.height() - 2 * PADDING - GAP) / 2
        return max(8.0, min(by_width, by_height))

    def _cell_rect(self, row: int, column: int) -> QRectF:
        size = self._cell_size()
        top = (self.height() - (2 * size + GAP)) / 2
        return QRectF(LABEL_WIDTH + column * (size + GAP), top + row * (size + GAP), size, size)

    def _column_at(self, x: float, y: float) -> int:
        for column in range(len(self._indices)):
            for row in (0, 1):
                if self._cell_rect(row, column).contains(x, y):
                    return column
        return -1

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().base())
        muted = self.palette().placeholderText().color()
        painter.setPen(muted)
        for row, title in enumerate(ROW_TITLES):
            rect = self._cell_rect(row, 0)
            label_rect = QRectF(PADDING, rect.top(), LABEL_WIDTH - 2 * PADDING, rect.height())
            painter.drawText(label_rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter | Qt.TextFlag.TextWordWrap, title)
        if not len(self._indices):
            _draw_wrapped(painter, QRectF(self.rect()).adjusted(LABEL_WIDTH, PADDING, -PADDING, -PADDING), NO_DATASET_TEXT)
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)  # crisp pixels
        for column in range(len(self._indices)):
            for row, images in enumerate((self._original_images, self._recon_images)):
                if row == 1 and not self._recon_images:
                    continue  # the row holds one line of text instead of empty frames
                rect = self._cell_rect(row, column)
                if column < len(images):
                    painter.drawImage(rect, images[column])
                else:
                    painter.fillRect(rect, self.palette().alternateBase())
                painter.setPen(QPen(QColor(self._theme.cell_border), 1))  # opaque: blending a translucent border costs more
                painter.drawRect(rect.adjusted(-0.5, -0.5, 0.5, 0.5))
            if column in (self._hovered, self._selected):
                outline = self._cell_rect(0, column).united(self._cell_rect(1, column)).adjusted(-3, -3, 3, 3)
                color = QColor(self._theme.accent)
                if column != self._selected:
                    color.setAlpha(110)
                painter.setPen(QPen(color, 2))
                painter.drawRoundedRect(outline, 4, 4)
        if not self._recon_images:
            painter.setPen(muted)
            _draw_wrapped(painter, self._cell_rect(1, 0).united(self._cell_rect(1, len(self._indices) - 1)), NO_MODEL_TEXT)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        column = self._column_at(event.position().x(), event.position().y())
        if column != self._hovered:
            self._hovered = column
            self.setCursor(Qt.CursorShape.PointingHandCursor if column >= 0 else Qt.CursorShape.ArrowCursor)
            self.update()

    def leaveEvent(self, event: QEvent) -> None:
        self._hovered = -1
        self.update()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        column = self._column_at(event.position().x(), event.position().y())
        if column >= 0:
            self._selected = column
            self.update()
            self.testImageSelected.emit(int(self._indices[column]))

    def cell_center(self, column: int, row: int = 0) -> tuple[int, int]:
        """Where image `column` is drawn (tests click there)."""
        center = self._cell_rect(row, column).center()
        return int(center.x()), int(center.y())


def _draw_wrapped(painter: QPainter, rect: QRectF, text: str) -> None:
    """Centred text that wraps at word boundaries, and is elided only if even that does not fit.

    One centred line was cut off at both ends whenever the strip was narrower than the text.
    """
    flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
    metrics = painter.fontMetrics()
    needed = metrics.boundingRect(rect.toRect(), int(flags), text)
    if needed.height() > rect.height() or needed.width() > rect.width():
        text = metrics.elidedText(text, Qt.TextElideMode.ElideRight, int(rect.width()))
    painter.drawText(rect, flags, text)
