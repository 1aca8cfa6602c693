"""Datasets from hostile or clumsy folders: pipes, sockets, devices, links, loops, 1,200-deep trees, NaN
pixels, decompression bombs, empty and unreadable files, corrupt IDX and CIFAR files. Each gives a
dataset with a counted note, or one clear DatasetError naming the file; none hangs, recurses to death
or prints warnings."""

from __future__ import annotations

import gzip
import os
import shutil
import struct
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.helpers_hostile_files import (
    deep_folder,
    make_fifo,
    nan_tiff,
    png_claiming_size,
    release_fifo_readers,
    remove_deep_folder,
    save_grey,
    unix_socket,
)
from tests.unprivileged import run_obeying_permissions
from vae_desktop.core.datasets import load_dataset, torchvision_sets
from vae_desktop.core.datasets.folder import load_image_folder
from vae_desktop.core.datasets.idx import read_idx
from vae_desktop.core.datasets.torchvision_sets import IDX_FILES, load_torchvision_set
from vae_desktop.core.errors import ConfigError, DatasetError

posix_only = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes and sockets are POSIX")


def load_within(seconds: float, fn, *args, **kwargs):
    """Run `fn` in a thread; fail (instead of hanging the suite) when it takes longer than `seconds`."""
    outcome: dict = {}

    def work() -> None:
        try:
            outcome["value"] = fn(*args, **kwargs)
        except BaseException as exc:  # handed to the test
            outcome["error"] = exc

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"{fn.__name__} still running after {seconds} s: it hangs"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


# ---- non-regular files -------------------------------------------------------------------------------

@posix_only
def test_pipes_sockets_devices_and_broken_links_named_like_images_are_skipped_not_opened(tmp_path):
    root = tmp_path / "pictures"
    for i in range(3):
        save_grey(root / "cats" / f"{i}.png", 40 * i)
        save_grey(root / f"top{i}.png", 50 + 40 * i)
    pipes = [make_fifo(root / "cats" / "deeper" / "pipe.png"), make_fifo(root / "top-pipe.png")]
    (root / "cats" / "zero.png").symlink_to("/dev/zero")  # a device: reading it never ends
    (root / "cats" / "to-pipe.png").symlink_to(pipes[0])
    (root / "cats" / "broken.png").symlink_to(root / "nowhere.png")
    try:
        with unix_socket(root / "cats" / "s.png"):
            dataset = load_within(60, load_image_folder, root)
    finally:
        for pipe in pipes:
            release_fifo_readers(pipe)
    assert dataset.num_train + dataset.num_test == 6
    assert dataset.class_names == ["pictures", "cats"]
    assert "skipped 6 entries that are not regular files (pipes, devices, sockets or broken links)" in dataset.notes


# ---- deep trees and link loops --------------------------------------------------------------------------

@pytest.fixture
def deep_root(tmp_path):
    root = tmp_path / "deep"
    yield root
    remove_deep_folder(root)


def test_twelve_hundred_nested_subfolders_load_without_recursion_error(deep_root):
    root = deep_root
    save_grey(root / "top.png", 10)
    bottom = deep_folder(root / "nested", 1200)
    save_grey(bottom / "bottom.png", 200)
    save_grey(root / "nested" / "d" / "shallow.png", 100)
    dataset = load_image_folder(root)
    assert dataset.class_names == ["deep", "nested"]
    assert dataset.num_train + dataset.num_test == 3
    values = sorted(int(img.float().mean()) for img in (*dataset.train_images, *dataset.test_images))
    assert values == [10, 100, 200]  # the image 1,200 folders down was read


def test_link_loops_end_and_linked_folders_are_read_once(tmp_path):
    root = tmp_path / "photos"
    for i in range(2):
        save_grey(root / f"{i}.png", 20 + i)
        save_grey(root / "dogs" / f"{i}.png", 60 + i)
    outside = tmp_path / "elsewhere"
    save_grey(outside / "linked.png", 120)
    (root / "dogs" / "loop").symlink_to("..")  # dogs/loop -> photos: would recurse forever if followed blindly
    (root / "dogs" / "self").symlink_to(".")
    (root / "dogs" / "outside").symlink_to(outside)  # a linked folder of images is read, once
    (root / "dogs" / "outside-again").symlink_to(outside)
    (root / "back-to-root").symlink_to(".")
    dataset = load_within(60, load_image_folder, root)
    assert dataset.class_names == ["photos", "dogs"]
    assert dataset.num_train + dataset.num_test == 5


