"""metrics.csv: one row per epoch, shared by the CLI's --out folder and the GUI's export.

A column an older epoch did not measure (active_units before it existed) is an empty cell."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable
from pathlib import Path

from vae_desktop.core.atomic import atomic_write_bytes
from vae_desktop.core.metrics import EPOCH_COLUMNS, EpochMetrics


def epochs_to_csv(epochs: Iterable[EpochMetrics]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EPOCH_COLUMNS)
    for e in epochs:
        writer.writerow([e.epoch, *(_cell(getattr(e, c)) for c in EPOCH_COLUMNS[1:])])
    return buffer.getvalue()


def write_metrics_csv(epochs: Iterable[EpochMetrics], path: str | os.PathLike[str]) -> Path:
    return atomic_write_bytes(path, epochs_to_csv(epochs).encode("utf-8"))


def _cell(value: float | int | None) -> str:
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    return f"{value:.6g}"
