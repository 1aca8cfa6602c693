"""Run Python code in a child process that obeys file permission bits, even when the tests run as root.

Root reads any file because it holds CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH. Dropping both from the
bounding set before exec leaves the child root in name only for file access, so a mode-000 file is
unreadable to it as it would be to a user. Not root: the child simply runs as the same user.
"""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PR_CAPBSET_DROP = 24
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 1, 2


def _drop_file_capabilities() -> None:  # runs in the child between fork and exec
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def run_obeying_permissions(code: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run `code` with the repository importable; skips the test where permissions cannot be enforced."""
    preexec = None
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        if not sys.platform.startswith("linux"):
            pytest.skip("root elsewhere than Linux reads any file")
        preexec = _drop_file_capabilities
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen"}
    try:
        return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                              timeout=timeout, env=env, cwd=ROOT, preexec_fn=preexec)
    except subprocess.SubprocessError as exc:  # "Exception occurred in preexec_fn": the drop was refused
        if preexec is not None and "preexec_fn" in str(exc):
            pytest.skip(f"cannot drop root's file capabilities here: {exc}")
        raise
