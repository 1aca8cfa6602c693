"""Where the app's run-time resources live: icon, desktop entry, MIME type declaration.

They ship inside the package (`vae_desktop/resources/`, package-data in pyproject.toml) so a pip
install, an editable checkout and the PyInstaller bundle all find them next to this module. No Qt
here: the launcher installer uses these paths without a GUI.
"""

from __future__ import annotations

from pathlib import Path

APP_ID = "vae-desktop"  # desktop file name, icon name, WM_CLASS and Qt application name: all must agree
APP_NAME = "VAE Desktop"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)  # the hicolor sizes desktops look up
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)  # the .ico format stops at 256


def resources_dir() -> Path:
    return Path(__file__).resolve().parent / "resources"


def icon_svg() -> Path:
    """The icon source; every PNG and the .ico are rendered from it."""
    return resources_dir() / "vae-desktop.svg"


def icon_png(size: int) -> Path:
    if size not in ICON_SIZES:
        raise ValueError(f"no {size}px icon; sizes are {ICON_SIZES}")
    return resources_dir() / "icons" / f"{APP_ID}-{size}.png"


def icon_ico() -> Path:
    return resources_dir() / "icons" / f"{APP_ID}.ico"


def desktop_entry() -> Path:
    """A valid freedesktop entry; the launcher installer rewrites its Exec line for this install."""
    return resources_dir() / f"{APP_ID}.desktop"


def mime_package() -> Path:
    """shared-mime-info XML declaring the checkpoint type (`*.vaeckpt`)."""
    return resources_dir() / f"{APP_ID}-mime.xml"