# ---- how many images a folder needs ------------------------------------------------------------------

def test_a_one_image_folder_is_refused_because_its_test_set_would_be_its_training_set(tmp_path):
    save_grey(tmp_path / "only.png")
    (tmp_path / "broken.png").write_bytes(b"junk")
    with pytest.raises(DatasetError) as info:
        load_dataset(f"folder:{tmp_path}")
    assert str(info.value) == (f"Only 1 image in {tmp_path} could be used (skipped 1 unreadable file); an image "
                               "folder needs at least 2: some to train on and at least one other to test with.")


def test_two_images_split_into_one_to_train_and_one_to_test_and_the_notes_say_so(tmp_path):
    save_grey(tmp_path / "a.png", 10)
    save_grey(tmp_path / "b.png", 250)
    dataset = load_dataset(f"folder:{tmp_path}")
    assert dataset.num_train == 1 and dataset.num_test == 1
    assert not np.array_equal(dataset.train_images[0].numpy(), dataset.test_images[0].numpy())
    assert dataset.notes[0] == f"2 images from {tmp_path} (1 to train on, 1 to test with)"


@pytest.mark.parametrize("name", ["folder:", "folder:   "])
def test_an_empty_folder_name_is_refused_instead_of_reading_the_current_folder(tmp_path, monkeypatch, name):
    save_grey(tmp_path / "a.png")
    save_grey(tmp_path / "b.png")
    monkeypatch.chdir(tmp_path)  # on main, "folder:" trained on whatever is here
    with pytest.raises(DatasetError, match="folder: needs a folder after the colon"):
        load_dataset(name)


# ---- pixels no image can be made of ---------------------------------------------------------------------

def test_a_nan_tiff_is_skipped_with_a_counted_note_and_no_warning(tmp_path, capfd):
    for i in range(3):
        save_grey(tmp_path / f"{i}.png", 60 * i)
    nan_tiff(tmp_path / "nan.tiff")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning escaping from numpy would fail here
        dataset = load_image_folder(tmp_path)
    assert dataset.num_train + dataset.num_test == 3
    assert "skipped 1 file with invalid pixels (NaN or infinity)" in dataset.notes
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""


def test_decompression_bombs_are_skipped_as_too_large_and_large_headers_print_no_warning(tmp_path, capfd):
    for i in range(2):
        save_grey(tmp_path / f"{i}.png", 90 * i)
    png_claiming_size(tmp_path / "bomb.png", 20_000, 10_000)  # 200 M pixels: Pillow refuses it
    png_claiming_size(tmp_path / "big.png", 10_000, 10_000)  # 100 M: Pillow warns, then its data is missing
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dataset = load_within(120, load_image_folder, tmp_path)
    assert dataset.num_train + dataset.num_test == 2
    assert "skipped 1 image too large to decode safely" in dataset.notes
    assert "skipped 1 unreadable file" in dataset.notes
    assert capfd.readouterr().err == ""


def test_zero_byte_files_are_counted_as_unreadable(tmp_path):
    for i in range(2):
        save_grey(tmp_path / f"{i}.png", 90 * i)
    (tmp_path / "empty.png").touch()
    (tmp_path / "empty.jpg").touch()
    dataset = load_image_folder(tmp_path)
    assert dataset.num_train + dataset.num_test == 2 and "skipped 2 unreadable files" in dataset.notes


# ---- permissions ------------------------------------------------------------------------------------------

