"""Growing numeric columns and a trailing mean: the data behind live loss curves.

Plots append a few rows many times per second and redraw views of everything so far, so the
buffer grows by doubling (amortised O(1) appends) and hands out views, never copies. The
trailing mean is computed incrementally from the last `window - 1` values, so smoothing a
million points once and then a few new ones at a time give exactly the same numbers.
"""

from __future__ import annotations

import numpy as np


class GrowingColumns:
    """`width` float64 columns; `append` adds rows, `view()` is the filled part (no copy)."""

    def __init__(self, width: int, capacity: int = 1024) -> None:
        if width < 1:
            raise ValueError("width must be at least 1")
        self._data = np.empty((width, max(1, capacity)), dtype=np.float64)
        self._count = 0

    def __len__(self) -> int:
        return self._count

    @property
    def width(self) -> int:
        return self._data.shape[0]

    def append(self, rows: np.ndarray) -> None:
        """Append a (width, k) block of rows (column-major, like `view()`)."""
        block = np.asarray(rows, dtype=np.float64)
        if block.ndim != 2 or block.shape[0] != self.width:
            raise ValueError(f"expected a ({self.width}, k) block, got {block.shape}")
        needed = self._count + block.shape[1]
        if needed > self._data.shape[1]:
            grown = np.empty((self.width, max(needed, 2 * self._data.shape[1])), dtype=np.float64)
            grown[:, : self._count] = self._data[:, : self._count]
            self._data = grown
        self._data[:, self._count : needed] = block
        self._count = needed

    def view(self) -> np.ndarray:
        """(width, n) view of the filled rows; valid until the next append that grows the buffer."""
        return self._data[:, : self._count]

    def clear(self) -> None:
        self._count = 0


def trailing_mean(values: np.ndarray, window: int) -> np.ndarray:
    """Mean of each value and the `window - 1` before it (fewer at the start)."""
    if window < 1:
        raise ValueError("window must be at least 1")
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        return v.copy()
    sums = np.cumsum(v)
    out = np.empty_like(sums)
    head = min(window, v.size)
    out[:head] = sums[:head] / np.arange(1, head + 1)
    if v.size > window:
        out[window:] = (sums[window:] - sums[:-window]) / window
    return out


def extend_trailing_mean(previous: np.ndarray, new: np.ndarray, window: int) -> np.ndarray:
    """Trailing means of `new` as if appended to `previous` (only its last window-1 values matter)."""
    tail = np.asarray(previous, dtype=np.float64)[len(previous) - min(len(previous), window - 1) :]
    return trailing_mean(np.concatenate([tail, np.asarray(new, dtype=np.float64)]), window)[len(tail) :]


def window_centers(positions: np.ndarray, window: int) -> np.ndarray:
    """Where each trailing mean belongs on the x axis: halfway between its window's first and last
    position (NaN until a full window exists). Plotting a trailing mean there removes its lag."""
    if window < 1:
        raise ValueError("window must be at least 1")
    p = np.asarray(positions, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    if p.size >= window:
        out[window - 1 :] = (p[window - 1 :] + p[: p.size - window + 1]) / 2
    return out


def extend_window_centers(previous: np.ndarray, new: np.ndarray, window: int) -> np.ndarray:
    """`window_centers` of `new` as if appended to `previous`."""
    tail = np.asarray(previous, dtype=np.float64)[len(previous) - min(len(previous), window - 1) :]
    return window_centers(np.concatenate([tail, np.asarray(new, dtype=np.float64)]), window)[len(tail) :]
