"""A widget that shows one numpy image large, crisp and cheaply (the latent panel's decoded images).

Setting an image converts it to a QImage once and schedules a repaint; painting scales it with
nearest-neighbour sampling so 28×28 pixels stay visible as pixels instead of a blur.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from vae_desktop.ui.qimage import to_qimage
from vae_desktop.ui.theme import Theme, on_theme


class ImageView(QWidget):
    """Shows the last image set, scaled to fit with its aspect ratio kept; empty text before that."""

    def __init__(self, minimum: int = 64, placeholder: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._array: np.ndarray | None = None
        self._qimage: QImage | None = None
        self._placeholder = placeholder
        self._minimum = minimum
        self.setMinimumSize(minimum, minimum)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._theme = on_theme(self, self._apply_theme)

    def _apply_theme(self, theme: Theme) -> None:
        self._theme = theme
        self.update()

    def set_image(self, image: np.ndarray | None) -> None:
        self._array = None if image is None else np.asarray(image)
        self._qimage = None if image is None else to_qimage(image)
        self.update()

    def image(self) -> np.ndarray | None:
        """The float image last set (what the user sees), or None."""
        return self._array

    def sizeHint(self) -> QSize:
        return QSize(self._minimum, self._minimum)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(self._theme.image_background))
        if self._qimage is None:
            if self._placeholder:
                painter.setPen(QColor(self._theme.muted_text))
                painter.drawText(self.rect().adjusted(6, 6, -6, -6), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._placeholder)
            return
        w, h = self._qimage.width(), self._qimage.height()
        scale = min(self.width() / w, self.height() / h)
        target = QRectF(0, 0, w * scale, h * scale)
        target.moveCenter(QRectF(self.rect()).center())
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        painter.drawImage(target, self._qimage)
