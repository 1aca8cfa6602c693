"""Which batch rows a run writes: all of them at first, then one in 2, 4, 8, ... as the run grows.

The in-memory traces (core/history.py, core/series.LossTrace) keep at most N rows by dropping every
other one and halving the rate each time they fill. An append-only file cannot drop rows, so the
same doubling stride is applied on the way in: with `max_rows` = M, steps 1..M are all written,
then every 2nd step up to 2M, every 4th up to 4M, and so on. Each doubling adds M/2 rows, so the
file grows with the logarithm of the run's length (10^6 steps, M = 2^16: about 200,000 rows).

The stride is a pure function of the global step, so a resumed writer continues exactly where the
interrupted one was, and a reader can tell where the rows will be.
"""

from __future__ import annotations

import numpy as np

DEFAULT_MAX_ROWS = 2**16


def stride_at(global_step: int, max_rows: int = DEFAULT_MAX_ROWS) -> int:
    """The smallest power of two s with global_step <= max_rows * s."""
    if max_rows < 1:
        raise ValueError("max_rows must be at least 1")
    stride = 1
    while global_step > max_rows * stride:
        stride *= 2
    return stride


def keeps(global_step: int, max_rows: int = DEFAULT_MAX_ROWS) -> bool:
    """Whether the batch row of this 1-based step is written."""
    return global_step % stride_at(global_step, max_rows) == 0


def kept_mask(global_steps: np.ndarray, max_rows: int = DEFAULT_MAX_ROWS) -> np.ndarray:
    """`keeps` for many steps at once (to compute a run's size without running it)."""
    steps = np.asarray(global_steps, dtype=np.int64)
    ratio = np.maximum(1.0, np.ceil(steps / max_rows))
    strides = np.left_shift(1, np.ceil(np.log2(ratio)).astype(np.int64))
    return steps % strides == 0
