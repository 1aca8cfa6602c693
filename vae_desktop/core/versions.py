"""The versions an About box or a bug report needs: the app, Python and the libraries doing the work.

No Qt import here: the Qt runtime version is added by the caller that has Qt loaded. Versions come
from the installed package metadata, so asking never imports torch (two seconds) just to read one.
"""

from __future__ import annotations

import importlib.metadata
import platform
import sys

from vae_desktop import __version__

# (shown name, distribution names to try: the first one installed wins)
LIBRARIES = (
    ("PyTorch", ("torch",)),
    ("pyqtgraph", ("pyqtgraph",)),
    ("PySide6", ("PySide6-Essentials", "PySide6")),
    ("NumPy", ("numpy",)),
    ("Pillow", ("pillow", "Pillow")),
)


def distribution_version(names: tuple[str, ...]) -> str:
    """The installed version of the first distribution found, or 'not installed'."""
    for name in names:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return "not installed"


def software_versions(extra: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """[(name, version), ...]: VAE Desktop, Python, the libraries, then `extra` (e.g. the Qt runtime)."""
    rows = [
        ("VAE Desktop", __version__),
        ("Python", f"{platform.python_version()} ({platform.python_implementation()})"),
    ]
    torch = sys.modules.get("torch")  # a bundle may carry no metadata; an imported torch knows its version
    for shown, names in LIBRARIES:
        version = distribution_version(names)
        if shown == "PyTorch" and torch is not None:
            version = str(getattr(torch, "__version__", version))
        rows.append((shown, version))
    rows.extend((extra or {}).items())
    rows.append(("System", f"{platform.system()} {platform.release()} ({platform.machine()})"))
    return rows


def recorded_versions() -> dict[str, str]:
    """The versions a run folder's run.json records: the app, torch (the one loaded, else the installed
    one, without importing it) and Python."""
    torch = sys.modules.get("torch")
    torch_version = str(getattr(torch, "__version__", "")) if torch is not None else distribution_version(("torch",))
    return {"vae_desktop": __version__, "torch": torch_version, "python": platform.python_version()}


def versions_text(rows: list[tuple[str, str]], device: str | None = None) -> str:
    """Plain text for the clipboard (a bug report): one 'name: version' per line."""
    lines = [f"{name}: {version}" for name, version in rows]
    if device:
        lines.append(f"Device: {device}")
    return "\n".join(lines)