def test_files_and_folders_without_permission_are_counted_and_an_unreadable_root_is_one_message(tmp_path):
    """In a child process that obeys permission bits (root included: see tests/unprivileged.py)."""
    root = tmp_path / "pictures"
    for i in range(3):
        save_grey(root / "ok" / f"{i}.png", 50 * i)
    save_grey(root / "ok" / "locked.png").chmod(0)
    save_grey(root / "closed" / "x.png")
    (root / "closed").chmod(0)
    save_grey(root / "ok" / "sub" / "y.png")
    (root / "ok" / "sub").chmod(0o300)  # may enter, may not list
    shut = tmp_path / "shut"
    save_grey(shut / "a.png")
    save_grey(shut / "b.png")
    shut.chmod(0)
    try:
        result = run_obeying_permissions(f"""
            import json
            from vae_desktop.core.datasets import load_dataset
            from vae_desktop.core.errors import DatasetError
            dataset = load_dataset("folder:{root}")
            try:
                load_dataset("folder:{shut}")
                refused = None
            except DatasetError as exc:
                refused = str(exc)
            try:
                load_dataset("folder:{shut / 'inner'}")
                inner = None
            except DatasetError as exc:
                inner = str(exc)
            print(json.dumps({{"count": dataset.num_train + dataset.num_test, "notes": dataset.notes,
                              "classes": dataset.class_names, "refused": refused, "inner": inner}}))
        """)
    finally:
        for path in (root / "closed", root / "ok" / "sub", shut):
            path.chmod(0o755)
    assert result.returncode == 0, result.stderr[-3000:]
    import json

    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["count"] == 3 and outcome["classes"] == ["ok"]
    assert "skipped 1 file without read permission" in outcome["notes"]
    assert "skipped 2 subfolders that could not be listed" in outcome["notes"]
    assert outcome["refused"] == f"No permission to read the image folder {shut}."
    assert outcome["inner"] == f"No permission to read the image folder {shut / 'inner'}."


# ---- IDX files --------------------------------------------------------------------------------------------

def _idx_bytes(array: np.ndarray, code: int = 0x08) -> bytes:
    dtype = {0x08: np.uint8, 0x0D: ">f4", 0x0C: ">i4"}[code]
    return bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + array.astype(dtype).tobytes()


def _mnist_folder(folder: Path, image_code: int = 0x08, labels: np.ndarray | None = None) -> None:
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    for key, stem in IDX_FILES.items():
        n = 30 if key.startswith("train") else 10
        if key.endswith("images"):
            data = _idx_bytes(rng.integers(0, 256, (n, 28, 28)), image_code)
        else:
            data = _idx_bytes(rng.integers(0, 10, n) if labels is None else labels[:n])
        (folder / f"{stem}.gz").write_bytes(gzip.compress(data))


def test_a_corrupt_gzip_stream_names_the_file_and_the_damage(tmp_path):
    _mnist_folder(tmp_path)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    data = bytearray(path.read_bytes())
    data[10] ^= 0xFF  # the first deflate block header, after gzip's 10-byte header: zlib.error on main
    path.write_bytes(bytes(data))
    with pytest.raises(DatasetError) as info:
        load_dataset("mnist", data_root=tmp_path, download=False)
    message = str(info.value)
    assert str(path) in message and "gzip data is corrupt" in message


def test_a_cut_gzip_file_and_a_gz_that_is_not_gzip_are_clear_errors(tmp_path):
    _mnist_folder(tmp_path)
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(DatasetError, match="corrupt or cut short"):
        read_idx(path)
    path.write_bytes(b"plain text, not gzip")
    with pytest.raises(DatasetError, match="not a gzip file"):
        read_idx(path)


def test_idx_images_of_another_type_than_bytes_name_the_file(tmp_path):
    _mnist_folder(tmp_path, image_code=0x0D)  # float32 images: a valid IDX file, not MNIST images
    with pytest.raises(DatasetError) as info:
        load_dataset("mnist", data_root=tmp_path, download=False)
    message = str(info.value)
    assert str(tmp_path / "train-images-idx3-ubyte.gz") in message and "float32" in message


def test_idx_labels_outside_the_classes_are_refused(tmp_path):
    _mnist_folder(tmp_path, labels=np.full(30, 12))
    with pytest.raises(DatasetError, match="labels are not class numbers 0 to 9"):
        load_dataset("kmnist", data_root=tmp_path, download=False)


