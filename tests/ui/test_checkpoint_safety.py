"""Losing nothing around checkpoints in the window: Open asks before replacing unsaved progress, one
writer per file (another window or a real `train` process is refused), files that cannot be used are
refused with a message, and an unexpected failure while opening or starting leaves the window usable."""

from __future__ import annotations

import math
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from tests.shape_folders import write_shape_pngs
from tests.ui.helpers import wait_for_batches, wait_for_state
from vae_desktop.core.checkpoint import load_checkpoint, save_payload
from vae_desktop.ui import current_run, run_adoption
from vae_desktop.ui.main_window import MainWindow

REPO = Path(__file__).resolve().parents[2]


def _train_a_little(qtbot, window: MainWindow, batches: int = 4) -> int:
    seen = len(window.plots.batch_data()["global_step"])
    window.start_button.click()
    wait_for_batches(qtbot, window, seen + batches)
    window.stop_button.click()
    wait_for_state(qtbot, window, "ready")
    return window.trainer.progress.global_step


class _Answer:
    """Answers the next message box with `button` as a user would (clicking it); records its text."""

    def __init__(self, button: QMessageBox.StandardButton) -> None:
        self.button = button
        self.texts: list[str] = []
        self._timer = QTimer()
        self._timer.setInterval(20)
        self._timer.timeout.connect(self._poll)
        self._timer.start()

    def _poll(self) -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            self.texts.append(box.text())
            self._timer.stop()
            box.button(self.button).click()

    def stop(self) -> None:
        self._timer.stop()


def _open_with_answer(window: MainWindow, open_it, button: QMessageBox.StandardButton) -> list[str]:
    answer = _Answer(button)
    try:
        open_it()
    finally:
        answer.stop()
    return answer.texts


@pytest.mark.parametrize("via", ["File > Open", "Open recent"])
def test_opening_over_a_stopped_run_loses_nothing_and_asks_nothing(qtbot, window, tmp_path, monkeypatch, via):
    """The run trained here autosaved into its run folder as it stopped: opening another checkpoint
    over it has nothing to ask about, and the run folder still holds every step."""
    other = tmp_path / "other.vaeckpt"
    _train_a_little(qtbot, window)
    assert window.save_checkpoint(str(other))
    window.new_run()
    if via == "File > Open":
        monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(other), ""))
        open_it = window.menu_actions.open.trigger
    else:
        window.recent.rebuild_menu()
        recent = next(a for a in window.menu_actions.recent_menu.actions() if a.toolTip() == str(other.resolve()))
        open_it = recent.trigger
    step = _train_a_little(qtbot, window)  # a new run, in a run folder of its own
    folder = Path(window.controller.run_folder)
    assert not window.controller.has_unsaved_progress and not window.isWindowModified()

    asked = _open_with_answer(window, open_it, QMessageBox.StandardButton.Cancel)
    assert asked == []
    assert window.controller.checkpoint_path == str(other) and not window.isWindowModified()
    assert load_checkpoint(folder / "checkpoints" / "latest.vaeckpt").progress.global_step == step


def test_opening_without_unsaved_progress_does_not_ask(qtbot, window, tmp_path, monkeypatch):
    path = tmp_path / "saved.vaeckpt"
    _train_a_little(qtbot, window)
    assert window.save_checkpoint(str(path))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    assert _open_with_answer(window, window.menu_actions.open.trigger, QMessageBox.StandardButton.Cancel) == []
    assert window.controller.checkpoint_path == str(path)


# ---- one writer per file ---------------------------------------------------------------------------

def test_two_windows_cannot_own_one_run_folder(qtbot, make_window, settings):
    """One writer per run folder: the window that trains a run holds its folder's lock; another window
    opening that folder to continue it is refused, naming the holder, until the first lets it go."""
    first = make_window(settings)
    second = make_window(settings)
    step = _train_a_little(qtbot, first)
    folder = first.controller.run_folder
    assert second.open_checkpoint(folder)  # read off the GUI thread; the refusal follows
    qtbot.waitUntil(lambda: second.banner.kind == "error", timeout=20_000)
    message = second.banner.message()
    assert "Not opened for training:" in message and "is in use by" in message
    assert f"VAE Desktop window (process {os.getpid()} on {socket.gethostname()}" in message
    assert not second.controller.has_run

    first.new_run()  # that run is no longer the first window's: its folder is free
    with qtbot.waitSignal(second.controller.runFolderOpened, timeout=30_000):
        assert second.open_checkpoint(folder)
    assert second.controller.run_folder == folder and second.controller.saved_step == step


def test_a_checkpoint_copy_holds_no_lock_after_it_is_written(qtbot, make_window, settings, tmp_path):
    """Saving a run-folder run to a .vaeckpt writes a copy: the file is not the run's, so it is not kept
    locked, and another window may write it next (the run folders are what stay locked)."""
    first = make_window(settings)
    second = make_window(settings)
    _train_a_little(qtbot, first)
    step = _train_a_little(qtbot, second, batches=8)
    assert first.save_checkpoint(str(tmp_path / "a.vaeckpt"))
    assert second.save_checkpoint(str(tmp_path / "a.vaeckpt"))
    assert load_checkpoint(tmp_path / "a.vaeckpt").progress.global_step == step
    assert first.controller.run_folder != second.controller.run_folder


@pytest.fixture
def images(tmp_path) -> Path:
    root = tmp_path / "imgs"
    root.mkdir()
    return write_shape_pngs(root)


