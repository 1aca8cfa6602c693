"""How long the latent map waits between automatic refreshes so it stays within a share of one core.

While training, every refresh re-encodes up to 10,000 test images (a few hundred milliseconds on a
small CPU) and then re-decodes the manifold once or twice as the view follows the data. On a 2-core
machine that work competes with the training thread, so the map spends at most `share` of one core:
the pause after a refresh is everything the refresh cost, divided by `share`. Counting every job
(not only the encode that started the cycle) matters: the cheap follow-up manifold jobs must not
shorten the pause that the expensive encode earned. Pure Python, no Qt, so it is tested directly.
"""

from __future__ import annotations


class RefreshBudget:
    """Accumulates the compute seconds of one refresh cycle and turns them into the next pause."""

    def __init__(self, share: float, min_interval_s: float, max_interval_s: float) -> None:
        if not 0 < share <= 1:
            raise ValueError(f"share must be in (0, 1], got {share}")
        if not 0 <= min_interval_s <= max_interval_s:
            raise ValueError("need 0 <= min_interval_s <= max_interval_s")
        self.share = share
        self.min_interval_s = min_interval_s
        self.max_interval_s = max_interval_s
        self._spent_s = 0.0

    @property
    def spent_s(self) -> float:
        """Compute seconds charged to the current cycle."""
        return self._spent_s

    def start_cycle(self) -> None:
        """An automatic refresh begins: what it and its follow-ups cost is counted from zero."""
        self._spent_s = 0.0

    def charge(self, seconds: float) -> None:
        """A job finished after `seconds` of compute (any job: encode, manifold, view change)."""
        if seconds > 0:
            self._spent_s += seconds

    def interval_s(self) -> float:
        """The pause before the next automatic refresh: spent / share, within [min, max]."""
        return min(self.max_interval_s, max(self.min_interval_s, self._spent_s / self.share))

    def interval_ms(self) -> int:
        return round(1000 * self.interval_s())
