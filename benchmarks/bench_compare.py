"""Comparing runs: reading a run folder for the comparison (off the GUI thread) and what adding it
costs the GUI thread (plot items, legend, run list), for runs of --rows batch rows.

Two run folders are written by the real RunWriter (thinning off, so each file holds --rows batch
rows), read with open_compared_run as the comparison's background thread does, then added to a
real window's comparison (offscreen). Target: the GUI thread's one-off share of adding a run stays
under 100 ms (a response that feels instant) however long the runs: the long part, reading the
folder and working out the thinned trace, happens on the background thread.

    python -m benchmarks.bench_compare [--rows 1000000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks._common import report
from benchmarks.bench_run_folder import write_run

GUI_TARGET_S = 0.100


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--steps-per-epoch", type=int, default=469)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from vae_desktop.core.runs.comparison import open_compared_run
    from vae_desktop.ui.app import create_application
    from vae_desktop.ui.main_window import MainWindow

    create_application()
    with tempfile.TemporaryDirectory() as tmp:
        folders = [Path(tmp) / f"run-{i}" for i in range(2)]
        for folder in folders:
            write_run(folder, args.rows, args.steps_per_epoch)
        reads, gui = [], []
        for _ in range(args.repeats):
            window = MainWindow()
            window.resize(1400, 900)
            window.show()
            window.attach_core()  # the comparison comes with the core (it is built after the first paint)
            comparison = window.comparison
            assert comparison is not None
            for folder in folders:
                started = time.perf_counter()
                run = open_compared_run(str(folder))
                reads.append(time.perf_counter() - started)
                started = time.perf_counter()
                comparison.comparison.add(run)
                gui.append(time.perf_counter() - started)
            window.setWindowModified(False)
            window.close()
            window.deleteLater()
    read_s, gui_median, gui_worst = statistics.median(reads), statistics.median(gui), max(gui)
    # the worst is the first run added in the process: pyqtgraph's and Qt's one-time costs land there
    report("compare", {"rows": args.rows, "read_s_median": read_s, "gui_add_s_median": gui_median,
                       "gui_add_s_max": gui_worst, "gui_target_s": GUI_TARGET_S},
           [("read one run folder (background)", f"{read_s:.2f} s", "≤ 2 s (as opening a run)"),
            ("add it to the plots (GUI thread), median", f"{gui_median * 1000:.1f} ms",
             f"≤ {GUI_TARGET_S * 1000:.0f} ms"),
            ("add it to the plots (GUI thread), worst", f"{gui_worst * 1000:.1f} ms", "first in the process")])


if __name__ == "__main__":
    main()
