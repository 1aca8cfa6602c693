"""Give the running app the same name and icon as its desktop entry, so the launcher and window match.

Desktops pair a window with its menu entry by the Wayland app id (Qt's desktopFileName) or the X11
WM_CLASS (Qt's applicationName); both must equal the entry's file name and StartupWMClass.
"""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication, QIcon

from vae_desktop.app_resources import APP_ID, ICON_SIZES, icon_png, icon_svg


def app_icon() -> QIcon:
    """Every rendered size (crisp at 16 px) with the SVG as fallback for odd sizes."""
    icon = QIcon(str(icon_svg()))
    for size in ICON_SIZES:
        icon.addFile(str(icon_png(size)))
    return icon


def apply_app_identity(app: QGuiApplication) -> None:
    """Call right after creating the QApplication, before any window is shown."""
    app.setApplicationName(APP_ID)
    app.setDesktopFileName(APP_ID)
    app.setWindowIcon(app_icon())