def test_empty_idx_files_say_they_are_empty(tmp_path):
    (tmp_path / "t10k-labels-idx1-ubyte").touch()
    with pytest.raises(DatasetError, match="t10k-labels-idx1-ubyte is empty"):
        read_idx(tmp_path / "t10k-labels-idx1-ubyte")
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b""))
    with pytest.raises(DatasetError, match="t10k-labels-idx1-ubyte.gz is empty"):
        read_idx(tmp_path / "t10k-labels-idx1-ubyte.gz")


def test_an_idx_header_claiming_terabytes_is_refused_without_allocating_them(tmp_path):
    path = tmp_path / "huge-idx3-ubyte"
    path.write_bytes(bytes([0, 0, 0x08, 3]) + struct.pack(">3I", 4_000_000_000, 60_000, 60_000) + bytes(100))
    started = time.perf_counter()
    with pytest.raises(DatasetError, match="header claims"):
        read_idx(path)
    assert time.perf_counter() - started < 5


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_an_idx_or_cifar_file_that_is_a_pipe_is_refused_not_opened(tmp_path):
    pipe = make_fifo(tmp_path / "t10k-labels-idx1-ubyte")
    try:
        with pytest.raises(DatasetError, match="it is a named pipe"):
            load_within(30, read_idx, pipe)
    finally:
        release_fifo_readers(pipe)
    cifar = _cifar_folder(tmp_path / "c")
    (cifar / "data_batch_3").unlink()
    make_fifo(cifar / "data_batch_3")
    try:
        with pytest.raises(DatasetError, match="data_batch_3 is a named pipe, not a CIFAR-10 batch file"):
            load_within(30, load_torchvision_set, "cifar10", tmp_path / "c", download=False, search_system=False)
    finally:
        release_fifo_readers(cifar / "data_batch_3")


# ---- CIFAR-10 batches -------------------------------------------------------------------------------------

def _cifar_folder(root: Path, labels: object | None = None) -> Path:
    import pickle

    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in (*(f"data_batch_{i}" for i in range(1, 6)), "test_batch"):
        batch = {"data": rng.integers(0, 256, (4, 3072), dtype=np.uint8),
                 "labels": [1, 2, 3, 4] if labels is None else labels}
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": ["a"] * 10}, protocol=2))
    return folder


@pytest.mark.parametrize("labels, match", [
    ([-1, 2, 3, 4], "labels do not match"),
    ([[1, 2], [3], 4, 5], "labels are not a list of numbers"),  # ValueError from numpy on main
])
def test_cifar_batches_with_impossible_labels_are_damaged(tmp_path, labels, match):
    _cifar_folder(tmp_path, labels)
    with pytest.raises(DatasetError, match=match):
        load_torchvision_set("cifar10", tmp_path, download=False, search_system=False)


def test_an_empty_cifar_batch_says_it_is_empty(tmp_path):
    folder = _cifar_folder(tmp_path)
    (folder / "test_batch").write_bytes(b"")
    with pytest.raises(DatasetError, match="test_batch is empty"):
        load_torchvision_set("cifar10", tmp_path, download=False, search_system=False)


def test_unreadable_cifar_batches_and_data_roots_say_permission_not_damage(tmp_path):
    folder = _cifar_folder(tmp_path / "cifar")
    (folder / "data_batch_2").chmod(0)
    _mnist_folder(tmp_path / "mnist" / "MNIST" / "raw")
    (tmp_path / "mnist" / "MNIST").chmod(0)
    try:
        result = run_obeying_permissions(f"""
            from pathlib import Path
            from vae_desktop.core.datasets.torchvision_sets import load_torchvision_set
            from vae_desktop.core.errors import DatasetError
            for name, root in (("cifar10", {str(tmp_path / "cifar")!r}), ("mnist", {str(tmp_path / "mnist")!r})):
                try:
                    load_torchvision_set(name, Path(root), download=False, search_system=False)
                except DatasetError as exc:
                    print(exc)
        """)
    finally:
        (tmp_path / "mnist" / "MNIST").chmod(0o755)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    assert lines == [f"No permission to read {folder / 'data_batch_2'}.",
                     f"No permission to look for dataset files in {tmp_path / 'mnist' / 'MNIST' / 'raw'}."]


# ---- download staging ---------------------------------------------------------------------------------------

