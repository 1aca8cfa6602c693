"""One registry of datasets: names for menus and the CLI, and a single `load_dataset` entry point."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vae_desktop.core.datasets.base import ImageDataset
from vae_desktop.core.errors import DatasetError

FOLDER_PREFIX = "folder:"


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


def load_dataset(name: str, data_root: str | Path | None = None, seed: int = 0, download: bool = True) -> ImageDataset:
    """Load a dataset by registry name or `folder:PATH`. Raises DatasetError with a clear message."""
    root = Path(data_root).expanduser() if data_root else None
    if name.startswith(FOLDER_PREFIX):
        from vae_desktop.core.datasets.folder import load_image_folder

        folder = name[len(FOLDER_PREFIX) :]
        if not folder.strip():  # Path("") is the current folder: never train on whatever happens to be there
            raise DatasetError(f"{FOLDER_PREFIX} needs a folder after the colon, e.g. {FOLDER_PREFIX}~/Pictures/cats.")
        return load_image_folder(folder, seed=seed)
    if name == "shapes":
        from vae_desktop.core.datasets.shapes import load_shapes

        return load_shapes()
    if name in DATASETS:
        from vae_desktop.core.datasets.torchvision_sets import load_torchvision_set

        return load_torchvision_set(name, root, download=download)
    choices = ", ".join([*DATASETS, "folder:PATH"])
    raise DatasetError(f"Unknown dataset {name!r}: choose one of {choices}.")
