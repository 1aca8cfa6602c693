"""numpy images to QImages: the one conversion every widget that shows a decoded or dataset image uses.

No torch here: the reconstruction strip uses it and is part of the window that paints before torch loads.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage


def to_qimage(image: np.ndarray, scale: int = 1) -> QImage:
    """(H, W) or (H, W, 3) floats in [0, 1] (or uint8) to a QImage that owns its pixels.

    `scale` > 1 enlarges by pixel repetition (nearest neighbour), for widgets that show the pixels
    of a 28×28 image as crisp squares without relying on the painter's scaling.
    """
    array = np.asarray(image)
    if array.dtype != np.uint8:
        array = (np.clip(array.astype(np.float32), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    if scale > 1:
        array = np.repeat(np.repeat(array, scale, axis=0), scale, axis=1)
    array = np.ascontiguousarray(array)
    height, width = array.shape[:2]
    if array.ndim == 2:
        qimage = QImage(array.data, width, height, width, QImage.Format.Format_Grayscale8)
    elif array.ndim == 3 and array.shape[2] == 3:
        qimage = QImage(array.data, width, height, 3 * width, QImage.Format.Format_RGB888)
    else:
        raise ValueError(f"cannot show an image of shape {array.shape}")
    return qimage.copy()  # detach from the numpy buffer, which goes away with this call
