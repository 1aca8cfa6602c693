"""MNIST, Fashion-MNIST, KMNIST and CIFAR-10: local files first, otherwise a download via torchvision.

Search order for the files: the folder the user named (--data-root), the user data folder, and for
Fashion-MNIST Debian's `dataset-fashion-mnist` package. Downloads go to a temporary folder that is
moved into place only when complete, so an interrupted download never leaves a cache that breaks
the next start.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np
import torch

from vae_desktop.core.datasets import cifar
from vae_desktop.core.datasets.base import ImageDataset
from vae_desktop.core.datasets.idx import read_idx
from vae_desktop.core.datasets.registry import DATASETS
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


MIRROR_ENV = "VAE_DESKTOP_DATASET_MIRROR"
STALE_STAGING_S = 600


def load_torchvision_set(
    name: str, data_root: Path | None = None, download: bool = True, search_system: bool = True
) -> ImageDataset:
    """Load a named set from local files, downloading into `data_root` (or the user data folder) if allowed.

    Set VAE_DESKTOP_DATASET_MIRROR to a base URL to download from your own mirror (the files keep
    their official names and checksums).
    """
    source = SOURCES[name]
    roots = candidate_roots(source, data_root, search_system)
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


def candidate_roots(source: TorchvisionSource, data_root: Path | None, search_system: bool = True) -> list[Path]:
    roots = [data_root] if data_root is not None else []
    roots.append(user_data_dir())
    if search_system:
        roots.extend(Path(p) for p in source.system_folders)
    return roots


def _load_local(source: TorchvisionSource, root: Path) -> ImageDataset | None:
    if source.is_idx:
        folder = _find_idx_folder(root, source)
        return None if folder is None else _load_idx_folder(source, folder)
    return _load_cifar(source, root)


def _idx_path(folder: Path, stem: str) -> Path | None:
    for candidate in (folder / stem, folder / f"{stem}.gz"):
        if _is_file(candidate):
            return candidate
    return None


def _is_file(path: Path) -> bool:
    """Whether `path` is a regular file; a folder on the way that may not be searched is a clear error
    (`Path.is_file` raises PermissionError for it)."""
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except PermissionError:
        raise DatasetError(f"No permission to look for dataset files in {path.parent}.") from None
    except OSError:  # missing, a broken link, a path too long: not there
        return False


def _find_idx_folder(root: Path, source: TorchvisionSource) -> Path | None:
    """Accept the files directly in root, or in torchvision's layout root/<Folder>/raw."""
    for folder in (root, root / source.folder / "raw", root / source.folder, root / source.name):
        if all(_idx_path(folder, stem) for stem in IDX_FILES.values()):
            return folder
    return None


def _load_idx_folder(source: TorchvisionSource, folder: Path) -> ImageDataset:
    paths = {key: _idx_path(folder, stem) for key, stem in IDX_FILES.items()}
    arrays = {key: read_idx(path) for key, path in paths.items()}  # type: ignore[arg-type]
    _, height, width = DATASETS[source.name].image_shape
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise DatasetError(f"The {source.name} files in {folder} do not match (images {images.shape}, labels {labels.shape}).")
        if images.dtype != np.uint8:
            raise DatasetError(f"{paths[f'{split}_images']} holds {images.dtype} values, but {source.name} images "
                               "are bytes (IDX type 0x08): the file is damaged or from another dataset.")
        if images.shape[1:] != (height, width):
            raise DatasetError(f"{paths[f'{split}_images']} holds {images.shape[1]}x{images.shape[2]} images, "
                               f"but {source.name} images are {height}x{width}.")
        if labels.dtype.kind not in "iu" or (labels.size and not 0 <= labels.min() <= labels.max() < len(source.class_names)):
            raise DatasetError(f"{paths[f'{split}_labels']} is damaged: its labels are not class numbers "
                               f"0 to {len(source.class_names) - 1}.")
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
    folder = root / source.folder
    if not _is_file(folder / cifar.META_FILE):
        return None
    try:
        arrays = cifar.read_folder(folder)  # never torchvision's pickle.load: see core/datasets/cifar.py
    except (cifar.UnsafeCifarFileError, cifar.CifarAccessError):
        raise
    except DatasetError as exc:
        raise DatasetError(f"The CIFAR-10 files in {root} are damaged: {exc} Delete them and download again.") from exc
    return ImageDataset(
        name=source.name,
        train_images=torch.from_numpy(arrays["train_images"]),
        train_labels=torch.from_numpy(arrays["train_labels"]),
        test_images=torch.from_numpy(arrays["test_images"]),
        test_labels=torch.from_numpy(arrays["test_labels"]),
        class_names=list(source.class_names),
        notes=[f"loaded from {root}"],
    )


