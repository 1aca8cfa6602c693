"""Read CIFAR-10's python batches without running any code the files might carry.

The official files are Python 2 pickles of plain dicts holding a numpy array. torchvision reads them
with `pickle.load`, which would run whatever a crafted file in the user's data folder asks for.
Here an unpickler that knows only how to rebuild numpy arrays (and bytes) reads them; any other
object in the file is refused with a clear error.
"""

from __future__ import annotations

import codecs
import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from vae_desktop.core.errors import DatasetError
from vae_desktop.core.regular_files import NotRegularFileError, open_regular

FOLDER = "cifar-10-batches-py"
TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_FILE = "test_batch"
META_FILE = "batches.meta"
IMAGE_VALUES = 3 * 32 * 32


def _numpy_reconstruct() -> Any:
    try:
        from numpy._core.multiarray import _reconstruct  # numpy >= 2
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core.multiarray import _reconstruct  # type: ignore[no-redef]
    return _reconstruct


class _ArraysOnlyUnpickler(pickle.Unpickler):
    """Rebuilds dicts, lists, numbers, strings, bytes and numpy arrays; refuses every other global."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in (("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct")):
            return _numpy_reconstruct()
        if module == "numpy" and name in ("ndarray", "dtype"):
            return getattr(np, name)
        if (module, name) == ("_codecs", "encode"):  # how protocol-2 pickles written by Python 3 store bytes
            return codecs.encode
        raise pickle.UnpicklingError(f"refused global {module}.{name}")


class UnsafeCifarFileError(DatasetError):
    """A CIFAR-10 batch asked to build an object other than plain data: it could run code."""


class CifarAccessError(DatasetError):
    """A CIFAR-10 batch may not be read, or is not a file: the data may be fine, so not "damaged"."""


def read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One batch as uint8 images (N, 3, 32, 32) and int64 labels (N,)."""
    batch = _load(path)
    data = _field(batch, "data")
    labels = _field(batch, "labels")
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != IMAGE_VALUES:
        raise DatasetError(f"{path} is damaged: its images are not {IMAGE_VALUES} bytes each.")
    try:
        labels = np.asarray(labels)
    except ValueError:  # a ragged list: numpy cannot make an array of it
        raise DatasetError(f"{path} is damaged: its labels are not a list of numbers.") from None
    if labels.shape != (len(data),) or labels.dtype.kind not in "iu" or (
        labels.size and not 0 <= labels.min() <= labels.max() <= 9
    ):
        raise DatasetError(f"{path} is damaged: its labels do not match its {len(data)} images.")
    return data.reshape(-1, 3, 32, 32).copy(), labels.astype(np.int64)


def read_folder(folder: Path) -> dict[str, np.ndarray]:
    """All of `folder` (the extracted cifar-10-batches-py): train_images, train_labels, test_images, test_labels."""
    train = [read_batch(folder / name) for name in TRAIN_FILES]
    test_images, test_labels = read_batch(folder / TEST_FILE)
    return {
        "train_images": np.concatenate([images for images, _ in train]),
        "train_labels": np.concatenate([labels for _, labels in train]),
        "test_images": test_images,
        "test_labels": test_labels,
    }


def _load(path: Path) -> dict:
    try:
        with open_regular(path) as handle:  # never a pipe or device named like a batch: it would block
            if os.fstat(handle.fileno()).st_size == 0:
                raise DatasetError(f"{path} is empty: the CIFAR-10 folder is incomplete.")
            value = _ArraysOnlyUnpickler(handle, encoding="latin1").load()
    except DatasetError:
        raise
    except FileNotFoundError:
        raise DatasetError(f"{path} is missing: the CIFAR-10 folder is incomplete.") from None
    except NotRegularFileError as exc:
        raise CifarAccessError(f"{path} is {exc.kind}, not a CIFAR-10 batch file.") from None
    except PermissionError:
        raise CifarAccessError(f"No permission to read {path}.") from None
    except pickle.UnpicklingError as exc:
        if "refused global" in str(exc):
            raise UnsafeCifarFileError(
                f"{path} contains Python objects that could run code; it was refused and not loaded."
            ) from None
        raise DatasetError(f"{path} is damaged ({exc}).") from None
    except Exception as exc:  # the unpickler raises many kinds of error on damaged bytes
        raise DatasetError(f"{path} is damaged ({type(exc).__name__}: {str(exc)[:200]}).") from None
    if not isinstance(value, dict):
        raise DatasetError(f"{path} is not a CIFAR-10 batch.")
    return value


def _field(batch: dict, name: str) -> Any:
    for key in (name, name.encode()):
        if key in batch:
            return batch[key]
    raise DatasetError(f"A CIFAR-10 batch has no {name!r}: the file is damaged.")
