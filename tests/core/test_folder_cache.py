"""The decoded-folder cache: reused while the folder is unchanged, rebuilt when it changes or is damaged."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from vae_desktop.core.datasets.folder import load_image_folder
from vae_desktop.core.datasets.folder_cache import SUFFIX

REPO = Path(__file__).resolve().parents[2]


def colour_folder(root: Path, count: int, size: int = 64, seed: int = 0) -> Path:
    """`count` random colour PNGs in two class subfolders."""
    rng = np.random.default_rng(seed)
    for i in range(count):
        folder = root / ("a" if i % 2 else "b")
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    return root


def _cache_files(cache: Path) -> list[Path]:
    return sorted(cache.glob(f"*{SUFFIX}"))


def _load(folder: Path, cache: Path, counter: list[int] | None = None):
    def progress(done: int, total: int) -> None:
        if counter is not None:
            counter.append(done)

    return load_image_folder(folder, image_size=64, seed=3, progress=progress, cache_dir=cache)


def _same_images(a, b) -> bool:
    return torch.equal(a.train_images, b.train_images) and torch.equal(a.test_images, b.test_images) and \
        torch.equal(a.train_labels, b.train_labels)


@pytest.fixture(autouse=True)
def _info_logged(caplog):
    caplog.set_level(logging.INFO, logger="vae_desktop")


def test_the_second_start_reads_the_cache_without_decoding(tmp_path, caplog):
    folder, cache = colour_folder(tmp_path / "imgs", 12), tmp_path / "cache"
    decoded: list[int] = []
    first = _load(folder, cache, decoded)
    assert decoded[-1] == 12 and not any("cache" in note for note in first.notes)
    assert "read from the cache" not in caplog.text
    (file,) = _cache_files(cache)
    before = file.stat()

    again: list[int] = []
    second = _load(folder, cache, again)
    assert again == []  # no image was decoded
    assert f"Decoded images read from the cache {file} (12 images)" in caplog.text
    assert second.notes == first.notes  # the output says the same either way
    assert _same_images(first, second) and second.image_shape == (3, 64, 64)
    after = file.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


@pytest.mark.parametrize("change", ["add", "remove", "modify"])
def test_a_changed_folder_is_decoded_again_and_the_old_cache_removed(tmp_path, change, caplog):
    folder, cache = colour_folder(tmp_path / "imgs", 10), tmp_path / "cache"
    first = _load(folder, cache)
    (old,) = _cache_files(cache)
    if change == "add":
        colour_folder(tmp_path / "extra", 1, seed=9)
        os.replace(tmp_path / "extra" / "b" / "0.png", folder / "b" / "new.png")
    elif change == "remove":
        (folder / "a" / "1.png").unlink()
    else:
        Image.new("RGB", (64, 64), (9, 9, 9)).save(folder / "a" / "1.png")
    caplog.clear()
    decoded: list[int] = []
    second = _load(folder, cache, decoded)
    assert decoded and "read from the cache" not in caplog.text
    assert len(second.train_images) + len(second.test_images) == {"add": 11, "remove": 9, "modify": 10}[change]
    assert not old.exists() and len(_cache_files(cache)) == 1
    if change == "modify":
        assert not _same_images(first, second)


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "empty"])
def test_a_damaged_cache_is_rebuilt_not_trusted(tmp_path, damage, caplog):
    folder, cache = colour_folder(tmp_path / "imgs", 8), tmp_path / "cache"
    first = _load(folder, cache)
    (file,) = _cache_files(cache)
    data = bytearray(file.read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "flip":
        data[100] ^= 0xFF  # a pixel: only the checksum can tell
    elif damage == "garbage":
        data = bytearray(os.urandom(len(data)))
    else:
        data = bytearray()
    file.write_bytes(bytes(data))
    decoded: list[int] = []
    second = _load(folder, cache, decoded)
    assert decoded[-1] == 8 and _same_images(first, second)
    assert "Ignoring the image cache" in caplog.text
    caplog.clear()
    again: list[int] = []
    _load(folder, cache, again)
    assert again == [] and "read from the cache" in caplog.text


def test_a_cache_folder_that_cannot_be_written_only_costs_a_decode(tmp_path):
    folder = colour_folder(tmp_path / "imgs", 4)
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder should be")
    dataset = _load(folder, blocker)
    assert dataset.image_shape == (3, 64, 64)
    assert any("could not write the image cache" in note for note in dataset.notes)


_BUILDER = """
import logging, sys
logging.basicConfig(level=logging.INFO, format="%(message)s")
from vae_desktop.core.datasets.folder import load_image_folder
from pathlib import Path
d = load_image_folder(sys.argv[1], image_size=64, cache_dir=Path(sys.argv[2]))
"""


def test_two_processes_starting_together_decode_the_folder_once(tmp_path):
    folder, cache = colour_folder(tmp_path / "imgs", 200), tmp_path / "cache"
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    procs = [subprocess.Popen([sys.executable, "-c", _BUILDER, str(folder), str(cache)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env) for _ in range(2)]
    outputs = [p.communicate(timeout=240) for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    logs = [err for _, err in outputs]
    assert sum("read from the cache" in log for log in logs) == 1, logs  # the other one decoded and wrote it
    assert sum("saved to the cache" in log for log in logs) == 1, logs
    assert len(_cache_files(cache)) == 1
