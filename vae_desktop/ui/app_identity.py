"""Give the running app the same name and icon as its desktop entry, so the launcher and window match.

Desktops pair a window with its menu entry by the Wayland app id (Qt's desktopFileName) or, on X11,
by WM_CLASS: GNOME compares the entry's StartupWMClass with the WM_CLASS instance name first, which
Qt takes from $RESOURCE_NAME or else the executable's name ("python" when run as `python -m`).
The Qt application name is left alone: it places QSettings.
"""

from __future__ import annotations

import os

from PySide6.QtGui import QGuiApplication, QIcon

from vae_desktop.app_resources import APP_ID, ICON_SIZES, icon_png, icon_svg


def prepare_app_identity() -> None:
    """Call before the QApplication exists: Qt reads the X11 instance name when it connects."""
    os.environ.setdefault("RESOURCE_NAME", APP_ID)


def app_icon() -> QIcon:
    """Every rendered size (crisp at 16 px) with the SVG as fallback for odd sizes."""
    icon = QIcon(str(icon_svg()))
    for size in ICON_SIZES:
        icon.addFile(str(icon_png(size)))
    return icon


def apply_app_identity(app: QGuiApplication) -> None:
    """Call right after creating the QApplication, before any window is shown."""
    app.setDesktopFileName(APP_ID)
    app.setWindowIcon(app_icon())
