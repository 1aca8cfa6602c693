"""Plot scale: time per loss-plot refresh (set data + paint) with 10k, 100k and 1M logged points.

A refresh is what happens when a new batch arrives: one point is appended, the curves are given
their data (pyqtgraph peak-downsamples and clips to the view) and the canvas paints. The target is
16 ms with a million points, so the plots stay smooth however long a run gets. Runs offscreen.

    python -m benchmarks.bench_plot_scale [--repeats 30]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

from benchmarks._common import report

SIZES = (10_000, 100_000, 1_000_000)


def measure(size: int, repeats: int) -> dict[str, float]:
    from vae_desktop.ui.loss_plots import LossPlots

    plots = LossPlots()
    plots.resize(900, 700)
    plots.show()
    steps = np.arange(1, size + 1, dtype=np.float64)
    recon = 120 + 80 * np.exp(-steps / (size / 5)) + np.random.default_rng(0).normal(0, 3, size)
    kl = 10 + np.sin(steps / 500)
    plots.set_history(steps, recon, kl, [], steps_per_epoch=max(1, size // 50))
    plots.redraw_now()
    plots.canvas.grab()  # warm-up paint
    times = []
    for i in range(repeats):
        step = np.array([size + 1.0 + i])
        started = time.perf_counter()
        plots.append_arrays(step, np.array([120.0]), np.array([10.0]))
        plots.redraw_now()
        plots.canvas.repaint()  # synchronous paint, as the screen would
        times.append(time.perf_counter() - started)
    plots.close()
    times_ms = sorted(1000 * t for t in times)
    return {"points": size, "median_ms": statistics.median(times_ms), "p95_ms": times_ms[int(0.95 * (len(times_ms) - 1))]}


def main() -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--quick", action="store_true", help="10k points only, 3 repeats (smoke test)")
    args = parser.parse_args()
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])  # noqa: F841 (kept alive for the widgets)
    sizes = SIZES[:1] if args.quick else SIZES
    rows = [measure(size, 3 if args.quick else args.repeats) for size in sizes]
    report(
        "plot_scale",
        {"results": rows, "target_1m_ms": 16},
        [(f"refresh with {r['points']:,} points (median / p95 ms)", f"{r['median_ms']:.1f} / {r['p95_ms']:.1f}",
          "<= 16 ms" if r["points"] == 1_000_000 else "") for r in rows],
    )


if __name__ == "__main__":
    main()
