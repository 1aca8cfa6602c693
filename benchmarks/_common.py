"""Shared by the benchmark scripts: machine description and the one-JSON-line-plus-table report."""

from __future__ import annotations

import json
import os
import platform
import sys
from collections.abc import Mapping, Sequence
from typing import Any


def machine_info() -> dict[str, Any]:
    """CPU, cores, Python, torch and Qt versions: every result is reported with the machine it ran on."""
    info: dict[str, Any] = {
        "cpu": _cpu_name(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
    }
    try:
        import torch

        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
        info["cuda"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except ImportError:  # pragma: no cover
        info["torch"] = None
    if "PySide6" in sys.modules or _importable("PySide6"):
        import PySide6

        info["qt"] = PySide6.__version__
    return info


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


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None
