"""Where VAE Desktop keeps user files: datasets, caches, logs. Computed on demand, never at import."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "vae-desktop"


def user_data_dir() -> Path:
    """Downloaded datasets live here (override with VAE_DESKTOP_DATA_DIR)."""
    override = os.environ.get("VAE_DESKTOP_DATA_DIR")
    return Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def user_cache_dir() -> Path:
    """Generated datasets (shapes) are cached here (override with VAE_DESKTOP_CACHE_DIR)."""
    override = os.environ.get("VAE_DESKTOP_CACHE_DIR")
    return Path(override) if override else Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def user_log_dir() -> Path:
    """The log file goes here; on Windows the GUI has no console to print to."""
    override = os.environ.get("VAE_DESKTOP_LOG_DIR")
    return Path(override) if override else Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))
