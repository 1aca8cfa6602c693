"""Files a user can share: image sheets as PNG, an interpolation as an animated GIF, the run's config.

Pure numpy + Pillow (no Qt): the GUI hands over the arrays it shows (decoded images in [0, 1]) and
these functions write them. Small images are enlarged by a whole factor with nearest-neighbour
sampling, so a 28×28 digit stays a crisp block of pixels in any viewer instead of a blur. Every
file is written atomically: an export that fails halfway leaves no broken file behind.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from vae_desktop.core.atomic import atomic_write_bytes
from vae_desktop.core.errors import VaeDesktopError
from vae_desktop.core.mosaic import tile_mosaic

SHEET_GAP = 2  # pixels between tiles of a sheet, before enlarging
SHEET_FILL = 0.5  # grey gaps read as separators on black- and white-backed images alike
GIF_FRAME_MS = 150
TARGET_TILE_PX = 112  # small images are enlarged to about this size


class ExportError(VaeDesktopError):
    """There is nothing to export yet (the message says what to do first)."""


def to_uint8(image: np.ndarray) -> np.ndarray:
    """(H, W) or (H, W, 3) floats in [0, 1] (or uint8) to uint8, clipped and rounded."""
    array = np.asarray(image)
    if array.dtype == np.uint8:
        return array
    return (np.clip(array, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def enlarge(image: np.ndarray, factor: int) -> np.ndarray:
    """Repeat every pixel `factor` times along both axes (nearest neighbour)."""
    if factor < 1:
        raise ValueError(f"the enlargement factor must be at least 1, not {factor}")
    if factor == 1:
        return np.asarray(image)
    return np.repeat(np.repeat(np.asarray(image), factor, axis=0), factor, axis=1)


def tile_factor(tile_height: int, target: int = TARGET_TILE_PX) -> int:
    """The whole factor that brings a tile of `tile_height` pixels closest to `target` (at least 1)."""
    return max(1, round(target / max(1, tile_height)))


def png_bytes(image: np.ndarray, factor: int = 1) -> bytes:
    """Encode a (H, W) grayscale or (H, W, 3) colour image as PNG, enlarged by `factor`."""
    pixels = enlarge(to_uint8(image), factor)
    if pixels.ndim not in (2, 3) or (pixels.ndim == 3 and pixels.shape[2] != 3):
        raise ValueError(f"cannot write an image of shape {pixels.shape} as PNG")
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels)).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def write_png(image: np.ndarray, path: str | os.PathLike[str], factor: int = 1) -> Path:
    return atomic_write_bytes(path, png_bytes(image, factor))


def reconstruction_sheet(originals: np.ndarray, reconstructions: np.ndarray) -> np.ndarray:
    """Two rows, test images above their reconstructions, with thin grey gaps: what the strip shows."""
    originals = np.asarray(originals, dtype=np.float32)
    reconstructions = np.asarray(reconstructions, dtype=np.float32)
    if originals.shape != reconstructions.shape:
        raise ValueError(f"{originals.shape} originals do not match {reconstructions.shape} reconstructions")
    count = len(originals)
    return tile_mosaic(np.concatenate([originals, reconstructions]), 2, count, gap=SHEET_GAP, fill=SHEET_FILL)


def gif_bytes(frames: Sequence[np.ndarray] | np.ndarray, factor: int = 1, frame_ms: int = GIF_FRAME_MS) -> bytes:
    """An endlessly looping animated GIF, one frame per image (each (H, W) or (H, W, 3) in [0, 1]).

    GIF can only store identical neighbouring frames once (Pillow merges them, adding up their
    durations), so a path through an untrained model that decodes to the same image twice has fewer
    frames than steps; any trained model gives one frame per step.
    """
    arrays = [np.ascontiguousarray(enlarge(to_uint8(frame), factor)) for frame in frames]
    if not arrays:
        raise ValueError("an animation needs at least one frame")
    pictures = [Image.fromarray(array) for array in arrays]
    if pictures[0].mode == "RGB":
        # One palette from all frames together keeps colours steady from frame to frame.
        palette = Image.fromarray(np.concatenate([to_uint8(frame) for frame in frames])).quantize(colors=256)
        pictures = [picture.quantize(palette=palette) for picture in pictures]
    buffer = io.BytesIO()
    pictures[0].save(
        buffer, format="GIF", save_all=True, append_images=pictures[1:], duration=frame_ms, loop=0,
    )
    return buffer.getvalue()


def write_gif(
    frames: Sequence[np.ndarray] | np.ndarray, path: str | os.PathLike[str], factor: int = 1,
    frame_ms: int = GIF_FRAME_MS,
) -> Path:
    return atomic_write_bytes(path, gif_bytes(frames, factor, frame_ms))


def json_bytes(data: Mapping[str, Any]) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=False, default=_jsonable) + "\n").encode("utf-8")


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (tuple, set, np.ndarray)):
        return list(value.tolist() if isinstance(value, np.ndarray) else value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")
