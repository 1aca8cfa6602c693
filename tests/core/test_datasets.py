import gzip
import struct
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from vae_desktop.core.datasets import load_dataset
from vae_desktop.core.datasets.idx import read_idx
from vae_desktop.core.datasets.shapes import CLASS_NAMES, load_shapes, render_shapes
from vae_desktop.core.datasets.torchvision_sets import IDX_FILES
from vae_desktop.core.errors import DatasetError

DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")


def test_shapes_default_sizes_classes_and_cache(tmp_path):
    started = time.perf_counter()
    first = load_shapes(cache_dir=tmp_path)
    generated = time.perf_counter() - started
    assert first.num_train >= 20_000 and first.num_test >= 5_000
    assert first.image_shape == (1, 28, 28)
    assert first.class_names == CLASS_NAMES and len(CLASS_NAMES) >= 3
    assert set(first.train_labels.unique().tolist()) == set(range(len(CLASS_NAMES)))
    assert generated < 30  # "a few seconds" on a normal machine; loose bound for loaded CI
    assert list(tmp_path.glob("shapes-*.npz"))
    second = load_shapes(cache_dir=tmp_path)
    assert torch.equal(first.train_images, second.train_images)


def test_shapes_are_deterministic_varied_and_anti_aliased():
    a, labels_a = render_shapes(300, seed=11)
    b, labels_b = render_shapes(300, seed=11)
    c, _ = render_shapes(300, seed=12)
    assert torch.equal(a, b) and torch.equal(labels_a, labels_b)
    assert not torch.equal(a, c)
    values = a.unique()
    assert 0 in values and 255 in values
    assert ((a > 0) & (a < 255)).sum() > 0.1 * (a > 0).sum()  # soft edges, not a binary mask
    areas = (a.float() / 255).sum(dim=(1, 2, 3))
    assert areas.min() > 10 and areas.max() / areas.min() > 3  # scale varies
    rows = (a[:, 0] > 128).float().sum(2).argmax(1)
    assert rows.float().std() > 3  # position varies


def test_a_damaged_shapes_cache_is_regenerated(tmp_path):
    load_shapes(num_train=50, num_test=10, cache_dir=tmp_path)
    cache = next(tmp_path.glob("shapes-*.npz"))
    cache.write_bytes(b"garbage")
    again = load_shapes(num_train=50, num_test=10, cache_dir=tmp_path)
    assert again.num_train == 50


def _write_idx(path: Path, array: np.ndarray) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    data = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)


def _fake_mnist_folder(folder: Path, train: int = 30, test: int = 10) -> None:
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    for key, stem in IDX_FILES.items():
        n = train if key.startswith("train") else test
        array = rng.integers(0, 256, (n, 28, 28)) if key.endswith("images") else rng.integers(0, 10, n)
        _write_idx(folder / f"{stem}.gz", array)


def test_idx_files_in_a_data_root_are_used_offline(tmp_path):
    _fake_mnist_folder(tmp_path / "MNIST" / "raw")
    dataset = load_dataset("mnist", data_root=tmp_path, download=False)
    assert dataset.num_train == 30 and dataset.num_test == 10
    assert dataset.image_shape == (1, 28, 28) and dataset.train_images.dtype == torch.uint8
    assert dataset.class_names[3] == "3"


def test_missing_files_offline_say_where_to_put_them(tmp_path):
    with pytest.raises(DatasetError) as info:
        load_dataset("kmnist", data_root=tmp_path / "empty", download=False)
    message = str(info.value)
    assert "train-images-idx3-ubyte.gz" in message and str(tmp_path / "empty") in message


def test_truncated_idx_file_is_a_clear_error(tmp_path):
    path = tmp_path / "t.idx"
    _write_idx(path, np.zeros((5, 28, 28)))
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DatasetError, match="truncated"):
        read_idx(path)


def test_unknown_dataset_lists_the_choices():
    with pytest.raises(DatasetError, match="fashion-mnist"):
        load_dataset("imagenet")


