"""`folder:PATH`: the user's own images, with or without one subfolder per class.

Every readable image is converted to grayscale (28x28) when all files are grayscale, else to RGB
(32x32), letterboxed to that size; an explicit image size (64, 128) scales and centre-crops instead. Files that cannot be used are skipped and counted by reason in
`ImageDataset.notes` (damaged, no permission, NaN pixels, too large, not a regular file); a folder
with fewer than two usable images is a clear error, because the test set must be images the model
did not train on.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np
import torch

from vae_desktop.core.datasets import folder_cache
from vae_desktop.core.datasets.base import ImageDataset
from vae_desktop.core.datasets.folder_cache import DecodedFolder
from vae_desktop.core.errors import DatasetError
from vae_desktop.core.image_file import InvalidPixelsError, decoded_image, image_to_array, pillow_warnings_logged
from vae_desktop.core.regular_files import NotRegularFileError, folder_key, open_regular, walk_files

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm"}
GREY_MODES = {"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F"}
TEST_FRACTION = 0.1
MIN_IMAGES = 2  # one to train on and one to test with: a test set of training images measures nothing

# Why a file or folder was left out -> (singular, plural) for "skipped 3 unreadable files".
SKIP_REASONS = {
    "unreadable": ("unreadable file", "unreadable files"),
    "permission": ("file without read permission", "files without read permission"),
    "invalid_pixels": ("file with invalid pixels (NaN or infinity)", "files with invalid pixels (NaN or infinity)"),
    "too_large": ("image too large to decode safely", "images too large to decode safely"),
    "not_regular": ("entry that is not a regular file (a pipe, device, socket or broken link)",
                    "entries that are not regular files (pipes, devices, sockets or broken links)"),
    "folder": ("subfolder that could not be listed", "subfolders that could not be listed"),
}


def load_image_folder(
    path: str | os.PathLike[str],
    image_size: int | None = None,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
    cache_dir: Path | None = None,
) -> ImageDataset:
    """Read all images under `path`; subfolders become classes. Raises DatasetError when fewer than two load.

    `image_size` None prepares images as always (letterboxed to 28×28 grey or 32×32 colour); a size
    scales the shorter side to it and cuts out the middle square. With `cache_dir` the decoded
    pixels are kept there (core/datasets/folder_cache.py) and reused while the folder is unchanged.
    """
    root = Path(path).expanduser()
    _check_root(root)
    listed: Counter[str] = Counter()
    files, class_names = _list_images(root, listed)
    if not files:
        raise DatasetError(f"No image files found in {root} (looked for {', '.join(sorted(IMAGE_SUFFIXES))})"
                           f"{_because(listed)}.")

    def decode() -> DecodedFolder:
        return _decode(files, image_size, progress)

    cache_note = None
    if cache_dir is None:
        decoded = decode()
    else:
        key = folder_cache.folder_key(root, files, image_size)
        result = folder_cache.load_or_build(folder_cache.cache_file(cache_dir, root, key, image_size), key, decode)
        decoded, cache_note = result.decoded, result.note
    skipped = listed + decoded.skipped
    images, labels = decoded.images, decoded.labels
    if skipped and not _still_a_folder(root):  # not a few bad files: the whole folder went away mid-read
        raise DatasetError(f"The image folder {root} disappeared while it was being read.")
    if len(images) == 0:
        raise DatasetError(f"None of the {len(files)} image files in {root} could be read{_because(skipped)}.")
    if len(images) < MIN_IMAGES:
        raise DatasetError(
            f"Only 1 image in {root} could be used{_because(skipped)}; an image folder needs at least "
            f"{MIN_IMAGES}: some to train on and at least one other to test with."
        )

    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed)).numpy()
    num_test = max(1, int(round(len(images) * TEST_FRACTION)))  # < len(images) since len(images) >= 2
    test_idx, train_idx = order[:num_test], order[num_test:]
    notes = [f"{len(images)} images from {root} ({len(train_idx)} to train on, {num_test} to test with)"]
    notes.extend(skip_notes(skipped))
    if cache_note is not None:
        notes.append(cache_note)
    return ImageDataset(
        name=f"folder:{root}",
        # numpy's indexing copies out of a memory-mapped (read-only) cache into ordinary memory
        train_images=torch.from_numpy(images[train_idx]),
        train_labels=torch.from_numpy(labels[train_idx]),
        test_images=torch.from_numpy(images[test_idx]),
        test_labels=torch.from_numpy(labels[test_idx]),
        class_names=class_names,
        notes=notes,
        image_size=image_size,
    )


def _decode(
    files: list[tuple[Path, int]], image_size: int | None, progress: Callable[[int, int], None] | None
) -> DecodedFolder:
    """Decode every listed file into one preallocated uint8 array (no list of arrays to stack)."""
    from PIL import Image  # deferred: only folder datasets need Pillow

    skipped: Counter[str] = Counter()
    with pillow_warnings_logged():
        grey = _all_grey(files, Image)
        channels = 1 if grey else 3
        size = image_size or (28 if grey else 32)
        images = np.empty((len(files), channels, size, size), np.uint8)
        labels = np.empty(len(files), np.int64)
        count = 0
        for done, (file, label) in enumerate(files, start=1):
            array, reason = _read_image(file, channels, size, Image, crop=image_size is not None)
            if array is None:
                skipped[reason] += 1
            else:
                images[count], labels[count] = array, label
                count += 1
            if progress is not None:
                progress(done, len(files))
    return DecodedFolder(images[:count], labels[:count], skipped)


def skip_notes(skipped: Counter[str]) -> list[str]:
    """One "skipped N ..." note per reason, in a fixed order."""
    return [f"skipped {skipped[reason]} {words[skipped[reason] != 1]}"
            for reason, words in SKIP_REASONS.items() if skipped[reason]]


def _because(skipped: Counter[str]) -> str:
    notes = skip_notes(skipped)
    return f" ({'; '.join(notes)})" if notes else ""


def _check_root(root: Path) -> None:
    """The named folder exists, is a folder and may be read; else one clear DatasetError."""
    try:
        if not root.is_dir():
            raise DatasetError(f"Image folder {root} does not exist or is not a folder.")
        os.scandir(root).close()
    except PermissionError:
        raise DatasetError(f"No permission to read the image folder {root}.") from None
    except OSError as exc:
        raise DatasetError(f"Cannot open the image folder {root}: {exc.strerror or exc}.") from None


def _still_a_folder(root: Path) -> bool:
    try:
        return root.is_dir()
    except OSError:
        return False


def _wanted(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in IMAGE_SUFFIXES


def _list_images(root: Path, skipped: Counter[str]) -> tuple[list[tuple[Path, int]], list[str]]:
    """Images directly in root form one class; each subfolder (searched at any depth) forms another.

    Only regular files are listed (named pipes, devices and broken links are counted in `skipped`);
    subfolders that cannot be listed are counted too. A subfolder linking back to root is not re-read.
    """
    try:
        with os.scandir(root) as it:
            entries = sorted(it, key=lambda entry: entry.name)
        root_key = frozenset({folder_key(root)})
    except OSError as exc:  # the folder vanished or changed permissions since it was checked
        raise DatasetError(f"Cannot list the images in {root}: {exc.strerror or exc}. Did the folder change?") from exc
    groups: list[tuple[str, list[Path]]] = []
    top: list[Path] = []
    subfolders: list[Path] = []
    for entry in entries:
        try:
            is_dir = entry.is_dir()
        except OSError:
            is_dir = False
        if is_dir:
            if not entry.name.startswith("."):
                subfolders.append(root / entry.name)
        elif _wanted(entry.name):
            try:
                regular = entry.is_file()
            except OSError:
                regular = False
            if regular:
                top.append(root / entry.name)
            else:
                skipped["not_regular"] += 1
    if top:
        groups.append((root.name or "images", top))
    for sub in subfolders:
        listing = walk_files(sub, _wanted, skip=root_key)
        skipped["not_regular"] += len(listing.not_regular)
        skipped["folder"] += len(listing.unreadable_folders)
        if listing.files:
            groups.append((sub.name, listing.files))
    files = [(path, label) for label, (_, paths) in enumerate(groups) for path in paths]
    return files, [name for name, _ in groups]


def _all_grey(files: list[tuple[Path, int]], image_module: ModuleType) -> bool:
    """Decide the channel count from image headers only (cheap): any colour mode means RGB."""
    for path, _ in files:
        try:
            with open_regular(path) as handle, image_module.open(handle) as img:
                if img.mode not in GREY_MODES:
                    return False
        except Exception:  # unusable files are counted later, when they are read
            continue
    return True


def _read_image(
    path: Path, channels: int, size: int, image_module: ModuleType, crop: bool = False
) -> tuple[np.ndarray | None, str]:
    """(C, size, size) uint8 and "", or None and the reason it was skipped (a key of SKIP_REASONS)."""
    try:
        with decoded_image(path, image_module) as img:
            return image_to_array(img, channels, size, size, image_module, crop=crop), ""
    except InvalidPixelsError:
        return None, "invalid_pixels"
    except image_module.DecompressionBombError:
        return None, "too_large"
    except NotRegularFileError:  # swapped for a pipe (or removed, leaving a link) since it was listed
        return None, "not_regular"
    except PermissionError:
        return None, "permission"
    except Exception:  # Pillow raises many types for damaged files; each is just "unreadable"
        return None, "unreadable"