def test_a_download_target_that_cannot_be_created_is_one_clear_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("in the way")
    with pytest.raises(DatasetError) as info:
        load_torchvision_set("kmnist", blocker / "data", download=True, search_system=False)
    assert str(info.value).startswith(f"Cannot download kmnist into {blocker / 'data'}: Not a directory.")


def test_stale_download_staging_folders_are_removed_and_a_live_one_is_kept(tmp_path, monkeypatch):
    import socket

    from vae_desktop.core.datasets.torchvision_sets import MIRROR_ENV

    with socket.socket() as probe:  # a port nobody listens on: the download fails at once, offline
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv(MIRROR_ENV, f"http://127.0.0.1:{port}/")
    stale = tmp_path / ".kmnist-download-killed" / "KMNIST" / "raw"
    stale.mkdir(parents=True)
    (stale / "train-images-idx3-ubyte.gz").write_bytes(os.urandom(1000))
    old = time.time() - getattr(torchvision_sets, "STALE_STAGING_S", 600) - 60
    for path in (stale / "train-images-idx3-ubyte.gz", stale, stale.parent, stale.parent.parent):
        os.utime(path, (old, old))
    live = tmp_path / ".kmnist-download-live"
    live.mkdir()
    other = tmp_path / ".mnist-download-old"  # another dataset's: not ours to judge
    other.mkdir()
    os.utime(other, (old, old))
    with pytest.raises(DatasetError, match="Could not download kmnist"):
        load_torchvision_set("kmnist", tmp_path, download=True, search_system=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".kmnist-download-live", ".mnist-download-old"]
    shutil.rmtree(live)


# ---- devices --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["quantum", "meta", "", "cuda:abc", "cuda:", "CPU", " cpu"])
def test_one_device_rule_for_train_and_evaluate(name):
    from vae_desktop.core.config import TrainConfig
    from vae_desktop.core.device import pick_device

    with pytest.raises(ConfigError, match="Unknown device"):
        pick_device(name)
    with pytest.raises(ConfigError, match="Unknown device"):
        TrainConfig(device=name)


# ---- the shapes cache -------------------------------------------------------------------------------------

def _shapes_cache(tmp_path: Path) -> Path:
    from vae_desktop.core.datasets.shapes import load_shapes

    load_shapes(num_train=50, num_test=10, cache_dir=tmp_path)
    return next(tmp_path.glob("shapes-*.npz"))


def _damage_cache(kind: str, cache: Path) -> None:
    good = cache.read_bytes()
    cache.unlink()
    if kind == "truncated zip":  # zipfile.BadZipFile on main
        cache.write_bytes(good[: len(good) // 2])
    elif kind == "float images":  # ValueError from ImageDataset on main
        np.savez(cache, images=np.zeros((60, 1, 28, 28), np.float32), labels=np.zeros(60, np.int64))
    elif kind == "too few images":
        np.savez(cache, images=np.zeros((30, 1, 28, 28), np.uint8), labels=np.zeros(60, np.int64))
    elif kind == "labels out of range":
        np.savez(cache, images=np.zeros((60, 1, 28, 28), np.uint8), labels=np.full(60, 7, np.int64))
    elif kind == "a pipe":  # np.load blocked on it forever on main
        make_fifo(cache)
    elif kind == "empty":
        cache.touch()


@pytest.mark.parametrize("kind", ["truncated zip", "float images", "too few images", "labels out of range",
                                  "empty", pytest.param("a pipe", marks=posix_only)])
def test_a_damaged_or_foreign_shapes_cache_is_regenerated(tmp_path, kind):
    from vae_desktop.core.datasets.shapes import load_shapes

    cache = _shapes_cache(tmp_path)
    expected = load_shapes(num_train=50, num_test=10, cache_dir=tmp_path)
    _damage_cache(kind, cache)
    try:
        again = load_within(60, load_shapes, num_train=50, num_test=10, cache_dir=tmp_path)
    finally:
        if kind == "a pipe":
            release_fifo_readers(cache)
    assert torch.equal(again.train_images, expected.train_images)
    assert torch.equal(again.test_labels, expected.test_labels)
    assert load_shapes(num_train=50, num_test=10, cache_dir=tmp_path).num_train == 50  # and the cache works again
