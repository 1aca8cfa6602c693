"""benchmarks/gpu_check.sh on a machine without a CUDA GPU: one clear line, a JSON line, exit 2, quickly.

A real process, as a user would start it; on a machine with a GPU there is nothing to assert here
(the script would spend minutes measuring), so the test skips.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "gpu_check.sh"


def test_bash_accepts_the_script() -> None:
    done = subprocess.run(["bash", "-n", str(SCRIPT)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA GPU is here: the script would run the whole check")
def test_without_a_gpu_it_says_so_and_exits_2_quickly() -> None:
    started = time.monotonic()
    done = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, timeout=90,
                          env={**os.environ, "PYTHON": sys.executable})
    elapsed = time.monotonic() - started
    assert done.returncode == 2, done.stdout + done.stderr
    assert elapsed < 60
    message = done.stderr.strip().splitlines()
    assert len(message) == 1 and message[0].startswith("no CUDA GPU here: "), done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1, done.stdout
    assert json.loads(lines[0])["cuda"] is False
