"""Which test images to show side by side with their reconstructions: a fixed, varied handful."""

from __future__ import annotations

import numpy as np


def pick_showcase_indices(labels: np.ndarray, count: int) -> np.ndarray:
    """`count` test indices cycling through the classes (first of each class, then the second, ...).

    Deterministic, so the strip shows the same images all run long and across restarts; classes
    that run out are skipped; with no labels it falls back to evenly spaced indices.
    """
    labels = np.asarray(labels)
    total = len(labels)
    count = min(count, total)
    if count <= 0:
        return np.zeros(0, dtype=np.int64)
    classes = np.unique(labels)
    if len(classes) < 2:
        return np.linspace(0, total - 1, count).round().astype(np.int64)
    per_class = [np.flatnonzero(labels == c) for c in classes]
    picked: list[int] = []
    rank = 0
    while len(picked) < count:
        for members in per_class:
            if rank < len(members) and len(picked) < count:
                picked.append(int(members[rank]))
        rank += 1
    return np.array(picked, dtype=np.int64)
