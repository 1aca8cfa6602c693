"""Shared by the GUI benchmarks: a description of the machine (so numbers can be compared honestly)
and an event-loop wait that keeps Qt running."""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path


def machine_info() -> dict[str, object]:
    """CPU, cores, load, OS and library versions: printed with every result."""
    import numpy
    import pyqtgraph
    import PySide6
    import torch

    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    try:
        load = [round(v, 2) for v in os.getloadavg()]
    except (AttributeError, OSError):
        load = None
    return {
        "cpu": cpu,
        "logical_cores": os.cpu_count(),
        "load_average": load,
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "pyside6": PySide6.__version__,
        "pyqtgraph": pyqtgraph.__version__,
        "numpy": numpy.__version__,
        "qt_platform": os.environ.get("QT_QPA_PLATFORM", "native"),
    }


def print_machine(info: dict[str, object]) -> None:
    print("Machine:")
    for key, value in info.items():
        print(f"  {key:<14} {value}")


def use_offscreen_without_display() -> None:
    """Measure on the real display when there is one; offscreen (still painting) otherwise."""
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) and sys.platform.startswith("linux"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def wait(seconds: float) -> None:
    """Run the Qt event loop for `seconds` (it releases the GIL while idle, like the real app)."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(max(0, int(seconds * 1000)), loop.quit)
    loop.exec()


def wait_until(condition, timeout_s: float, step_s: float = 0.02) -> bool:
    import time

    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        wait(step_s)
    return True


def wait_until_process_idle(timeout_s: float = 10.0, window_s: float = 0.2, busy_share: float = 0.05) -> bool:
    """Run the event loop until this process uses under `busy_share` of one core over `window_s`.

    A window that was just paused still finishes what the pause started (the last weights decoded,
    a latent-map refresh on its worker thread). A bare-loop segment timed on top of that would be
    slowed by the window's leftovers and flatter the window; this waits them out first.
    """
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        before = time.process_time()
        wait(window_s)
        if time.process_time() - before < busy_share * window_s:
            return True
    return False


def open_training_window(train_config, settle_s: float = 0.5):
    """The real app window as `run_gui` sets it up, on shapes with the default model, ready to train.

    Returns (window, dataset, training_threads). Shared by the benchmarks that time the window
    while it trains, so they all measure the same set-up.
    """
    import tempfile

    use_offscreen_without_display()
    from vae_desktop.core.allocator import tune_allocator

    tune_allocator()  # as run_gui does at start; applies to both sides of any comparison

    from PySide6.QtCore import QSettings

    from vae_desktop.core.config import ModelConfig
    from vae_desktop.core.datasets.shapes import load_shapes
    from vae_desktop.ui.app import build_main_window, freeze_startup_objects, warm_up_core
    from vae_desktop.ui.run_controller import default_training_threads
    from vae_desktop.ui.window_settings import RUNS_FOLDER_KEY

    threads = default_training_threads()
    dataset = load_shapes()
    model_config = ModelConfig()
    settings_dir = tempfile.mkdtemp(prefix="vae-bench-")
    settings = QSettings(f"{settings_dir}/settings.ini", QSettings.Format.IniFormat)
    settings.setValue(RUNS_FOLDER_KEY, f"{settings_dir}/runs")  # autosave on, as by default, into a temp folder
    window = build_main_window(settings=settings, model_template=model_config, training_threads=threads)
    window.provide_dataset(dataset, "shapes")
    form = window.form
    form.z_dim.setValue(model_config.z_dim)
    form.batch_size.setValue(train_config.batch_size)
    form.epochs.setValue(train_config.epochs)
    form.lr.setText(f"{train_config.lr:g}")
    form.beta.setText(f"{train_config.beta:g}")
    form.device.setCurrentIndex(form.device.findData(train_config.device))
    window.resize(1320, 820)
    window.show()
    warm_up_core()  # what the app does in the background after its first paint
    freeze_startup_objects()
    wait(settle_s)
    return window, dataset, threads
