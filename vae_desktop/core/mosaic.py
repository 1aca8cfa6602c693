"""Tiling many small images into one array, so a view can show a whole grid with one image item.

One big image is far cheaper to draw than hundreds of small ones: the manifold grid and the
interpolation strip are each a single `setImage` call.
"""

from __future__ import annotations

import numpy as np


def tile_mosaic(images: np.ndarray, rows: int, columns: int, gap: int = 0, fill: float = 0.0) -> np.ndarray:
    """Place (rows*columns, H, W[, C]) images row by row into one (rows*H + gaps, columns*W + gaps[, C]) array.

    `gap` pixels of `fill` separate neighbouring tiles (none at the outer border).
    """
    images = np.asarray(images)
    if images.shape[0] != rows * columns:
        raise ValueError(f"{images.shape[0]} images do not fill a {rows}x{columns} mosaic")
    h, w = images.shape[1:3]
    extra = images.shape[3:]
    if gap == 0:
        grid = images.reshape(rows, columns, h, w, *extra).swapaxes(1, 2)
        return np.ascontiguousarray(grid.reshape(rows * h, columns * w, *extra))
    out = np.full((rows * h + (rows - 1) * gap, columns * w + (columns - 1) * gap, *extra), fill, images.dtype)
    for index, image in enumerate(images):
        r, c = divmod(index, columns)
        out[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = image
    return out
