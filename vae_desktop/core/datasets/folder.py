"""`folder:PATH`: the user's own images, with or without one subfolder per class.

Every readable image is converted to grayscale (28x28) when all files are grayscale, else to RGB
(32x32), squashed to that size. Unreadable files are skipped and counted in `ImageDataset.notes`;
a folder with no readable image is a clear error.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from vae_desktop.core.datasets.base import ImageDataset
from vae_desktop.core.errors import DatasetError
from vae_desktop.core.image_file import image_to_array

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm"}
GREY_MODES = {"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F"}
TEST_FRACTION = 0.1


def load_image_folder(
    path: str | os.PathLike[str],
    image_size: int | None = None,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> ImageDataset:
    """Read all images under `path`; subfolders become classes. Raises DatasetError when none load."""
    from PIL import Image  # deferred: only folder datasets need Pillow

    root = Path(path).expanduser()
    if not root.is_dir():
        raise DatasetError(f"Image folder {root} does not exist or is not a folder.")
    try:
        files, class_names = _list_images(root)
    except OSError as exc:  # a subfolder vanished or became unreadable while it was listed
        raise DatasetError(f"Cannot list the images in {root}: {exc.strerror or exc}. Did the folder change?") from exc
    if not files:
        raise DatasetError(f"No image files found in {root} (looked for {', '.join(sorted(IMAGE_SUFFIXES))}).")

    grey = _all_grey(files, Image)
    channels = 1 if grey else 3
    size = image_size or (28 if grey else 32)
    images: list[np.ndarray] = []
    labels: list[int] = []
    skipped = 0
    for done, (file, label) in enumerate(files, start=1):
        array = _read_image(file, channels, size, Image)
        if array is None:
            skipped += 1
        else:
            images.append(array)
            labels.append(label)
        if progress is not None:
            progress(done, len(files))
    if skipped and not root.is_dir():  # not a few bad files: the whole folder went away mid-read
        raise DatasetError(f"The image folder {root} disappeared while it was being read.")
    if not images:
        raise DatasetError(f"None of the {len(files)} image files in {root} could be read.")

    stacked = torch.from_numpy(np.stack(images))
    label_tensor = torch.tensor(labels, dtype=torch.int64)
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))
    num_test = max(1, int(round(len(images) * TEST_FRACTION))) if len(images) > 1 else 0
    test_idx, train_idx = order[:num_test], order[num_test:]
    if num_test == 0:
        test_idx = train_idx
    notes = [f"{len(images)} images from {root}"]
    if skipped:
        notes.append(f"skipped {skipped} unreadable file{'s' if skipped != 1 else ''}")
    return ImageDataset(
        name=f"folder:{root}",
        train_images=stacked[train_idx],
        train_labels=label_tensor[train_idx],
        test_images=stacked[test_idx],
        test_labels=label_tensor[test_idx],
        class_names=class_names,
        notes=notes,
    )


def _list_images(root: Path) -> tuple[list[tuple[Path, int]], list[str]]:
    """Images directly in root form one class; each subfolder (searched recursively) forms another."""
    entries = sorted(root.iterdir())
    groups: list[tuple[str, list[Path]]] = []
    top = [p for p in entries if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()]
    if top:
        groups.append((root.name or "images", top))
    for sub in (p for p in entries if p.is_dir() and not p.name.startswith(".")):
        found = sorted(p for p in sub.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        if found:
            groups.append((sub.name, found))
    files = [(path, label) for label, (_, paths) in enumerate(groups) for path in paths]
    return files, [name for name, _ in groups]


def _all_grey(files: list[tuple[Path, int]], image_module) -> bool:  # noqa: ANN001
    """Decide the channel count from image headers only (cheap): any colour mode means RGB."""
    for path, _ in files:
        try:
            with image_module.open(path) as img:
                if img.mode not in GREY_MODES:
                    return False
        except Exception:  # unreadable files are counted later, when they are read  # noqa: BLE001
            continue
    return True


def _read_image(path: Path, channels: int, size: int, image_module) -> np.ndarray | None:  # noqa: ANN001
    """Return (C, size, size) uint8, or None when the file is missing, corrupt or not an image."""
    try:
        with image_module.open(path) as img:
            img.load()
            return image_to_array(img, channels, size, size, image_module)
    except Exception:  # Pillow raises many types for damaged files; each is just "unreadable"  # noqa: BLE001
        return None
