"""Where VAE Desktop keeps user files: datasets, caches, logs, runs. Computed on demand, never at import."""

from __future__ import annotations

import os
import re
from datetime import datetime
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


def user_runs_dir() -> Path:
    """Where the window's own runs are recorded by default (a setting may point elsewhere)."""
    return user_data_dir() / "runs"


def run_folder_name(dataset: str, z_dim: int, when: datetime | None = None) -> str:
    """`2026-12-02-mnist-z2`: the date, the dataset (an image folder by its own name) and the latent size,
    in characters every file system takes."""
    day = (when or datetime.now()).strftime("%Y-%m-%d")
    name = dataset.split(":", 1)[1] if dataset.startswith("folder:") else dataset
    name = re.split(r"[/\\]", name.rstrip("/\\"))[-1]  # a folder by its last part, on any platform
    slug = re.sub(r"[^a-z0-9._-]+", "-", name.lower()).strip("-.")[:40].strip("-.") or "run"
    return f"{day}-{slug}-z{int(z_dim)}"


def new_run_folder(root: str | os.PathLike[str], dataset: str, z_dim: int, when: datetime | None = None) -> Path:
    """Create and return a new, empty run folder under `root`: `run_folder_name`, then `-2`, `-3`, ...
    when that day already has one. Created here (not only named) so two windows starting at once
    cannot pick the same folder."""
    base = Path(root) / run_folder_name(dataset, z_dim, when)
    base.parent.mkdir(parents=True, exist_ok=True)
    for n in range(1, 10_000):
        candidate = base if n == 1 else base.with_name(f"{base.name}-{n}")
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(f"{root} already holds 9,999 runs named {base.name}; choose another runs folder.")
