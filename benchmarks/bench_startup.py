"""Start-up time: process start to the first painted main window, and to ready-to-train.

    python benchmarks/bench_startup.py [--runs 5] [--platform auto|offscreen|xcb]

Each run starts a fresh `python` process that runs the real `run_gui()` with an event filter that
notes when the window system first exposes the main window (on X11: the server has mapped it, what
`xdotool search --onlyvisible` sees), when the window has finished its first paint, and a poll that
notes when Start becomes usable (torch and the core loaded, in the background). Times are wall clock
from just before the process is spawned, so they include interpreter start and all imports.
`import torch` alone is timed the same way for comparison. Runs offscreen and, where an X server or
Xvfb is available, on xcb (benchmarks/platforms.py), and reports both.

Targets: first paint <= 1 s (offscreen), <= 0.7 s under X11. Prints one JSON line, then a table per
platform, then the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.machine import machine_info, print_machine  # noqa: E402
from benchmarks.platforms import run_benchmark  # noqa: E402

TARGET_FIRST_PAINT_S = {"offscreen": 1.0, "xcb": 0.7}

CHILD = textwrap.dedent(
    """
    import json, sys, time
    from PySide6.QtCore import QEvent, QObject, QTimer
    from vae_desktop.ui import app as gui
    from vae_desktop.ui.main_window import MainWindow

    marks = {}

    class FirstPaint(QObject):
        def eventFilter(self, obj, event):
            if "exposed" not in marks and event.type() == QEvent.Type.Expose and obj.isWindowType():
                handle = obj  # the main window's QWindow: exposed = mapped and viewable on X11
                if any(w.windowHandle() is handle for w in app.topLevelWidgets() if isinstance(w, MainWindow)):
                    marks["exposed"] = time.time()
            if "paint" not in marks and event.type() == QEvent.Type.Paint and isinstance(obj, MainWindow):
                marks["paint"] = None
                # Runs after this paint pass (all child widgets included) has been flushed.
                QTimer.singleShot(0, lambda: marks.__setitem__("paint", time.time()))
            return False

    def poll_ready():
        windows = [w for w in app.topLevelWidgets() if isinstance(w, MainWindow)]
        if windows and windows[0].start_button.isEnabled():
            marks["ready"] = time.time()
            print("MARKS " + json.dumps(marks), flush=True)  # run_gui may leave via os._exit
            windows[0].close()
        else:
            QTimer.singleShot(5, poll_ready)

    app = gui.create_application()
    watcher = FirstPaint()
    app.installEventFilter(watcher)
    QTimer.singleShot(0, poll_ready)
    sys.exit(gui.run_gui(None))
    """
)


def spawn(code: str, env: dict[str, str]) -> tuple[float, str]:
    started = time.time()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    if done.returncode != 0:
        raise SystemExit(f"bench_startup: child failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return started, done.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    return run_benchmark(parser, run)


def run(args: argparse.Namespace) -> int:
    scratch = tempfile.mkdtemp(prefix="vae-bench-startup-")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "XDG_CONFIG_HOME": f"{scratch}/config",  # the user's own window settings stay untouched
        "VAE_DESKTOP_LOG_DIR": f"{scratch}/logs",
    }

    spawn("import vae_desktop.ui.app, torch", env)  # warm the OS file cache once; not counted
    paints, exposes, readies, torches = [], [], [], []
    for _ in range(args.runs):
        started, out = spawn(CHILD, env)
        marks = json.loads(out.split("MARKS ", 1)[1])
        paints.append(marks["paint"] - started)
        exposes.append(marks.get("exposed", marks["paint"]) - started)
        readies.append(marks["ready"] - started)
        t0 = time.time()
        spawn("import torch", env)
        torches.append(time.time() - t0)

    first_paint = statistics.median(paints)
    ready = statistics.median(readies)
    platform = os.environ.get("QT_QPA_PLATFORM", "native")
    target = TARGET_FIRST_PAINT_S.get(platform, TARGET_FIRST_PAINT_S["offscreen"])
    info = machine_info()
    result = {
        "benchmark": "startup",
        "first_paint_s": round(first_paint, 3),
        "first_paint_max_s": round(max(paints), 3),
        "first_paint_runs_s": [round(p, 3) for p in paints],
        "exposed_s": round(statistics.median(exposes), 3),
        "ready_to_train_s": round(ready, 3),
        "ready_to_train_max_s": round(max(readies), 3),
        "python_import_torch_s": round(statistics.median(torches), 3),
        "runs": args.runs,
        "target_first_paint_s": target,
        "meets_target": first_paint <= target,
        "machine": info,
    }
    print(json.dumps(result))
    print()
    print(f"{'process start to':<34}{'median s':>10}{'max s':>10}")
    print(f"{'window exposed (mapped)':<34}{statistics.median(exposes):>10.3f}{max(exposes):>10.3f}")
    print(f"{'first painted window':<34}{first_paint:>10.3f}{max(paints):>10.3f}")
    print(f"{'ready to train (Start usable)':<34}{ready:>10.3f}{max(readies):>10.3f}")
    torch_label = "(python -c 'import torch')"
    print(f"{torch_label:<34}{statistics.median(torches):>10.3f}{max(torches):>10.3f}")
    print(f"target on {platform}: first paint <= {target:g} s -> {'met' if result['meets_target'] else 'NOT met'}"
          f" ({args.runs} runs)")
    print_machine(info)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
