"""Action icons drawn from SVG at whatever size and pixel ratio Qt asks for, in the theme's colours.

Each icon in `resources/icons/actions/` paints with `currentColor`; the engine substitutes the
current theme's text colour (or a fixed colour, e.g. white on the accent-coloured Start button)
when Qt asks for a pixmap, so icons are crisp on high-DPI screens and follow a theme switch.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PySide6.QtCore import QByteArray, QPoint, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QIcon, QIconEngine, QImage, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

from vae_desktop.app_resources import resources_dir
from vae_desktop.ui.theme import current_theme

ACTION_ICONS = ("start", "pause", "stop", "open", "save", "export", "report")


def action_icon_path(name: str) -> Path:
    if name not in ACTION_ICONS:
        raise ValueError(f"no action icon {name!r}; there are {ACTION_ICONS}")
    return resources_dir() / "icons" / "actions" / f"{name}.svg"


@cache
def _svg_source(name: str) -> str:
    return action_icon_path(name).read_text(encoding="utf-8")


class ThemedSvgIconEngine(QIconEngine):
    """Renders one SVG per request; `color` None means the theme's text colour (disabled: its grey)."""

    def __init__(self, name: str, color: str | None = None) -> None:
        super().__init__()
        self._name = name
        self._color = color

    def _colour_for(self, mode: QIcon.Mode) -> str:
        theme = current_theme()
        if mode == QIcon.Mode.Disabled:
            return theme.disabled_text
        return self._color or theme.button_text

    def render_image(self, size: QSize, mode: QIcon.Mode, scale: float = 1.0) -> QImage:
        """The icon at `size` logical pixels drawn with `scale` device pixels per logical pixel."""
        svg = _svg_source(self._name).replace("currentColor", self._colour_for(mode))
        renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
        image = QImage(max(1, round(size.width() * scale)), max(1, round(size.height() * scale)),
                       QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter, QRectF(0, 0, image.width(), image.height()))
        painter.end()
        image.setDevicePixelRatio(scale)
        return image

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode, state: QIcon.State) -> None:
        scale = painter.device().devicePixelRatioF() if painter.device() is not None else 1.0
        painter.drawImage(QPoint(rect.x(), rect.y()), self.render_image(rect.size(), mode, scale))

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        return QPixmap.fromImage(self.render_image(size, mode))

    def scaledPixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State, scale: float) -> QPixmap:
        return QPixmap.fromImage(self.render_image(size, mode, scale))

    def clone(self) -> QIconEngine:
        return ThemedSvgIconEngine(self._name, self._color)

    def key(self) -> str:
        return "vae-desktop-themed-svg"


def action_icon(name: str, color: str | None = None) -> QIcon:
    """A crisp icon for an action or button; it follows the theme unless `color` fixes it."""
    return QIcon(ThemedSvgIconEngine(name, color))
