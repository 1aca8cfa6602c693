"""CIFAR-10's python batches are read by an unpickler that rebuilds arrays and nothing else."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from vae_desktop.core.datasets import cifar
from vae_desktop.core.datasets.torchvision_sets import load_torchvision_set
from vae_desktop.core.errors import DatasetError

PER_BATCH = 20


def _write_batch(path: Path, seed: int) -> tuple[np.ndarray, list[int]]:
    """A batch in the official layout: a dict with b"data" (N, 3072) uint8 and b"labels", pickled protocol 2."""
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 256, (PER_BATCH, 3072), dtype=np.uint8)
    labels = rng.integers(0, 10, PER_BATCH).tolist()
    batch = {b"batch_label": f"batch {seed}".encode(), b"labels": labels, b"data": data,
             b"filenames": [f"img_{seed}_{i}.png".encode() for i in range(PER_BATCH)]}
    path.write_bytes(pickle.dumps(batch, protocol=2))
    return data, labels


def make_cifar_folder(root: Path) -> dict[str, np.ndarray]:
    folder = root / cifar.FOLDER
    folder.mkdir(parents=True)
    (folder / cifar.META_FILE).write_bytes(pickle.dumps({b"label_names": [b"airplane"] * 10}, protocol=2))
    train = [_write_batch(folder / name, seed) for seed, name in enumerate(cifar.TRAIN_FILES)]
    test = _write_batch(folder / cifar.TEST_FILE, 99)
    return {"train": np.concatenate([d for d, _ in train]), "train_labels": np.concatenate([lab for _, lab in train]),
            "test": test[0], "test_labels": np.array(test[1])}


class _RunsCode:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_cifar_folder_loads_with_its_images_and_labels(tmp_path):
    written = make_cifar_folder(tmp_path)
    dataset = load_torchvision_set("cifar10", data_root=tmp_path, download=False, search_system=False)
    assert dataset.image_shape == (3, 32, 32) and dataset.num_train == 5 * PER_BATCH and dataset.num_test == PER_BATCH
    np.testing.assert_array_equal(dataset.train_images.numpy().reshape(-1, 3072), written["train"])
    np.testing.assert_array_equal(dataset.train_labels.numpy(), written["train_labels"])
    np.testing.assert_array_equal(dataset.test_images.numpy()[3, 0], written["test"][3, :1024].reshape(32, 32))
    assert dataset.class_names[0] == "airplane"


def test_a_crafted_cifar_batch_is_refused_without_running_code(tmp_path):
    make_cifar_folder(tmp_path)
    marker = tmp_path / "code-ran"
    batch = tmp_path / cifar.FOLDER / "data_batch_3"
    batch.write_bytes(pickle.dumps({b"data": _RunsCode(marker), b"labels": []}, protocol=2))
    with pytest.raises(DatasetError, match="data_batch_3 contains Python objects that could run code"):
        load_torchvision_set("cifar10", data_root=tmp_path, download=False, search_system=False)
    assert not marker.exists()


@pytest.mark.parametrize("damage", ["truncated", "random bytes", "wrong shape", "missing file"])
def test_damaged_cifar_files_are_clear_errors(tmp_path, damage):
    make_cifar_folder(tmp_path)
    batch = tmp_path / cifar.FOLDER / "test_batch"
    if damage == "truncated":
        batch.write_bytes(batch.read_bytes()[:500])
    elif damage == "random bytes":
        batch.write_bytes(np.random.default_rng(0).bytes(3000))
    elif damage == "wrong shape":
        batch.write_bytes(pickle.dumps({b"data": np.zeros((4, 100), np.uint8), b"labels": [0] * 4}, protocol=2))
    else:
        batch.unlink()
    with pytest.raises(DatasetError, match="CIFAR-10 files in .* are damaged: .*test_batch.*Delete them"):
        load_torchvision_set("cifar10", data_root=tmp_path, download=False, search_system=False)


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """Serve a folder on 127.0.0.1 as VAE_DESKTOP_DATASET_MIRROR; yields the folder."""
    import functools
    import http.server
    import threading

    from vae_desktop.core.datasets.torchvision_sets import MIRROR_ENV

    folder = tmp_path / "mirror"
    folder.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv(MIRROR_ENV, f"http://127.0.0.1:{server.server_address[1]}/")
    yield folder
    server.shutdown()
    server.server_close()


def _publish_archive(source_root: Path, mirror_folder: Path, monkeypatch) -> None:
    """Pack `source_root`/cifar-10-batches-py like the official archive and make its md5 the expected one."""
    import hashlib
    import tarfile

    torchvision_datasets = pytest.importorskip("torchvision.datasets")
    archive = mirror_folder / torchvision_datasets.CIFAR10.filename
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(source_root / cifar.FOLDER, arcname=cifar.FOLDER)
    monkeypatch.setattr(torchvision_datasets.CIFAR10, "tgz_md5", hashlib.md5(archive.read_bytes()).hexdigest())


def test_a_downloaded_archive_is_checked_unpacked_and_read_safely(tmp_path, mirror, monkeypatch):
    written = make_cifar_folder(tmp_path / "source")
    _publish_archive(tmp_path / "source", mirror, monkeypatch)
    target = tmp_path / "data"
    dataset = load_torchvision_set("cifar10", data_root=target, download=True, search_system=False)
    np.testing.assert_array_equal(dataset.test_labels.numpy(), written["test_labels"])
    assert sorted(p.name for p in target.iterdir()) == [cifar.FOLDER]  # no archive or staging folder left


def test_a_downloaded_archive_with_a_crafted_batch_leaves_nothing_behind(tmp_path, mirror, monkeypatch):
    make_cifar_folder(tmp_path / "source")
    marker = tmp_path / "code-ran"
    crafted = tmp_path / "source" / cifar.FOLDER / "data_batch_1"
    crafted.write_bytes(pickle.dumps({b"data": _RunsCode(marker)}, protocol=2))
    _publish_archive(tmp_path / "source", mirror, monkeypatch)
    target = tmp_path / "data"
    with pytest.raises(DatasetError, match="Could not download cifar10"):
        load_torchvision_set("cifar10", data_root=target, download=True, search_system=False)
    assert not marker.exists() and list(target.iterdir()) == []