@pytest.mark.skipif(not DEBIAN_FASHION.is_dir(), reason="Debian's dataset-fashion-mnist is not installed")
def test_real_fashion_mnist_from_the_debian_package():
    images = read_idx(DEBIAN_FASHION / "t10k-images-idx3-ubyte.gz")
    labels = read_idx(DEBIAN_FASHION / "t10k-labels-idx1-ubyte.gz")
    assert images.shape == (10_000, 28, 28) and labels.shape == (10_000,)
    assert np.bincount(labels).tolist() == [1000] * 10
    dataset = load_dataset("fashion-mnist")
    assert dataset.num_train == 60_000 and dataset.num_test == 10_000
    assert dataset.class_names[9] == "Ankle boot"
    assert 60 < float(dataset.train_images.float().mean()) < 80  # real clothing, not noise


def _save(path: Path, array: np.ndarray, mode: str | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array, mode=mode).save(path) if mode else Image.fromarray(array).save(path)


def test_image_folder_with_class_subfolders_mixed_modes_and_junk(tmp_path):
    rng = np.random.default_rng(1)
    for i in range(6):
        _save(tmp_path / "cats" / f"{i}.png", rng.integers(0, 256, (40, 50, 3), dtype=np.uint8))
        _save(tmp_path / "dogs" / f"{i}.png", rng.integers(0, 256, (20, 20, 4), dtype=np.uint8))
    _save(tmp_path / "dogs" / "grey.png", rng.integers(0, 256, (33, 33), dtype=np.uint8))
    Image.fromarray(rng.integers(0, 65535, (30, 30)).astype(np.uint16)).save(tmp_path / "dogs" / "deep.png")
    (tmp_path / "dogs" / "broken.png").write_bytes(b"\x89PNG not really")
    (tmp_path / "cats" / "notes.txt").write_text("not an image")
    dataset = load_dataset(f"folder:{tmp_path}")
    assert dataset.class_names == ["cats", "dogs"]
    assert dataset.image_shape == (3, 32, 32)
    assert dataset.num_train + dataset.num_test == 14
    assert any("skipped 1 unreadable file" in note for note in dataset.notes)


def test_grey_image_folder_without_subfolders_is_28px_single_channel(tmp_path):
    for i in range(5):
        _save(tmp_path / f"{i}.png", np.full((64, 64), i * 50, dtype=np.uint8))
    dataset = load_dataset(f"folder:{tmp_path}")
    assert dataset.image_shape == (1, 28, 28)
    assert dataset.num_train == 4 and dataset.num_test == 1


def test_sixteen_bit_images_keep_their_contrast(tmp_path):
    ramp = np.linspace(0, 65535, 28 * 28).reshape(28, 28).astype(np.uint16)
    for i in range(3):
        Image.fromarray(ramp).save(tmp_path / f"{i}.png")
    dataset = load_dataset(f"folder:{tmp_path}")
    images = torch.cat([dataset.train_images, dataset.test_images])
    assert int(images.min()) < 10 and int(images.max()) > 245


@pytest.mark.parametrize("setup, match", [
    (lambda p: None, "No image files"),
    (lambda p: (p / "readme.txt").write_text("hi"), "No image files"),
    (lambda p: (p / "a.png").write_bytes(b"junk"), "could be read"),
])
def test_folders_without_usable_images_are_clear_errors(tmp_path, setup, match):
    setup(tmp_path)
    with pytest.raises(DatasetError, match=match):
        load_dataset(f"folder:{tmp_path}")


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset(f"folder:{tmp_path / 'gone'}")


def test_thousands_of_tiny_files(tmp_path):
    rng = np.random.default_rng(3)
    for i in range(2000):
        Image.fromarray(rng.integers(0, 256, (4, 4), dtype=np.uint8)).save(tmp_path / f"{i:04d}.png")
    started = time.perf_counter()
    dataset = load_dataset(f"folder:{tmp_path}")
    assert dataset.num_train + dataset.num_test == 2000
    assert time.perf_counter() - started < 60


def test_files_disappearing_while_loading_are_skipped_and_counted(tmp_path):
    from vae_desktop.core.datasets.folder import load_image_folder

    for i in range(20):
        _save(tmp_path / f"{i:02d}.png", np.full((8, 8), 10 * i, dtype=np.uint8))

    def delete_later_files(done: int, total: int) -> None:
        if done == 5:  # the user (or a sync tool) removes files mid-load
            for path in sorted(tmp_path.glob("*.png"))[10:]:
                path.unlink()

    dataset = load_image_folder(tmp_path, progress=delete_later_files)
    assert dataset.num_train + dataset.num_test == 10
    assert any("skipped 10 unreadable files" in note for note in dataset.notes)
