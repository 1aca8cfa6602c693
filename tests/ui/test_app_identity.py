"""The app's window carries the launcher's name and icon, so a desktop pairs the two."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PySide6.QtGui import QGuiApplication, QImage

from vae_desktop.app_resources import APP_ID, desktop_entry
from vae_desktop.ui.app_identity import app_icon, apply_app_identity

REPO = Path(__file__).resolve().parents[2]


def test_identity_matches_the_desktop_entry(qapp) -> None:
    old = qapp.desktopFileName(), qapp.windowIcon()
    try:
        apply_app_identity(qapp)
        assert QGuiApplication.desktopFileName() == APP_ID == desktop_entry().stem
        assert not qapp.windowIcon().isNull()
    finally:
        qapp.setDesktopFileName(old[0])
        qapp.setWindowIcon(old[1])


def test_icon_is_sharp_at_every_menu_size(qapp) -> None:
    icon = app_icon()
    for size in (16, 22, 32, 48):
        image: QImage = icon.pixmap(size, size).toImage()
        assert image.width() == size
        centre = image.pixelColor(size // 2, size // 2)
        assert centre.alpha() == 255 and centre.red() > 200, "the amber latent dot sits in the middle"


PROBE = textwrap.dedent(
    """
    import subprocess, sys
    from vae_desktop.ui.app_identity import prepare_app_identity, apply_app_identity
    prepare_app_identity()
    from PySide6.QtWidgets import QApplication, QWidget
    app = QApplication(sys.argv[:1])
    app.setApplicationName("VAE Desktop")
    apply_app_identity(app)
    window = QWidget()
    window.show()
    app.processEvents()
    props = ["WM_CLASS", "_KDE_NET_WM_DESKTOP_FILE", "_NET_WM_ICON"]
    out = subprocess.run(["xprop", "-id", str(int(window.winId())), *props], capture_output=True, text=True)
    print(out.stdout[:400])
    """
)


@pytest.mark.skipif(not (shutil.which("xvfb-run") and shutil.which("xprop")), reason="needs xvfb-run and xprop")
def test_x11_window_names_the_desktop_entry(tmp_path: Path) -> None:
    """Under a real X server (Xvfb), WM_CLASS and the KDE desktop-file hint name our entry, and the icon is set."""
    script = tmp_path / "probe.py"
    script.write_text(PROBE)
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "QT_QPA_PLATFORM": "xcb", "HOME": str(tmp_path)}
    done = subprocess.run(
        ["xvfb-run", "-a", sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=60
    )
    if "could not load the qt platform plugin" in done.stderr.lower():  # (the needle was not lower-case: never skipped)
        pytest.skip("Qt's xcb plugin cannot load here (missing libxcb-* packages)")
    assert done.returncode == 0, done.stderr
    assert f'WM_CLASS(STRING) = "{APP_ID}", "VAE Desktop"' in done.stdout  # instance first: GNOME matches it
    assert f'_KDE_NET_WM_DESKTOP_FILE(UTF8_STRING) = "{APP_ID}"' in done.stdout
    assert "_NET_WM_ICON(CARDINAL) = " in done.stdout
