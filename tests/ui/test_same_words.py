"""The window and `vae-desktop train` refuse the same bad values with the same words (README)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ui.test_bad_input import type_into

REPO = Path(__file__).resolve().parents[2]
BAD_VALUES = [  # form field, CLI flag, typed text
    ("lr", "--lr", "fast"),
    ("lr", "--lr", "-1"),
    ("lr", "--lr", "nan"),
    ("beta", "--beta", "-1"),
    ("beta", "--beta", "lots"),
    ("epochs", "--epochs", "0"),
    ("batch_size", "--batch-size", "0"),
    ("z_dim", "--z-dim", "0"),
    ("seed", "--seed", ""),
    ("lr", "--lr", ""),
]


def cli_message(flag: str, text: str, tmp_path: Path) -> str:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-m", "vae_desktop", "train", f"{flag}={text}", "--out", str(tmp_path)],
                            capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize("field, flag, text", BAD_VALUES)
def test_the_form_and_the_cli_refuse_a_bad_value_in_the_same_words(qtbot, window, tmp_path, field, flag, text):
    qtbot.waitUntil(window.start_button.isEnabled, timeout=5000)
    type_into(getattr(window.form, field), text)
    shown = window.form.error.text()
    assert shown and not window.start_button.isEnabled()
    printed = cli_message(flag, text, tmp_path / "out")
    # The CLI adds only where it came from: "vae-desktop train: error: argument --lr: <the form's words> (see --help)"
    assert printed == f"vae-desktop train: error: argument {flag}: {shown} (see --help)"
