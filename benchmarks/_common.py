"""Shared by the benchmark scripts: machine description and the one-JSON-line-plus-table report."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from benchmarks.machine import machine_info


def report(name: str, results: Mapping[str, Any], rows: Sequence[tuple[str, str, str]] = ()) -> None:
    """Print `{"benchmark": name, ...results, "machine": ...}` as one JSON line, then a table.

    rows: (measure, value, target) triples for the human-readable table.
    """
    print(json.dumps({"benchmark": name, **results, "machine": machine_info()}, default=float))
    if rows:
        width = max(len(r[0]) for r in rows)
        print(f"\n{name}")
        print(f"{'measure'.ljust(width)}  {'value':>14}  target")
        for measure, value, target in rows:
            print(f"{measure.ljust(width)}  {value:>14}  {target}")
        print()
