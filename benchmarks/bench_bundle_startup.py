"""Time to first window: the PyInstaller bundle against running from source, through `--self-test`.

(benchmarks/bench_startup.py times `run_gui()` itself from source; this one compares the two ways of
shipping the app with the same probe, since the bundle can only be driven through its command line.)

    python -m benchmarks.bench_bundle_startup [--runs 3] [--bundle dist/vae-desktop/vae-desktop]

Each run starts `vae-desktop --self-test` as a fresh process and reads the self-test's JSON report:
"first window" is from process spawn to the main window having been shown (offscreen), as a user
waits for it: interpreter start, the bundle's unpacking, importing Qt (the app paints before it
imports torch). "torch loaded" is when the window has the core attached and Start works. Also
reports the whole self-test's wall time. The first run of each is cold-ish (OS file cache); the median is
the number to quote. Measures from source only when no bundle is built. Prints one JSON line, then a
table, with the machine it ran on.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._common import report

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_BUNDLE = ROOT / "dist" / "vae-desktop" / ("vae-desktop.exe" if sys.platform == "win32" else "vae-desktop")


def one_run(command: list[str], env: dict[str, str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="vae-startup-") as folder:
        report_path = Path(folder) / "report.json"
        run_env = {**env, "VAE_DESKTOP_SELFTEST_REPORT": str(report_path), "HOME": env.get("HOME", folder)}
        spawned = time.time()
        done = subprocess.run(command, env=run_env, cwd=folder, capture_output=True, text=True, timeout=600)
        ended = time.time()
        if done.returncode != 0 or not report_path.exists():
            raise SystemExit(f"bench_bundle_startup: {' '.join(command)} failed (exit {done.returncode}):\n{done.stdout}{done.stderr}")
        report = json.loads(report_path.read_text())
    if "first_window_at" not in report:
        raise SystemExit("bench_bundle_startup: this self-test does not build the main window yet (no first_window_at)")
    return {
        "torch": report.get("torch"),
        "first_window_s": report["first_window_at"] - spawned,
        "core_ready_s": report["core_ready_at"] - spawned,
        "self_test_s": ended - spawned,
    }


def measure(name: str, command: list[str], env: dict[str, str], runs: int) -> dict[str, Any]:
    samples = [one_run(command, env) for _ in range(runs)]
    return {
        "name": name,
        "torch": samples[0]["torch"],  # the bundle carries its own, maybe not the one running this script
        "first_window_s": [round(s["first_window_s"], 2) for s in samples],
        "first_window_median_s": round(statistics.median(s["first_window_s"] for s in samples), 2),
        "core_ready_median_s": round(statistics.median(s["core_ready_s"] for s in samples), 2),
        "self_test_median_s": round(statistics.median(s["self_test_s"] for s in samples), 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--bundle", type=Path, default=DEFAULT_BUNDLE)
    parser.add_argument("--python", default=sys.executable, help="interpreter for the from-source runs")
    args = parser.parse_args()

    source_env = {**os.environ, "PYTHONPATH": str(ROOT)}
    results = [measure("source", [args.python, "-m", "vae_desktop", "--self-test"], source_env, args.runs)]
    bundle = args.bundle.resolve()
    if bundle.is_file():
        bundle_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        results.append(measure("bundle", [str(bundle), "--self-test"], bundle_env, args.runs))
    else:
        print(f"bench_bundle_startup: no bundle at {args.bundle}; measuring source only", file=sys.stderr)

    rows = []
    for r in results:
        each = ", ".join(f"{x:.2f}" for x in r["first_window_s"])
        rows += [
            (f"{r['name']}: first window (median; runs {each})", f"{r['first_window_median_s']:.2f} s", ""),
            (f"{r['name']}: torch {r['torch']} loaded, Start works", f"{r['core_ready_median_s']:.2f} s", ""),
            (f"{r['name']}: whole self-test", f"{r['self_test_median_s']:.2f} s", ""),
        ]
    report("bundle_startup", {"runs": args.runs, "results": results}, rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
