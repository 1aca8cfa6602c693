"""A run trained at `--image-size 64` opens in the window, shows its dataset at 64 px and continues there."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.core.test_folder_cache import colour_folder

REPO = Path(__file__).resolve().parents[2]


def test_a_64px_folder_run_from_the_cli_continues_in_the_window(tmp_path, monkeypatch, make_window, settings, qtbot):
    folder, cache, out = colour_folder(tmp_path / "faces", 40, size=80), tmp_path / "cache", tmp_path / "run"
    monkeypatch.setenv("VAE_DESKTOP_CACHE_DIR", str(cache))
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    trained = subprocess.run(
        [sys.executable, "-m", "vae_desktop", "train", "--dataset", f"folder:{folder}", "--image-size", "64",
         "--z-dim", "2", "--base-width", "4", "--hidden", "16", "--batch-size", "16", "--epochs", "1",
         "--out", str(out)], capture_output=True, text=True, timeout=240, env=env)
    assert trained.returncode == 0, trained.stderr
    checkpoint = out / "checkpoints" / "latest.vaeckpt"

    window = make_window(settings, set_form=False)
    assert window.open_checkpoint(str(checkpoint)), window.banner.message()
    mirror = window.controller.mirror
    qtbot.waitUntil(lambda: mirror.dataset is not None, timeout=60_000)  # the folder, scaled to 64 px
    assert mirror.dataset.image_shape == (3, 64, 64)
    assert window.banner.message() == ""

    window.form.epochs.setValue(2)
    window.start_training()  # Continue
    status = window.controller
    qtbot.waitUntil(lambda: status.status.epoch == 2 and status.status.state.settled, timeout=120_000)
    assert status.status.global_step == 6  # 36 training images, batches of 16: 3 steps per epoch
    assert window.banner.message() == "Training finished: 2 epochs."
    assert mirror.dataset.image_shape == (3, 64, 64)  # trained on at its own size
