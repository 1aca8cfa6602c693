"""Training history: every epoch's metrics and a bounded per-batch loss trace.

The per-batch trace keeps at most `max_points` entries: when full, every other point is dropped
and later points are recorded at half the rate, so a run of any length uses bounded memory while
the plot keeps its overall shape.
"""

from __future__ import annotations

import threading

import numpy as np

from vae_desktop.core.metrics import BatchMetrics, EpochMetrics

BATCH_FIELDS = ("global_step", "recon", "kl")


class TrainingHistory:
    def __init__(self, max_points: int = 500_000) -> None:
        if max_points < 2:
            raise ValueError("max_points must be at least 2")
        self.max_points = max_points
        self.epochs: list[EpochMetrics] = []
        self._batch = np.zeros((3, min(1024, max_points)), dtype=np.float64)
        self._count = 0
        self._stride = 1  # record one batch in every `stride`
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self._count

    def add_batch(self, metrics: BatchMetrics) -> None:
        if metrics.global_step % self._stride:
            return
        with self._lock:
            if self._count == self._batch.shape[1]:
                if self._count >= self.max_points:
                    self._decimate()
                else:
                    grown = np.zeros((3, min(2 * self._count, self.max_points)), dtype=np.float64)
                    grown[:, : self._count] = self._batch[:, : self._count]
                    self._batch = grown
            self._batch[:, self._count] = (metrics.global_step, metrics.recon, metrics.kl)
            self._count += 1

    def add_epoch(self, metrics: EpochMetrics) -> None:
        with self._lock:
            self.epochs = [e for e in self.epochs if e.epoch < metrics.epoch] + [metrics]

    def batch_arrays(self) -> dict[str, np.ndarray]:
        """Copies of the recorded trace: global_step, recon, kl."""
        with self._lock:
            return {name: self._batch[i, : self._count].copy() for i, name in enumerate(BATCH_FIELDS)}

    def truncate(self, global_step: int, epoch: int) -> None:
        """Forget everything after a step/epoch (used when training rolls back to good weights)."""
        with self._lock:
            self._count = int(np.searchsorted(self._batch[0, : self._count], global_step, side="right"))
            self.epochs = [e for e in self.epochs if e.epoch <= epoch]

    def _decimate(self) -> None:
        keep = self._batch[:, : self._count : 2].copy()
        self._count = keep.shape[1]
        self._batch[:, : self._count] = keep
        self._stride *= 2

    def to_state(self) -> dict[str, object]:
        """Plain data for a checkpoint (numbers and numpy-free lists: loadable with weights_only)."""
        import torch

        with self._lock:
            return {
                "max_points": self.max_points,
                "stride": self._stride,
                "batch": torch.from_numpy(self._batch[:, : self._count].copy()),
                "epochs": [e.to_dict() for e in self.epochs],
            }

    @classmethod
    def from_state(cls, state: dict[str, object]) -> TrainingHistory:
        history = cls(int(state["max_points"]))  # type: ignore[call-overload]
        batch = np.asarray(state["batch"].numpy(), dtype=np.float64)  # type: ignore[attr-defined]
        if batch.ndim != 2 or batch.shape[0] != 3:
            raise ValueError("batch history has the wrong shape")
        history._stride = max(1, int(state["stride"]))  # type: ignore[call-overload]
        history._batch = np.zeros((3, max(min(1024, history.max_points), batch.shape[1])), dtype=np.float64)
        history._batch[:, : batch.shape[1]] = batch
        history._count = batch.shape[1]
        history.epochs = [EpochMetrics.from_dict(e) for e in state["epochs"]]  # type: ignore[attr-defined]
        return history
