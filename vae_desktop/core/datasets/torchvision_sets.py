"""MNIST, Fashion-MNIST, KMNIST and CIFAR-10: local files first, otherwise a download via torchvision.

Search order for the files: the folder the user named (--data-root), the user data folder, and for
Fashion-MNIST Debian's `dataset-fashion-mnist` package. Downloads go to a temporary folder that is
moved into place only when complete, so an interrupted download never leaves a cache that breaks
the next start.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np
import torch

from vae_desktop.core.datasets.base import ImageDataset
from vae_desktop.core.datasets.idx import read_idx
from vae_desktop.core.errors import DatasetError
from vae_desktop.core.paths import user_data_dir

IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


@dataclass(frozen=True)
class TorchvisionSource:
    name: str
    torchvision_class: str  # attribute of torchvision.datasets
    folder: str  # the folder name torchvision uses under its root
    class_names: tuple[str, ...]
    system_folders: tuple[str, ...] = ()  # where OS packages install the files

    @property
    def is_idx(self) -> bool:
        return self.name != "cifar10"


SOURCES = {
    "mnist": TorchvisionSource("mnist", "MNIST", "MNIST", tuple(str(d) for d in range(10))),
    "fashion-mnist": TorchvisionSource(
        "fashion-mnist",
        "FashionMNIST",
        "FashionMNIST",
        ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
        system_folders=("/usr/share/datasets/fashion-mnist",),
    ),
    "kmnist": TorchvisionSource("kmnist", "KMNIST", "KMNIST", ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo")),
    "cifar10": TorchvisionSource(
        "cifar10",
        "CIFAR10",
        "cifar-10-batches-py",
        ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"),
    ),
}


def load_torchvision_set(name: str, data_root: Path | None = None, download: bool = True) -> ImageDataset:
    """Load a named set from local files, downloading into the user data folder if allowed."""
    source = SOURCES[name]
    roots = candidate_roots(source, data_root)
    for root in roots:
        found = _load_local(source, root)
        if found is not None:
            return found
    if not download:
        raise DatasetError(_missing_message(source, roots))
    target = data_root if data_root is not None else user_data_dir()
    _download(source, target, roots)
    found = _load_local(source, target)
    if found is None:
        raise DatasetError(_missing_message(source, roots))
    return found


def candidate_roots(source: TorchvisionSource, data_root: Path | None) -> list[Path]:
    roots = [data_root] if data_root is not None else []
    roots.append(user_data_dir())
    roots.extend(Path(p) for p in source.system_folders)
    return roots


def _load_local(source: TorchvisionSource, root: Path) -> ImageDataset | None:
    if source.is_idx:
        folder = _find_idx_folder(root, source)
        return None if folder is None else _load_idx_folder(source, folder)
    return _load_cifar(source, root)


def _idx_path(folder: Path, stem: str) -> Path | None:
    for candidate in (folder / stem, folder / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _find_idx_folder(root: Path, source: TorchvisionSource) -> Path | None:
    """Accept the files directly in root, or in torchvision's layout root/<Folder>/raw."""
    for folder in (root, root / source.folder / "raw", root / source.folder, root / source.name):
        if all(_idx_path(folder, stem) for stem in IDX_FILES.values()):
            return folder
    return None


def _load_idx_folder(source: TorchvisionSource, folder: Path) -> ImageDataset:
    arrays = {key: read_idx(_idx_path(folder, stem)) for key, stem in IDX_FILES.items()}  # type: ignore[arg-type]
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise DatasetError(f"The {source.name} files in {folder} do not match (images {images.shape}, labels {labels.shape}).")
    return ImageDataset(
        name=source.name,
        train_images=torch.from_numpy(arrays["train_images"].copy())[:, None],
        train_labels=torch.from_numpy(arrays["train_labels"].astype(np.int64)),
        test_images=torch.from_numpy(arrays["test_images"].copy())[:, None],
        test_labels=torch.from_numpy(arrays["test_labels"].astype(np.int64)),
        class_names=list(source.class_names),
        notes=[f"loaded from {folder}"],
    )


def _load_cifar(source: TorchvisionSource, root: Path) -> ImageDataset | None:
    if not (root / source.folder / "batches.meta").is_file():
        return None
    datasets = _torchvision_datasets(f"read {source.name} from {root}")

    try:
        train = datasets.CIFAR10(str(root), train=True, download=False)
        test = datasets.CIFAR10(str(root), train=False, download=False)
    except (RuntimeError, OSError, ValueError, EOFError) as exc:
        raise DatasetError(f"The CIFAR-10 files in {root} are damaged: {exc}. Delete them and download again.") from exc

    def images(ds: object) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(ds.data.transpose(0, 3, 1, 2)))  # type: ignore[attr-defined]

    return ImageDataset(
        name=source.name,
        train_images=images(train),
        train_labels=torch.tensor(train.targets, dtype=torch.int64),
        test_images=images(test),
        test_labels=torch.tensor(test.targets, dtype=torch.int64),
        class_names=list(source.class_names),
        notes=[f"loaded from {root}"],
    )


def _download(source: TorchvisionSource, target: Path, searched: Iterable[Path]) -> None:
    """Download with torchvision (it shows a progress bar) into a temp folder, then move into place."""
    datasets = _torchvision_datasets(f"download {source.name}. " + _missing_message(source, searched))

    target.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{source.name}-download-", dir=target))
    try:
        dataset_class = getattr(datasets, source.torchvision_class)
        for train in (True, False):
            dataset_class(str(staging), train=train, download=True)
        produced = staging / source.folder
        final = target / source.folder
        if final.exists():
            shutil.rmtree(final)
        shutil.move(str(produced), str(final))
    except Exception as exc:  # network errors come in many types (URLError, RuntimeError, OSError...)
        raise DatasetError(f"Could not download {source.name} ({exc}). " + _missing_message(source, searched)) from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _torchvision_datasets(needed_for: str) -> ModuleType:
    """torchvision, imported on demand (it costs ~1 s); a build without it (a small bundle) says so plainly."""
    try:
        from torchvision import datasets
    except (ImportError, RuntimeError) as exc:  # absent, or built for another torch (its ops fail to register)
        raise DatasetError(f"This installation has no working torchvision ({exc}), which is needed to {needed_for}") from exc
    return datasets


def _missing_message(source: TorchvisionSource, searched: Iterable[Path]) -> str:
    if source.is_idx:
        files = ", ".join(f"{stem}.gz" for stem in IDX_FILES.values())
        what = f"the four IDX files ({files})"
    else:
        what = "the extracted 'cifar-10-batches-py' folder"
    places = "; ".join(str(p) for p in searched)
    return f"{source.name} is not available offline: put {what} in one of: {places} (or pass --data-root DIR)."
