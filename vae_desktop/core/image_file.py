"""Reading one image file into the shape a model expects, for encoding it onto the latent map."""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from vae_desktop.core.errors import VaeDesktopError
from vae_desktop.core.regular_files import NotRegularFileError, open_regular

if TYPE_CHECKING:
    from PIL.Image import Image as PillowImage

log = logging.getLogger(__name__)


class ImageFileError(VaeDesktopError):
    """An image file cannot be read or is not an image."""


class InvalidPixelsError(ImageFileError):
    """A float image holds NaN or infinite values: no brightness can be made of them."""


def read_image_file(path: str | os.PathLike[str], shape: tuple[int, int, int]) -> np.ndarray:
    """Load `path` as a uint8 (C, H, W) array for a model with image shape (C, H, W).

    Colour is reduced to grey for one-channel models (and grey expanded to RGB for colour ones),
    transparency is composited onto black (the datasets' background) and the image is scaled to fit
    H×W with its aspect ratio kept (letterboxed), the same way image-folder datasets are prepared.
    """
    from PIL import Image, UnidentifiedImageError  # deferred: only this feature needs Pillow here

    channels, height, width = shape
    file = Path(path)
    if not file.is_file():
        raise ImageFileError(f"{file} does not exist or is not a file.")
    if channels not in (1, 3):
        raise ImageFileError(f"Models with {channels} image channels cannot encode image files.")
    try:
        with pillow_warnings_logged(), decoded_image(file, Image) as img:
            array = image_to_array(img, channels, height, width, Image)
    except ImageFileError:
        raise
    except NotRegularFileError as exc:
        raise ImageFileError(f"{file.name} is {exc.kind}, not an image file.") from exc
    except PermissionError as exc:
        raise ImageFileError(f"No permission to read {file}.") from exc
    except Image.DecompressionBombError as exc:
        raise ImageFileError(f"{file.name} is too large to open safely: {exc}") from exc
    except UnidentifiedImageError as exc:
        empty = file.stat().st_size == 0 if file.exists() else False
        raise ImageFileError(f"{file.name} is empty." if empty else f"{file.name} is not an image Pillow can read.") from exc
    except (OSError, ValueError) as exc:
        raise ImageFileError(f"Cannot read {file.name}: {exc}") from exc
    return array


@contextmanager
def decoded_image(path: Path, image_module: ModuleType) -> Iterator[PillowImage]:
    """Pillow's image of `path`, fully decoded: only a regular file is ever opened (see
    core/regular_files.py), and float pixels that are NaN or infinite are an InvalidPixelsError.

    Raises what Pillow raises for damaged files and oversized images (DecompressionBombError)."""
    with open_regular(path) as handle, image_module.open(handle) as img:
        img.load()
        check_finite_pixels(img, path.name)
        yield img


def check_finite_pixels(img: PillowImage, name: str) -> None:
    """Refuse a float image holding NaN or infinity: scaled to 0..255 it would turn all black (and
    numpy would print warnings with source lines), which trains on an image that is not there."""
    if img.mode == "F" and not np.isfinite(np.asarray(img)).all():
        raise InvalidPixelsError(f"{name} has pixels that are not numbers (NaN or infinity).")


@contextmanager
def pillow_warnings_logged() -> Iterator[None]:
    """Pillow warns (with the source line) about oversized, odd or slightly damaged files; the user
    gets our one message instead, and the warning text goes to the log.

    `warnings.catch_warnings` is process-wide (before Python 3.14): a warning another thread raises
    meanwhile is logged too instead of printed, which is harmless."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            for warning in caught:
                log.info("%s: %s", warning.category.__name__, warning.message)


def image_to_array(
    img: PillowImage, channels: int, height: int, width: int, image_module: ModuleType, crop: bool = False
) -> np.ndarray:
    """A loaded Pillow image as uint8 (channels, height, width): the one preparation for every image.

    Image-folder datasets and files opened onto the latent map both use it, so a file encodes exactly
    like its copy in a dataset: 16-bit and float images scaled to 0..255 (not clipped), transparency
    composited onto black (the datasets' background), grey or RGB, scaled with Lanczos to fit and
    letterboxed (`letterbox`): a 640×480 photo keeps its shapes instead of being squashed square.
    With `crop` (an image folder read at an explicit `--image-size`) the shorter side is scaled to
    fit instead and the middle cut out (`ImageOps.fit`), as usual for photos such as faces at 64×64.
    """
    img = _to_8bit(img, image_module)
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        img = image_module.alpha_composite(image_module.new("RGBA", rgba.size, (0, 0, 0, 255)), rgba)
    img = img.convert("L" if channels == 1 else "RGB")
    if crop:
        from PIL import ImageOps

        array = np.asarray(ImageOps.fit(img, (width, height), image_module.Resampling.LANCZOS), dtype=np.uint8)
    else:
        array = letterbox(img, width, height, image_module)
    return array[None].copy() if channels == 1 else array.transpose(2, 0, 1).copy()


def letterbox(img: PillowImage, width: int, height: int, image_module: ModuleType) -> np.ndarray:
    """An "L" or "RGB" Pillow image scaled to fit width×height with its aspect ratio kept, centred.

    The bands left over are filled with the median colour of the scaled image's outermost pixels, so
    they continue its own background (black around a digit, white around a photographed object)
    instead of adding a frame the model never saw. Returns uint8 (height, width[, 3]).
    """
    w, h = img.size
    scale = min(width / w, height / h)
    size = (min(width, max(1, round(w * scale))), min(height, max(1, round(h * scale))))
    scaled = np.asarray(img.resize(size, image_module.Resampling.LANCZOS), dtype=np.uint8)
    if size == (width, height):
        return scaled
    border = np.concatenate([scaled[0], scaled[-1], scaled[:, 0], scaled[:, -1]])
    fill = np.median(border, axis=0).round().astype(np.uint8)
    out = np.empty((height, width, *scaled.shape[2:]), np.uint8)
    out[...] = fill
    top, left = (height - size[1]) // 2, (width - size[0]) // 2
    out[top : top + size[1], left : left + size[0]] = scaled
    return out


def _to_8bit(img: PillowImage, image_module: ModuleType) -> PillowImage:
    """16-bit images scaled by the 16-bit range (by their own range when they use only 0..255), float
    images by their own range (by 1 when they lie in 0..1), so nothing is clipped at 255."""
    if img.mode not in ("I", "I;16", "I;16B", "I;16L", "F"):
        return img
    array = np.asarray(img, dtype=np.float64)
    high = 65535.0 if img.mode.startswith("I") and array.max(initial=0) > 255 else max(array.max(initial=1), 1.0)
    if img.mode == "F" and array.max(initial=0) <= 1.0:
        high = 1.0
    return image_module.fromarray(np.clip(array / high * 255.0, 0, 255).astype(np.uint8), mode="L")
