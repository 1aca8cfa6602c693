"""`vae-desktop train --image-size 64/128` on a colour folder, as a user runs it: the cache across starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PIL import Image

from tests.core.test_folder_cache import colour_folder
from vae_desktop.core.checkpoint import load_checkpoint
from vae_desktop.core.datasets.folder_cache import SUFFIX

REPO = Path(__file__).resolve().parents[2]
TINY = ["--z-dim", "2", "--base-width", "4", "--hidden", "16", "--batch-size", "16", "--epochs", "1"]


def _train(cache: Path, *args: str) -> subprocess.CompletedProcess:
    """`train` with its own cache folder."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", "VAE_DESKTOP_CACHE_DIR": str(cache)}
    return subprocess.run([sys.executable, "-m", "vae_desktop", "train", *args], capture_output=True, text=True,
                          timeout=240, env=env)


def test_a_64px_colour_folder_trains_and_its_cache_is_reused_then_rebuilt(tmp_path):
    folder, cache = colour_folder(tmp_path / "faces", 40), tmp_path / "cache"
    common = ["--dataset", f"folder:{folder}", "--image-size", "64", *TINY]
    first = _train(cache, *common, "--out", str(tmp_path / "one"))
    assert first.returncode == 0, first.stderr
    assert "Decoding images" in first.stderr and "Trained to epoch 1" in first.stdout  # the progress bar
    ckpt = load_checkpoint(tmp_path / "one" / "checkpoints" / "latest.vaeckpt")
    assert ckpt.image_size == 64 and ckpt.model_config.image_shape == (3, 64, 64)
    assert (ckpt.model_config.base_width, ckpt.model_config.hidden) == (4, 16)
    (cached,) = (cache / "folders").glob(f"*{SUFFIX}")
    before = cached.stat()

    second = _train(cache, *common, "--out", str(tmp_path / "two"))
    assert second.returncode == 0, second.stderr
    assert "Decoding images" not in second.stderr  # the bar appears at the first decoded image: none was
    assert "(36 train / 4 test images)" in second.stderr and "cache" not in second.stderr
    after = cached.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)

    resumed = _train(cache, "--resume", str(tmp_path / "one"), "--epochs", "2")
    assert resumed.returncode == 0, resumed.stderr  # the checkpoint's image size is used again
    assert "Decoding images" not in resumed.stderr

    Image.new("RGB", (80, 60), (1, 2, 3)).save(folder / "a" / "1.png")
    third = _train(cache, *common, "--out", str(tmp_path / "three"))
    assert third.returncode == 0, third.stderr
    assert "Decoding images" in third.stderr and not cached.exists()
    assert len(list((cache / "folders").glob(f"*{SUFFIX}"))) == 1


def test_128px_trains_and_a_resume_at_another_size_is_one_line(tmp_path):
    folder, cache = colour_folder(tmp_path / "imgs", 20, size=150), tmp_path / "cache"
    out = tmp_path / "run"
    trained = _train(cache, "--dataset", f"folder:{folder}", "--image-size", "128", *TINY, "--out", str(out))
    assert trained.returncode == 0, trained.stderr
    assert load_checkpoint(out / "checkpoints" / "latest.vaeckpt").model_config.image_shape == (3, 128, 128)
    refused = _train(cache, "--resume", str(out), "--image-size", "64", "--epochs", "2")
    assert refused.returncode != 0 and "Traceback" not in refused.stderr
    assert "--image-size 64 differs from the checkpoint's image size 128" in refused.stderr
    assert "hidden" in _train(cache, "--help").stdout
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", "VAE_DESKTOP_CACHE_DIR": str(cache)}
    evaluated = subprocess.run([sys.executable, "-m", "vae_desktop", "evaluate", str(out)],
                               capture_output=True, text=True, timeout=240, env=env)
    assert evaluated.returncode == 0, evaluated.stderr  # reads the folder at the checkpoint's 128×128
