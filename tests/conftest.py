"""Test-wide settings: offscreen Qt and per-session user folders, so tests never touch real user data."""

from __future__ import annotations

import os
import tempfile


def pytest_configure(config) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    base = tempfile.mkdtemp(prefix="vae-desktop-tests-")
    os.environ["VAE_DESKTOP_DATA_DIR"] = os.path.join(base, "data")
    os.environ["VAE_DESKTOP_LOG_DIR"] = os.path.join(base, "logs")
    # The shapes cache is shared across the session (generation takes ~1 s).
    os.environ.setdefault("VAE_DESKTOP_CACHE_DIR", os.path.join(base, "cache"))
    os.environ["XDG_CONFIG_HOME"] = os.path.join(base, "config")
