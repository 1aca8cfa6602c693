"""RunHistory: a run's whole batch and epoch history, built by applying follower updates in order.

The one place that knows what `restarted` and `rewind` mean for rows already held, so opening a
run, following it and comparing runs all keep exactly the rows the log describes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from vae_desktop.core.metrics import EpochMetrics
from vae_desktop.core.runs.schema import BATCH_FIELDS, EpochRow, RewindRow
from vae_desktop.core.series import GrowingColumns


class _Update(Protocol):
    batch: dict[str, np.ndarray]
    epochs: list[EpochRow]
    rewind: RewindRow | None
    restarted: bool


class RunHistory:
    def __init__(self) -> None:
        self._batch = GrowingColumns(len(BATCH_FIELDS), capacity=4096)
        self.epochs: list[EpochRow] = []

    def __len__(self) -> int:
        return len(self._batch)

    def apply(self, update: _Update) -> None:
        if update.restarted:
            self._batch.clear()
            self.epochs = []
        if update.rewind is not None:
            self._rewind(update.rewind)
        rows = np.vstack([update.batch[name] for name in BATCH_FIELDS])
        if rows.shape[1]:
            self._batch.append(rows)
        for row in update.epochs:
            if self.epochs and self.epochs[-1].metrics.epoch >= row.metrics.epoch:  # a repeated epoch replaces
                self.epochs = [e for e in self.epochs if e.metrics.epoch < row.metrics.epoch]
            self.epochs.append(row)

    def batch_arrays(self, names: Sequence[str] = BATCH_FIELDS) -> dict[str, np.ndarray]:
        """Copies of every batch row held, by schema.BATCH_FIELDS name (only `names`: a live
        comparison copies the three columns it draws, once a second)."""
        view = self._batch.view()
        return {name: view[BATCH_FIELDS.index(name)].copy() for name in names}

    @property
    def epoch_metrics(self) -> list[EpochMetrics]:
        return [row.metrics for row in self.epochs]

    def _rewind(self, rewind: RewindRow) -> None:
        view = self._batch.view()
        keep = view[0] <= rewind.global_step
        if not keep.all():
            kept = view[:, keep].copy()
            self._batch.clear()
            self._batch.append(kept)
        self.epochs = [e for e in self.epochs if e.metrics.epoch <= rewind.epoch]
