"""The installed commands: `vae-desktop` is a console script (so `vae-desktop train` prints on Windows),
`vae-desktop-gui` the windowless one that menus, shortcuts and the launcher start."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import pytest

from vae_desktop.app_resources import APP_ID


def _entry_points(group: str) -> dict[str, str]:
    try:
        dist = importlib.metadata.distribution(APP_ID)
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("vae-desktop is not installed (running from a source tree only)")
    return {ep.name: ep.value for ep in dist.entry_points if ep.group == group}


def test_the_command_line_has_a_console_and_the_gui_entry_has_none():
    assert _entry_points("console_scripts") == {APP_ID: "vae_desktop.cli:main"}
    assert _entry_points("gui_scripts") == {f"{APP_ID}-gui": "vae_desktop.cli:main"}


def test_the_installed_console_script_prints_the_train_help():
    script = Path(sys.executable).with_name(APP_ID + (".exe" if sys.platform == "win32" else ""))
    if not script.is_file():
        pytest.skip(f"no {script.name} beside {sys.executable}")
    done = subprocess.run([str(script), "train", "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "--out" in done.stdout and "--resume" in done.stdout
