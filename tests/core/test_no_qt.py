"""The core must stay usable without a display or Qt: importing it must not pull Qt in."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import vae_desktop.core

REPO = Path(__file__).resolve().parents[2]
QT_MODULES = ("PySide6", "PyQt5", "PyQt6", "shiboken6", "pyqtgraph", "qtpy", "superqt")


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


def test_the_import_contracts_hold():
    """pyproject's import-linter contracts (also run by `make lint`): core imports no ui, Qt, pyqtgraph
    or superqt, not even indirectly or inside a function; the side panels never import the main window.

    In its own process: import-linter's command configures logging for the whole process."""
    code = "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(no_cache=True))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
