"""One registry of datasets: names for menus and the CLI, and a single `load_dataset` entry point."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from vae_desktop.core.config import check_image_size
from vae_desktop.core.datasets.base import ImageDataset
from vae_desktop.core.errors import DatasetError

FOLDER_PREFIX = "folder:"
FOLDER_CACHE = "folders"  # under the user cache folder: decoded image folders (core/datasets/folder_cache.py)


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    title: str
    image_shape: tuple[int, int, int]


DATASETS: dict[str, DatasetInfo] = {
    info.name: info
    for info in (
        DatasetInfo("shapes", "Shapes (built in)", (1, 28, 28)),
        DatasetInfo("mnist", "MNIST digits", (1, 28, 28)),
        DatasetInfo("fashion-mnist", "Fashion-MNIST", (1, 28, 28)),
        DatasetInfo("kmnist", "Kuzushiji-MNIST", (1, 28, 28)),
        DatasetInfo("cifar10", "CIFAR-10", (3, 32, 32)),
    )
}
DEFAULT_DATASET = "shapes"


def dataset_names() -> list[str]:
    return list(DATASETS)


def load_dataset(
    name: str,
    data_root: str | Path | None = None,
    seed: int = 0,
    download: bool = True,
    image_size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImageDataset:
    """Load a dataset by registry name or `folder:PATH`. Raises DatasetError with a clear message.

    `image_size` (one of config.IMAGE_SIZES, or None for the dataset's own size) scales and
    centre-crops every image; `progress(done, total)` follows the decoding of an image folder, which
    is decoded once into the user cache folder and read from there while it is unchanged."""
    root = Path(data_root).expanduser() if data_root else None
    if image_size is not None:
        check_image_size(image_size)
    if name.startswith(FOLDER_PREFIX):
        from vae_desktop.core.datasets.folder import load_image_folder
        from vae_desktop.core.paths import user_cache_dir

        folder = name[len(FOLDER_PREFIX) :]
        if not folder.strip():  # Path("") is the current folder: never train on whatever happens to be there
            raise DatasetError(f"{FOLDER_PREFIX} needs a folder after the colon, e.g. {FOLDER_PREFIX}~/Pictures/cats.")
        return load_image_folder(folder, image_size=image_size, seed=seed, progress=progress,
                                 cache_dir=user_cache_dir() / FOLDER_CACHE)
    if name == "shapes":
        from vae_desktop.core.datasets.shapes import load_shapes

        dataset = load_shapes()
    elif name in DATASETS:
        from vae_desktop.core.datasets.torchvision_sets import load_torchvision_set

        dataset = load_torchvision_set(name, root, download=download)
    else:
        choices = ", ".join([*DATASETS, "folder:PATH"])
        raise DatasetError(f"Unknown dataset {name!r}: choose one of {choices}.")
    if image_size is None:
        return dataset
    from vae_desktop.core.datasets.resize import resized

    return resized(dataset, image_size)