def test_a_window_cannot_save_over_the_checkpoint_a_train_process_is_writing(qtbot, window, tmp_path, images):
    out = tmp_path / "cli-run"
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    cli = subprocess.Popen([sys.executable, "-m", "vae_desktop", "train", "--dataset", f"folder:{images}",
                            "--batch-size", "64", "--z-dim", "2", "--base-width", "8", "--epochs", "100000",
                            "--out", str(out), "--quiet"], env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not (out / "checkpoints" / ".latest.vaeckpt.lock.json").exists():
            assert cli.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        _train_a_little(qtbot, window)
        assert not window.save_checkpoint(str(out / "checkpoints" / "latest.vaeckpt"))
        assert f"vae-desktop train (process {cli.pid} on " in window.banner.message()
    finally:
        cli.send_signal(signal.SIGKILL)
        cli.wait(30)
    assert window.save_checkpoint(str(out / "checkpoints" / "latest.vaeckpt"))  # the holder is gone, and so is its lock
    assert load_checkpoint(out / "checkpoints" / "latest.vaeckpt").progress.global_step == window.trainer.progress.global_step


def test_the_first_save_to_a_file_removes_temp_files_a_killed_save_left(qtbot, window, tmp_path):
    stale = tmp_path / ".run.vaeckpt.x1y2z3_4.tmp"
    stale.write_bytes(b"half a checkpoint")
    foreign = tmp_path / ".run.vaeckpt.tmp"
    foreign.write_bytes(b"not ours")
    _train_a_little(qtbot, window)
    assert window.save_checkpoint(str(tmp_path / "run.vaeckpt"))
    assert not stale.exists() and foreign.read_bytes() == b"not ours"


# ---- files that cannot be used, and unexpected failures -------------------------------------------------

def _saved_payload(qtbot, window: MainWindow, path: Path) -> dict:
    _train_a_little(qtbot, window)
    assert window.save_checkpoint(str(path))
    window.new_run()
    return torch.load(path, weights_only=True)


@pytest.mark.parametrize("field, edit, needle", [
    ("optimizer", lambda p: p["optimizer_state"].__setitem__("state", []), "its optimizer_state.state is not a table"),
    ("rng", lambda p: p.__setitem__("rng_state", torch.zeros(10, dtype=torch.uint8)), "its rng_state is not a valid"),
    ("epoch", lambda p: p["progress"].__setitem__("epoch", math.inf), "its progress.epoch is not a whole number"),
    ("max_points", lambda p: p["history"].__setitem__("max_points", math.inf), "its history.max_points is not a whole"),
])
def test_a_checkpoint_with_a_malformed_field_is_refused_and_the_window_stays_usable(
    qtbot, window, tmp_path, field, edit, needle
):
    payload = _saved_payload(qtbot, window, tmp_path / "good.vaeckpt")
    edit(payload)
    bad = save_payload(payload, tmp_path / "bad.vaeckpt")
    assert not window.open_checkpoint(str(bad))
    assert window.banner.kind == "error" and needle in window.banner.message()
    assert window.state == "idle" and window.start_button.isEnabled() and window.menu_actions.open.isEnabled()
    window.start_button.click()  # and training works
    wait_for_batches(qtbot, window, 3)


def test_an_unexpected_failure_while_starting_returns_the_window_to_a_usable_state(
    qtbot, window, app_log, monkeypatch
):
    class BrokenTrainer:
        def __init__(self, *args, **kwargs) -> None:
            raise AttributeError("simulated fault while building the trainer")

    monkeypatch.setattr(current_run, "Trainer", BrokenTrainer)  # where a new run's trainer is built
    window.start_button.click()
    wait_for_state(qtbot, window, "idle", "ready")
    message = window.banner.message()
    assert window.banner.kind == "error" and "Could not start training: an unexpected error (AttributeError: " in message
    assert str(app_log) in message
    assert window.start_button.isEnabled() and window.form.isEnabled() and window.menu_actions.new_run.isEnabled()
    log_text = app_log.read_text(encoding="utf-8")
    assert "Traceback" in log_text and "simulated fault while building the trainer" in log_text

    monkeypatch.undo()
    window.start_button.click()
    wait_for_batches(qtbot, window, 3)


def test_an_unexpected_failure_while_opening_keeps_the_run(qtbot, window, app_log, monkeypatch, tmp_path):
    path = tmp_path / "run.vaeckpt"
    step = _train_a_little(qtbot, window)
    assert window.save_checkpoint(str(path))

    def broken_load(_path):
        raise OverflowError("simulated fault while reading")

    monkeypatch.setattr(run_adoption, "load_checkpoint", broken_load)
    assert not window.open_checkpoint(str(path))
    assert "Could not open run.vaeckpt: an unexpected error (OverflowError: " in window.banner.message()
    assert window.trainer.progress.global_step == step and window.state == "ready"


def test_a_checkpoint_saved_before_checksums_opens_with_a_note(qtbot, window, tmp_path):
    payload = _saved_payload(qtbot, window, tmp_path / "new.vaeckpt")
    payload.pop("integrity", None)
    torch.save(payload, tmp_path / "old.vaeckpt")
    assert window.open_checkpoint(str(tmp_path / "old.vaeckpt"))
    assert window.banner.kind == "info" and "old.vaeckpt was saved without a checksum" in window.banner.message()
