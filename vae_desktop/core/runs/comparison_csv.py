"""The comparison as a spreadsheet: one row per epoch, one column per run and term.

Columns are "<run> train recon", "<run> train KL", "<run> train -ELBO" and the same for test,
for each run in the comparison's order; an epoch a run has not reached is an empty cell. Values
are written at full precision (Python's repr), so they equal the runs' metrics.jsonl numbers.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from pathlib import Path

from vae_desktop.core.atomic import atomic_write_bytes
from vae_desktop.core.runs.comparison import ComparedRun

TERMS: tuple[tuple[str, str], ...] = (
    ("train recon", "train_recon"),
    ("train KL", "train_kl"),
    ("train -ELBO", "train_total"),
    ("test recon", "test_recon"),
    ("test KL", "test_kl"),
    ("test -ELBO", "test_total"),
)


def comparison_columns(runs: Sequence[ComparedRun]) -> list[str]:
    return ["epoch"] + [f"{run.name} {term}" for run in runs for term, _ in TERMS]


def comparison_rows(runs: Sequence[ComparedRun]) -> list[list[str]]:
    by_run = [{e.epoch: e for e in run.curves.epochs} for run in runs]
    epochs = sorted({epoch for rows in by_run for epoch in rows})
    table = []
    for epoch in epochs:
        row = [str(epoch)]
        for rows in by_run:
            metrics = rows.get(epoch)
            row.extend("" if metrics is None else repr(float(getattr(metrics, name))) for _, name in TERMS)
        table.append(row)
    return table


def comparison_csv(runs: Sequence[ComparedRun]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(comparison_columns(runs))
    writer.writerows(comparison_rows(runs))
    return out.getvalue()


def write_comparison_csv(runs: Sequence[ComparedRun], path: str | os.PathLike[str]) -> Path:
    """Write the CSV atomically; returns the path."""
    return atomic_write_bytes(path, comparison_csv(runs).encode("utf-8"))
