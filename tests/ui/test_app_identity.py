"""The app's window icon and desktop file name match the installed launcher."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication, QImage

from vae_desktop.app_resources import APP_ID, desktop_entry
from vae_desktop.ui.app_identity import app_icon, apply_app_identity


def test_identity_matches_the_desktop_entry(qapp) -> None:  # noqa: ANN001
    old = qapp.applicationName(), qapp.desktopFileName(), qapp.windowIcon()
    try:
        apply_app_identity(qapp)
        assert QGuiApplication.desktopFileName() == APP_ID == desktop_entry().stem
        assert qapp.applicationName() == APP_ID  # X11 WM_CLASS, matched against StartupWMClass
        assert not qapp.windowIcon().isNull()
    finally:
        qapp.setApplicationName(old[0])
        qapp.setDesktopFileName(old[1])
        qapp.setWindowIcon(old[2])


def test_icon_is_sharp_at_every_menu_size(qapp) -> None:  # noqa: ANN001
    icon = app_icon()
    for size in (16, 22, 32, 48):
        image: QImage = icon.pixmap(size, size).toImage()
        assert image.width() == size
        centre = image.pixelColor(size // 2, size // 2)
        assert centre.alpha() == 255 and centre.red() > 200, "the amber latent dot sits in the middle"
