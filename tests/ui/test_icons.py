"""Icons are drawn from SVG at the requested pixel ratio and follow the theme."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon

from vae_desktop.ui.icons import ACTION_ICONS, action_icon
from vae_desktop.ui.theme import DARK, LIGHT, SYSTEM, theme_manager


def ink(icon: QIcon, scale: float, mode: QIcon.Mode = QIcon.Mode.Normal) -> tuple[QSize, set[str]]:
    """Pixel size and the opaque colours of the icon drawn at 16 logical pixels."""
    image = icon.pixmap(QSize(16, 16), scale, mode).toImage()
    colours = {
        image.pixelColor(x, y).name()
        for x in range(image.width()) for y in range(image.height())
        if image.pixelColor(x, y).alpha() == 255
    }
    return image.size(), colours


@pytest.mark.parametrize("name", ACTION_ICONS)
def test_icons_are_rendered_for_the_pixel_ratio_not_scaled_up(qapp, name):
    small, colours = ink(action_icon(name), 1.0)
    large, _ = ink(action_icon(name), 2.0)
    assert small == QSize(16, 16) and large == QSize(32, 32)
    assert colours, "the icon draws something"


def test_icons_take_the_theme_text_colour_and_grey_when_disabled(qapp):
    manager = theme_manager()
    try:
        manager.set_preference("light")
        assert ink(action_icon("stop"), 2.0)[1] == {LIGHT.button_text}
        manager.set_preference("dark")
        assert ink(action_icon("stop"), 2.0)[1] == {DARK.button_text}
        assert ink(action_icon("stop"), 2.0, QIcon.Mode.Disabled)[1] == {DARK.disabled_text}
        assert ink(action_icon("start", "#ffffff"), 2.0)[1] == {QColor("white").name()}
    finally:
        manager.set_preference(SYSTEM)
        QGuiApplication.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Light)
