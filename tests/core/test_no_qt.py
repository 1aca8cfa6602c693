"""The core must stay usable without a display or Qt: importing it must not pull Qt in."""

import pkgutil
import subprocess
import sys
from pathlib import Path

import vae_desktop.core

REPO = Path(__file__).resolve().parents[2]
QT_MODULES = ("PySide6", "PyQt5", "PyQt6", "shiboken6", "pyqtgraph", "qtpy")


def test_importing_every_core_module_loads_no_qt():
    names = [m.name for m in pkgutil.walk_packages(vae_desktop.core.__path__, "vae_desktop.core.")]
    assert "vae_desktop.core.trainer" in names and "vae_desktop.core.datasets.folder" in names
    code = (
        "import importlib, sys\n"
        f"for name in {names!r}: importlib.import_module(name)\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {QT_MODULES!r}))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_no_core_source_mentions_a_qt_import():
    for path in Path(vae_desktop.core.__path__[0]).rglob("*.py"):
        for line in path.read_text().splitlines():
            stripped = line.strip()
            if stripped.startswith(("import ", "from ")):
                assert not any(q in stripped for q in QT_MODULES), f"{path}: {stripped}"
