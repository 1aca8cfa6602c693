"""The About box's version list: every library named, real versions, the device in the text."""

from __future__ import annotations

import importlib.metadata
import platform
import sys

from vae_desktop import __version__
from vae_desktop.core.versions import distribution_version, software_versions, versions_text


def test_versions_name_the_app_python_and_the_libraries_with_installed_versions():
    rows = dict(software_versions({"Qt": "6.9.9"}))
    assert rows["VAE Desktop"] == __version__
    assert rows["Python"].startswith(platform.python_version())
    torch = sys.modules.get("torch")  # once imported, torch's own version string (with its build tag) wins
    assert rows["PyTorch"] == (torch.__version__ if torch is not None else importlib.metadata.version("torch"))
    assert rows["pyqtgraph"] == importlib.metadata.version("pyqtgraph")
    assert rows["NumPy"] == importlib.metadata.version("numpy")
    assert rows["Qt"] == "6.9.9"
    assert "System" in rows


def test_a_missing_library_reads_not_installed():
    assert distribution_version(("no-such-distribution-xyz",)) == "not installed"


def test_the_clipboard_text_has_one_line_per_version_and_the_device():
    rows = [("VAE Desktop", "1.2.3"), ("Python", "3.11.9")]
    assert versions_text(rows, "CUDA (RTX 4090)") == "VAE Desktop: 1.2.3\nPython: 3.11.9\nDevice: CUDA (RTX 4090)"
