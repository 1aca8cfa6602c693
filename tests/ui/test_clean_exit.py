"""Closing the real app (`run_gui`, in its own process) while it trains, while it saves and while it
generates a dataset: the process is gone within a second, exits 0, and leaves no broken files."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from vae_desktop.core.checkpoint import load_checkpoint

ROOT = Path(__file__).resolve().parents[2]
EXIT_LIMIT_S = 3.0  # the target is 1 s (measured ~0.45 s on a quiet machine); slack for a loaded CI machine

DRIVER = textwrap.dedent("""
    import sys, threading, time
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    from vae_desktop.ui import app as gui
    from vae_desktop.ui.main_window import MainWindow

    scenario, save_path = sys.argv[1], sys.argv[2]
    started = []

    def discard_when_asked():
        # The run is not saved, so quit asks first (tests/ui/test_unsaved_work.py); answer Discard.
        from PySide6.QtWidgets import QMessageBox
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            box.button(QMessageBox.StandardButton.Discard).click()
        else:
            QTimer.singleShot(5, discard_when_asked)

    def close_now(window, what):
        print(f"closing {what} at {time.monotonic():.6f}", flush=True)
        if window.isWindowModified():
            QTimer.singleShot(0, discard_when_asked)
        window.close()

    def loading_threads():
        return [t.name for t in threading.enumerate() if t.name.startswith("vae-desktop: load")]

    def step():
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
        window = windows[0] if windows else None
        if window is None or window.controller is None:
            QTimer.singleShot(20, step)
            return
        if scenario == "generating":
            if not loading_threads():
                QTimer.singleShot(5, step)
                return
            close_now(window, "while generating shapes: " + ", ".join(loading_threads()))
            return
        if not started:
            window.form.epochs.setValue(1000)
            window.form.batch_size.setValue(64)
            window.start_training()
            started.append(True)
        if window.state != "training" or len(window.plots.batch_data()["global_step"]) < 3:
            QTimer.singleShot(20, step)
            return
        if scenario == "saving":
            window.save_checkpoint(save_path)  # served by the training thread between two steps
            close_now(window, "right after asking for a save")
        else:
            close_now(window, "while training")

    gui.create_application()
    QTimer.singleShot(0, step)
    code = gui.run_gui(None)
    print(f"run_gui returned {code}", flush=True)
    raise SystemExit(code)
""")


def run_and_close(scenario: str, tmp_path: Path, cache_dir: str | None = None) -> tuple[subprocess.CompletedProcess, float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen",
           "VAE_DESKTOP_LOG_DIR": str(tmp_path / "logs"), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    if cache_dir is not None:
        env["VAE_DESKTOP_CACHE_DIR"] = cache_dir
    child = subprocess.Popen([sys.executable, "-c", DRIVER, scenario, str(tmp_path / "saved.vaeckpt")],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    try:
        child.wait(timeout=180)
        ended = time.monotonic()
    finally:
        if child.poll() is None:
            child.kill()
    result = subprocess.CompletedProcess(child.args, child.returncode, child.stdout.read(), child.stderr.read())
    closing = [line for line in result.stdout.splitlines() if line.startswith("closing ")]
    assert closing, f"never got to close: {result.stdout}\n{result.stderr}"
    return result, ended - float(closing[0].rsplit(" at ", 1)[1])


def assert_clean(result: subprocess.CompletedProcess, exit_s: float) -> None:
    assert result.returncode == 0, result.stderr
    for bad in ("terminate called", "Destroyed while thread", "Traceback", "Segmentation", "Abort"):
        assert bad not in result.stderr, result.stderr
    assert exit_s < EXIT_LIMIT_S, f"the process took {exit_s:.2f} s to exit after the close\n{result.stdout}"


@pytest.mark.slow
def test_closing_while_training_exits_cleanly_within_a_second(tmp_path):
    result, exit_s = run_and_close("training", tmp_path)
    assert_clean(result, exit_s)
    assert "closing while training" in result.stdout


@pytest.mark.slow
def test_closing_right_after_a_save_exits_within_a_second_and_the_save_lands(tmp_path):
    result, exit_s = run_and_close("saving", tmp_path)
    assert_clean(result, exit_s)
    saved = load_checkpoint(tmp_path / "saved.vaeckpt")  # complete and loadable
    assert saved.progress.global_step >= 3
    left = [p.name for p in tmp_path.iterdir() if p.name.startswith(".saved") and not p.name.endswith(".lock")]
    assert left == []  # no temp file left (the run lock's empty .saved.vaeckpt.lock stays, by design)


@pytest.mark.slow
def test_closing_while_the_dataset_is_generated_exits_within_a_second_and_leaves_no_cache(tmp_path):
    cache = tmp_path / "fresh-cache"  # empty: the built-in dataset is generated at start-up
    result, exit_s = run_and_close("generating", tmp_path, cache_dir=str(cache))
    assert_clean(result, exit_s)
    assert "closing while generating shapes: vae-desktop: load shapes" in result.stdout
    left = list(cache.iterdir()) if cache.exists() else []
    assert left == [], f"a partial cache was left: {left}"
