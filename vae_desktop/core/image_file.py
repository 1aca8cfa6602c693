"""Reading one image file into the shape a model expects, for encoding it onto the latent map."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from vae_desktop.core.errors import VaeDesktopError


class ImageFileError(VaeDesktopError):
    """An image file cannot be read or is not an image."""


def read_image_file(path: str | os.PathLike[str], shape: tuple[int, int, int]) -> np.ndarray:
    """Load `path` as a uint8 (C, H, W) array for a model with image shape (C, H, W).

    Colour is reduced to grey for one-channel models (and grey expanded to RGB for colour ones),
    transparency is composited onto black (the datasets' background) and the image is squashed to
    H×W, the same way image-folder datasets are prepared.
    """
    from PIL import Image, UnidentifiedImageError  # deferred: only this feature needs Pillow here

    channels, height, width = shape
    file = Path(path)
    if not file.is_file():
        raise ImageFileError(f"{file} does not exist or is not a file.")
    try:
        with Image.open(file) as img:
            img.load()
            if img.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
                img = _scaled_to_8bit(img, Image)
            if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
                rgba = img.convert("RGBA")
                img = Image.alpha_composite(Image.new("RGBA", rgba.size, (0, 0, 0, 255)), rgba)
            img = img.convert("L" if channels == 1 else "RGB")
            img = img.resize((width, height), Image.Resampling.LANCZOS)
            array = np.asarray(img, dtype=np.uint8)
    except UnidentifiedImageError as exc:
        raise ImageFileError(f"{file.name} is not an image Pillow can read.") from exc
    except (OSError, ValueError) as exc:
        raise ImageFileError(f"Cannot read {file.name}: {exc}") from exc
    if channels == 1:
        return array[None].copy()
    if channels == 3:
        return array.transpose(2, 0, 1).copy()
    raise ImageFileError(f"Models with {channels} image channels cannot encode image files.")


def _scaled_to_8bit(img, image_module):  # noqa: ANN001, ANN202
    """16-bit and float images scaled by their own range instead of being clipped at 255."""
    array = np.asarray(img, dtype=np.float64)
    high = max(float(array.max(initial=0.0)), 1.0)
    if img.mode == "F" and array.max(initial=0.0) <= 1.0:
        high = 1.0
    return image_module.fromarray(np.clip(array / high * 255.0, 0, 255).astype(np.uint8), mode="L")
