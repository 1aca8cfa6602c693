"""A build without torchvision (the small CPU bundle) explains what it cannot do instead of crashing."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from vae_desktop.core.datasets.torchvision_sets import load_torchvision_set
from vae_desktop.core.errors import DatasetError


@pytest.fixture
def no_torchvision(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "torchvision", None)  # makes `import torchvision` raise ImportError


@pytest.mark.usefixtures("no_torchvision")
def test_download_without_torchvision_is_a_dataset_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no working torchvision") as info:
        load_torchvision_set("kmnist", data_root=tmp_path, download=True)
    assert "put the four IDX files" in str(info.value)  # and how to get going without it
    assert list(tmp_path.iterdir()) == []


@pytest.mark.usefixtures("no_torchvision")
def test_cifar_files_are_read_without_torchvision(tmp_path: Path) -> None:
    from tests.core.test_cifar import make_cifar_folder

    written = make_cifar_folder(tmp_path)
    dataset = load_torchvision_set("cifar10", data_root=tmp_path, download=False)
    assert dataset.num_test == len(written["test"]) and dataset.image_shape == (3, 32, 32)
