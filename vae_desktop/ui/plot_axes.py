"""Axes for the loss plots: readable tick labels on a logarithmic scale.

pyqtgraph labels a log axis that spans about one decade at every 2..9 multiple ("9·10¹", "10²",
"2·10²" …) on a single tick level, and a level is never thinned, so neighbouring labels were drawn
on top of each other. This axis picks its log ticks itself: decades first, then 2 and 5, then the
other multiples, then plain steps inside a narrow range, each only where its label has room, and
writes them as plain numbers (50, 100, 200).
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QFontMetrics

LABEL_GAP = 1.5  # labelled ticks at least this many text heights apart
_MULTIPLES = ((1,), (2, 5), (3,), (4, 6, 7, 8, 9))  # decades first, then the roundest multiples


def log_tick_positions(low: float, high: float, px_per_decade: float, min_gap_px: float) -> list[float]:
    """log10 positions of the labelled ticks for a log axis showing 10**low .. 10**high.

    Candidates come in order of roundness; each is kept only if it is at least `min_gap_px` from
    every tick kept before it, so no two labels can overlap whatever the range and the axis length.
    """
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low or px_per_decade <= 0:
        return []
    kept: list[float] = []

    def offer(position: float) -> None:
        if low - 1e-9 <= position <= high + 1e-9 and all(
            abs(position - other) * px_per_decade >= min_gap_px for other in kept
        ):
            kept.append(position)

    decades = range(math.floor(low), math.ceil(high) + 1)
    for multiples in _MULTIPLES:
        for decade in decades:
            for multiple in multiples:
                offer(decade + math.log10(multiple))
    if len(kept) < 3:  # a narrow range (e.g. 50..60): plain steps of 1, 2 or 5 times a power of ten
        first, last = 10.0**low, 10.0**high
        power = 10.0 ** math.floor(math.log10(last - first))
        for step in (power, power / 2, power / 5, power / 10):
            for value in np.arange(math.ceil(first / step) * step, last + step * 1e-6, step):
                if value > 0:
                    offer(math.log10(value))
    return sorted(kept)


def plain_number(value: float) -> str:
    """A tick label: 3 significant digits, no exponent for ordinary sizes (0.05, 200, 1500)."""
    if value == 0 or not math.isfinite(value):
        return str(value)
    rounded = float(f"{value:.3g}")
    if 1e-4 <= abs(rounded) < 1e6:
        return np.format_float_positional(rounded, trim="-")
    return f"{rounded:.0e}".replace("e+0", "e").replace("e-0", "e-")


class LossAxis(pg.AxisItem):
    """A vertical value axis whose logarithmic ticks never overlap (linear ticks are pyqtgraph's own).

    The gap is measured in text heights, so it suits left and right axes, where labels stack.
    """

    def logTickValues(self, minVal: float, maxVal: float, size: float, stdTicks: list) -> list:
        font = self.style.get("tickFont") or self.font()
        gap = LABEL_GAP * QFontMetrics(font).height()
        span = max(maxVal - minVal, 1e-12)
        return [(None, log_tick_positions(minVal, maxVal, size / span, gap))]

    def logTickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return [plain_number(10.0**v * scale) for v in values]
