"""Fixtures for following runs in the window: real `vae-desktop train` processes, real run folders."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.shape_folders import write_shape_pngs

REPO = Path(__file__).resolve().parents[3]
ENV = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}


@pytest.fixture(scope="session")
def image_folder(tmp_path_factory) -> Path:
    """200 small shape images: a `train --dataset folder:...` epoch takes a fraction of a second."""
    root = tmp_path_factory.mktemp("follow-imgs")
    return write_shape_pngs(root)


def train_args(images: Path, out: Path, epochs: int, *extra: str) -> list[str]:
    return ["train", "--dataset", f"folder:{images}", "--batch-size", "16", "--z-dim", "2", "--base-width", "8",
            "--epochs", str(epochs), "--quiet", "--out", str(out), *extra]


def start_train(images: Path, out: Path, epochs: int, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "vae_desktop", *train_args(images, out, epochs, *extra)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=ENV)


def wait_for_file(path: Path, process: subprocess.Popen | None = None, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if process is not None:
            assert process.poll() is None, f"train ended early: {process.communicate()}"
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.05)


def kill(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    process.wait(30)


@pytest.fixture
def processes():
    started: list[subprocess.Popen] = []
    yield started
    for process in started:
        kill(process)
