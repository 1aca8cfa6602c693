"""The window paints before torch is imported, and `run_gui` starts, loads the core, and exits cleanly."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=ROOT)


def test_the_window_paints_without_torch_and_start_waits_for_it():
    result = _run("""
        import sys
        from vae_desktop.ui.app import create_application, create_main_window
        app = create_application()
        window = create_main_window()
        window.show()
        app.processEvents()
        image = window.grab()
        assert "torch" not in sys.modules, "the first window must not need torch"
        # nor what only the core's parts need (each costs start-up time: the comparison's ~0.1 s)
        early = [m for m in ("psygnal", "vae_desktop.core.runs.comparison", "vae_desktop.ui.comparison_controller",
                             "vae_desktop.core.runs.comparison_live", "vae_desktop.ui.compare_live")
                 if m in sys.modules]
        assert not early, f"imported before the first paint: {early}"
        assert window.comparison is None
        assert not image.isNull() and image.width() > 500
        print("start enabled:", window.start_button.isEnabled(), "|", window.start_button.toolTip())
        window.attach_core()
        assert "torch" in sys.modules
        assert window.comparison is not None and window.comparison.actions.compare_runs.objectName() == "compareRunsAction"
        print("after core:", window.start_button.isEnabled())
    """)
    assert result.returncode == 0, result.stderr
    assert "start enabled: False | Loading PyTorch" in result.stdout
    assert "after core: True" in result.stdout


def test_run_gui_loads_the_core_in_the_background_and_exits_cleanly(tmp_path):
    log_dir = tmp_path / "logs"
    result = _run(f"""
        import os, time
        os.environ["VAE_DESKTOP_LOG_DIR"] = {str(log_dir)!r}
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication
        from vae_desktop.ui import app as gui
        from vae_desktop.ui.main_window import MainWindow

        started = time.perf_counter()
        def close_when_ready():
            windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
            if windows and windows[0].controller is not None:
                print("ready after", round(time.perf_counter() - started, 2), "s")
                windows[0].close()
            else:
                QTimer.singleShot(50, close_when_ready)
        gui.create_application()
        QTimer.singleShot(50, close_when_ready)
        raise SystemExit(gui.run_gui(None))
    """)
    assert result.returncode == 0, result.stderr
    assert "ready after" in result.stdout
    assert "Destroyed while thread" not in result.stderr
    log_text = (log_dir / "vae-desktop.log").read_text()
    assert "starting" in log_text and "closed" in log_text


def test_run_gui_with_a_bad_checkpoint_shows_an_error_instead_of_exiting(tmp_path):
    bad = tmp_path / "broken.vaeckpt"
    bad.write_bytes(b"not a checkpoint")
    result = _run(f"""
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication
        from vae_desktop.ui import app as gui
        from vae_desktop.ui.main_window import MainWindow

        def report_when_ready():
            windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
            if windows and windows[0].controller is not None:
                print("banner:", windows[0].banner.kind, windows[0].banner.message())
                windows[0].close()
            else:
                QTimer.singleShot(50, report_when_ready)
        gui.create_application()
        QTimer.singleShot(50, report_when_ready)
        raise SystemExit(gui.run_gui({str(bad)!r}))
    """)
    assert result.returncode == 0, result.stderr
    assert "banner: error" in result.stdout and "broken.vaeckpt" in result.stdout


def test_torch_starts_loading_only_after_the_first_frame_is_out():
    """The background `import torch` holds the GIL for long stretches; begun before the first paint,
    it stretched that paint by ~100 ms (the window mapped but empty on X11)."""
    result = _run("""
        import sys, threading, time
        from PySide6.QtCore import QEvent, QObject, QTimer
        from PySide6.QtWidgets import QApplication
        from vae_desktop.ui import app as gui
        from vae_desktop.ui.main_window import MainWindow

        marks = {}
        def audit(event, args):
            if event == "import" and args[0] == "torch" and "torch" not in marks:
                marks["torch"] = (time.perf_counter(), threading.current_thread().name)
        sys.addaudithook(audit)

        class Paints(QObject):
            def eventFilter(self, obj, event):
                if isinstance(obj, MainWindow) and event.type() == QEvent.Type.Paint:
                    marks.setdefault("paint_began", time.perf_counter())
                    QTimer.singleShot(0, lambda: marks.setdefault("paint_done", time.perf_counter()))
                return False

        def close_when_ready():
            windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
            if windows and windows[0].controller is not None:
                print("order:", sorted(("torch", "paint_began", "paint_done"), key=lambda k: marks[k][0]
                      if k == "torch" else marks[k]), "torch thread:", marks["torch"][1])
                windows[0].close()
            else:
                QTimer.singleShot(20, close_when_ready)
        app = gui.create_application()
        watcher = Paints()
        app.installEventFilter(watcher)
        QTimer.singleShot(0, close_when_ready)
        raise SystemExit(gui.run_gui(None))
    """)
    assert result.returncode == 0, result.stderr
    assert "order: ['paint_began', 'paint_done', 'torch']" in result.stdout, result.stdout
    assert "torch thread: vae-desktop: import core" in result.stdout


def test_the_window_does_not_wait_for_pyqtgraph_to_probe_cuda():
    """pyqtgraph imports the CUDA runtime bindings (installed with CUDA torch) for a path the app never
    uses: ~45 ms before the first paint. They are skipped for that import and stay importable."""
    result = _run("""
        import importlib, importlib.util, sys
        import vae_desktop.ui.app
        print("probed:", "cuda.bindings.runtime" in sys.modules)
        try:
            installed = importlib.util.find_spec("cuda.bindings") is not None
        except ModuleNotFoundError:
            installed = False
        if installed:
            importlib.import_module("cuda.bindings.runtime")
        print("importable afterwards:", installed)
    """)
    assert result.returncode == 0, result.stderr
    assert "probed: False" in result.stdout
