"""Growing numeric columns and a trailing mean: the data behind live loss curves.

Plots append a few rows many times per second and redraw views of everything so far, so the
buffer grows by doubling (amortised O(1) appends) and hands out views, never copies. The
trailing mean is computed incrementally from the last `window - 1` values, so smoothing a
million points once and then a few new ones at a time give exactly the same numbers.
`LossTrace` puts these together for the loss plots and bounds them: an overnight run thins its
rows instead of growing without limit.
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

    def keep_every_other(self) -> None:
        """Drop rows 1, 3, 5, ... in place (how bounded traces thin themselves out)."""
        kept = self._data[:, : self._count : 2].copy()
        self._count = kept.shape[1]
        self._data[:, : self._count] = kept


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


LOSS_TRACE_FIELDS = ("global_step", "recon", "kl", "recon_smoothed", "kl_smoothed", "smoothed_step")
MAX_TRACE_ROWS = 2**18  # 262,144 rows of 6 float64: 12.6 MB, whatever the length of the run


def smoothing_window(steps_per_epoch: int) -> int:
    """Batches averaged by a smoothed loss curve: a fifth of an epoch, within 5..200."""
    return int(min(200, max(5, steps_per_epoch // 5)))


class LossTrace:
    """Per-batch losses for live curves, bounded in memory however long the run.

    Six columns (`LOSS_TRACE_FIELDS`): global step, recon, KL, their trailing means over `window`
    batches and the step each mean is centred on (NaN before a full window). When `max_rows` are
    held, every other row is dropped and from then on one row in `stride` is kept, so a run of any
    length spans the whole plot with evenly spaced rows. Trailing means always come from every
    batch (a short tail of raw values is kept beside the thinned rows), so thinning the curve
    never changes its values.
    """

    def __init__(self, window: int, max_rows: int = MAX_TRACE_ROWS, capacity: int = 4096) -> None:
        if max_rows < 2:
            raise ValueError("max_rows must be at least 2")
        self.max_rows = max_rows
        self._columns = GrowingColumns(len(LOSS_TRACE_FIELDS), capacity=min(capacity, max_rows))
        self.reset(window)

    def __len__(self) -> int:
        return len(self._columns)

    @property
    def window(self) -> int:
        return self._window

    @property
    def stride(self) -> int:
        """One batch in `stride` is kept (1 until the trace first fills up)."""
        return self._stride

    def reset(self, window: int) -> None:
        """Forget everything; trailing means from now on average `window` batches."""
        if window < 1:
            raise ValueError("window must be at least 1")
        self._window = window
        self._columns.clear()
        self._tail = np.empty((3, 0))  # the last window-1 raw (step, recon, kl), never thinned
        self._offered = 0  # batches appended since the reset; batch i is kept when i % stride == 0
        self._stride = 1

    def append(self, steps: np.ndarray, recon: np.ndarray, kl: np.ndarray) -> None:
        """Append per-batch values (steps must keep increasing)."""
        raw = np.vstack([np.asarray(steps, np.float64), np.asarray(recon, np.float64), np.asarray(kl, np.float64)])
        if raw.shape[1] == 0:
            return
        w = self._window
        block = np.vstack([
            raw,
            extend_trailing_mean(self._tail[1], raw[1], w),
            extend_trailing_mean(self._tail[2], raw[2], w),
            extend_window_centers(self._tail[0], raw[0], w),
        ])
        tail = np.concatenate([self._tail, raw], axis=1)
        self._tail = tail[:, max(0, tail.shape[1] - (w - 1)) :]
        index = self._offered + np.arange(raw.shape[1])
        self._offered += raw.shape[1]
        keep = index % self._stride == 0
        while len(self._columns) + int(keep.sum()) > self.max_rows:
            self._columns.keep_every_other()
            self._stride *= 2
            keep = index % self._stride == 0
        self._columns.append(block[:, keep])

    def view(self) -> np.ndarray:
        """(6, n) view of the kept rows; valid until the next append."""
        return self._columns.view()

    def arrays(self) -> dict[str, np.ndarray]:
        """Copies of the kept rows by field name."""
        view = self._columns.view()
        return {name: view[i].copy() for i, name in enumerate(LOSS_TRACE_FIELDS)}