def _download(source: TorchvisionSource, target: Path, searched: Iterable[Path]) -> None:
    """Download into a temp folder beside the target, check every file, then move it into place."""
    prefix = f".{source.name}-download-"
    try:
        target.mkdir(parents=True, exist_ok=True)
        _remove_stale_staging(target, prefix)
        staging = Path(tempfile.mkdtemp(prefix=prefix, dir=target))
    except OSError as exc:  # read-only, full, a file in the way, no permission
        raise DatasetError(f"Cannot download {source.name} into {target}: {exc.strerror or exc}. "
                           + _missing_message(source, searched)) from None
    try:
        if source.is_idx:
            _download_idx(source, staging / source.folder / "raw")
        else:
            _download_cifar(staging)
        final = target / source.folder
        if final.exists():
            shutil.rmtree(final)
        shutil.move(str(staging / source.folder), str(final))
    except Exception as exc:  # network errors come in many types (URLError, RuntimeError, OSError...)
        reason = _first_line(exc)
        raise DatasetError(f"Could not download {source.name} ({reason}). " + _missing_message(source, searched)) from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _remove_stale_staging(target: Path, prefix: str) -> None:
    """Delete what downloads killed mid-way left behind (a kill skips the `finally` that cleans up):
    staging folders of this dataset untouched for STALE_STAGING_S. A live download writes to its
    folder at least every 30 s (the network timeout), so it is never mistaken for a stale one."""
    now = time.time()
    for entry in target.iterdir():
        if not entry.name.startswith(prefix) or entry.is_symlink() or not entry.is_dir():
            continue
        try:
            newest = max([entry.stat().st_mtime, *(p.stat().st_mtime for p in entry.rglob("*"))])
        except OSError:  # vanished meanwhile (another process cleaned it), or too deep: leave it
            continue
        if now - newest > STALE_STAGING_S:
            shutil.rmtree(entry, ignore_errors=True)


def _download_cifar(staging: Path) -> None:
    """Fetch and unpack the archive (its md5 is checked), then read it the safe way to be sure it is whole."""
    datasets = _torchvision_datasets()
    from torchvision.datasets.utils import download_and_extract_archive

    official = datasets.CIFAR10
    download_and_extract_archive(_mirrored_url(official.url), str(staging), filename=official.filename,
                                 md5=official.tgz_md5, remove_finished=True)
    cifar.read_folder(staging / cifar.FOLDER)


def _torchvision_datasets() -> ModuleType:
    """torchvision.datasets, imported on demand (it costs ~1 s); a build without it (a small bundle) says so."""
    try:
        from torchvision import datasets
    except (ImportError, RuntimeError) as exc:  # absent, or built for another torch (its ops fail to register)
        raise DatasetError(
            f"This installation has no working torchvision ({exc}); it is needed to download datasets"
        ) from exc
    return datasets


def _download_idx(source: TorchvisionSource, folder: Path) -> None:
    """Fetch the four IDX files from the first mirror that serves them, with a progress bar.

    Each file is parsed after download (header, size and image count), so a partial or damaged
    download is caught here instead of breaking a later start.
    """
    datasets = _torchvision_datasets()  # the official mirror list lives with torchvision's classes
    mirrors = _mirrors(getattr(datasets, source.torchvision_class).mirrors)
    folder.mkdir(parents=True, exist_ok=True)
    for key, stem in IDX_FILES.items():
        errors = []
        for base in mirrors:
            path = folder / f"{stem}.gz"
            try:
                _fetch(base + path.name, path)
                array = read_idx(path)
            except (OSError, ValueError, DatasetError) as exc:
                errors.append(f"{base}: {_first_line(exc)}")
                continue
            expected = 60_000 if key.startswith("train") else 10_000
            if array.shape[0] != expected or (key.endswith("images") and array.shape[1:] != (28, 28)):
                errors.append(f"{base}: unexpected contents {array.shape}")
                continue
            break
        else:
            raise OSError(f"{stem}.gz: " + "; ".join(errors))


def _fetch(url: str, path: Path) -> None:
    import urllib.request

    from tqdm import tqdm

    request = urllib.request.Request(url, headers={"User-Agent": "vae-desktop"})
    with urllib.request.urlopen(request, timeout=30) as response, path.open("wb") as handle:
        total = int(response.headers.get("Content-Length") or 0) or None
        with tqdm(total=total, unit="B", unit_scale=True, desc=path.name, leave=False) as bar:
            while chunk := response.read(1 << 16):
                handle.write(chunk)
                bar.update(len(chunk))


def _mirrors(official: list[str]) -> list[str]:
    mirror = os.environ.get(MIRROR_ENV, "").strip()
    return [mirror.rstrip("/") + "/"] if mirror else list(official)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _mirrored_url(url: str) -> str:
    """`url`, or the same file name on VAE_DESKTOP_DATASET_MIRROR when that is set."""
    mirror = os.environ.get(MIRROR_ENV, "").strip()
    return mirror.rstrip("/") + "/" + url.rsplit("/", 1)[-1] if mirror else url


def _missing_message(source: TorchvisionSource, searched: Iterable[Path]) -> str:
    if source.is_idx:
        files = ", ".join(f"{stem}.gz" for stem in IDX_FILES.values())
        what = f"the four IDX files ({files})"
    else:
        what = "the extracted 'cifar-10-batches-py' folder"
    places = "; ".join(str(p) for p in searched)
    return f"{source.name} is not available offline: put {what} in one of: {places} (or pass --data-root DIR)."
