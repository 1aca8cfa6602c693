"""The built PyInstaller bundle starts and passes its self-test with nothing from this checkout around it.

Skipped when no bundle has been built (`make bundle` builds one and then runs this file with
VAE_DESKTOP_REQUIRE_BUNDLE=1, which turns the skip into a failure).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXE_NAME = "vae-desktop.exe" if sys.platform == "win32" else "vae-desktop"
BUNDLE = Path(os.environ.get("VAE_DESKTOP_BUNDLE", REPO / "dist" / "vae-desktop"))
UNUSED_QT_LIBRARIES = ("WebEngine", "Quick", "Qml", "3D", "Multimedia", "Pdf", "Charts", "Designer")


@pytest.fixture(scope="module")
def bundle() -> Path:
    if not (BUNDLE / EXE_NAME).is_file():
        message = f"no bundle at {BUNDLE / EXE_NAME}: `make bundle` builds it and runs this test"
        if os.environ.get("VAE_DESKTOP_REQUIRE_BUNDLE") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return BUNDLE


def clean_environment(home: Path) -> dict[str, str]:
    """Only what an OS session gives a double-clicked app: no PYTHONPATH, no venv, no Qt platform hint."""
    env = {"PATH": os.defpath, "HOME": str(home), "LANG": "C.UTF-8", "TMPDIR": str(home)}
    for name in ("SYSTEMROOT", "WINDIR", "USERPROFILE", "APPDATA", "LOCALAPPDATA", "TEMP", "TMP"):
        if name in os.environ:  # Windows cannot start a process without some of these
            env[name] = os.environ[name]
    return env


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_bundle_self_test_passes_from_a_clean_environment(bundle: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    done = subprocess.run(
        [str(bundle / EXE_NAME), "--self-test"],
        cwd=cwd, env=clean_environment(home), capture_output=True, text=True, timeout=540,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"bundle self-test failed (exit {done.returncode}):\n{output}"
    assert "self-test passed" in done.stdout, output
    source_line = next(line for line in done.stdout.splitlines() if line.startswith("vae_desktop from:"))
    loaded_from = Path(source_line.split(":", 1)[1].strip())
    assert loaded_from.is_relative_to(bundle.resolve()), f"the bundle ran code from outside itself: {loaded_from}"
    if sys.platform.startswith("linux"):  # windowed builds have no console: the log file must be written
        assert (home / ".local" / "state" / "vae-desktop" / "log" / "vae-desktop.log").is_file()


def test_bundle_leaves_out_unused_qt_modules(bundle: Path) -> None:
    libraries = [p.name for p in bundle.rglob("*Qt6*")]
    assert any("Widgets" in name for name in libraries), "Qt itself is missing"
    unwanted = sorted(name for name in libraries if any(part in name for part in UNUSED_QT_LIBRARIES))
    assert not unwanted, f"unused Qt modules were bundled: {unwanted}"
