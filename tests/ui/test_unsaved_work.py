"""Quit and New run never lose training silently: Save / Discard / Cancel (Save the default), and a
Save finishes (even one the training thread writes) before the window closes or the run is replaced."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog, QMessageBox

from tests.ui.helpers import answer_save_question, wait_for_batches, wait_for_state
from vae_desktop.core.checkpoint import load_checkpoint

CTRL = Qt.KeyboardModifier.ControlModifier


def train_a_little(qtbot, window, batches: int = 5) -> None:
    window.start_training()
    wait_for_batches(qtbot, window, batches)


def test_quit_while_training_asks_and_cancel_keeps_the_run_training(qtbot, window):
    train_a_little(qtbot, window)
    asked = answer_save_question("cancel")
    window.activateWindow()
    QTest.keyClick(window, Qt.Key.Key_Q, CTRL)  # File ▸ Quit
    assert len(asked) == 1
    assert asked[0]["text"] == "Save the current run before quitting?"
    assert asked[0]["default"] == QMessageBox.StandardButton.Save
    assert "has never been saved" in asked[0]["detail"]
    assert window.isVisible() and window.state == "training"
    window.stop_training()
    wait_for_state(qtbot, window, "ready")


def test_quit_while_training_with_save_writes_the_whole_run_before_the_window_closes(
    qtbot, window, tmp_path, monkeypatch
):
    train_a_little(qtbot, window)
    target = tmp_path / "kept.vaeckpt"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))  # the name typed in
    session = window.controller.session
    asked = answer_save_question("save")
    assert window.close() is False  # not yet: the training thread writes the file as it stops
    assert len(asked) == 1 and window.isVisible()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=20_000)
    assert not session.is_running()
    saved = load_checkpoint(target)
    assert saved.progress.global_step == window.trainer.progress.global_step  # every step, none lost
    assert saved.history.batch_arrays()["global_step"][-1] == saved.progress.global_step


def test_quit_after_training_with_save_writes_to_the_runs_file_then_closes(qtbot, window, tmp_path):
    train_a_little(qtbot, window)
    path = tmp_path / "run.vaeckpt"
    with qtbot.waitSignal(window.controller.saved, timeout=10_000):
        window.save_checkpoint(str(path))  # the run has a file now...
    with qtbot.waitSignal(window.controller.batches, timeout=10_000):
        pass  # at least one step after the save, however slow the machine
    window.stop_training()
    wait_for_state(qtbot, window, "ready")
    assert window.isWindowModified()  # ...which is older than the run
    asked = answer_save_question("save")
    assert window.close()
    assert len(asked) == 1 and "run.vaeckpt holds step" in asked[0]["detail"]
    assert load_checkpoint(path).progress.global_step == window.trainer.progress.global_step


def test_a_save_that_fails_on_quit_keeps_the_window_and_says_why(qtbot, window, tmp_path, monkeypatch):
    train_a_little(qtbot, window)
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where a folder should be")
    target = blocked / "run.vaeckpt"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    asked = answer_save_question("save")
    assert window.close() is False
    assert len(asked) == 1
    wait_for_state(qtbot, window, "ready", timeout=20_000)  # Save stopped the training...
    qtbot.waitUntil(lambda: window.banner.kind == "error", timeout=10_000)
    qtbot.wait(200)
    assert window.isVisible() and "run.vaeckpt" in window.banner.message()  # ...and the failure keeps the window
    assert window.controller.has_run and window.isWindowModified()  # the run is still there, still unsaved

    asked = answer_save_question("discard")  # quitting again asks again; Discard closes
    assert window.close()
    assert len(asked) == 1 and not window.isVisible()


def test_quit_with_unsaved_epochs_and_discard_closes_at_once(qtbot, window):
    train_a_little(qtbot, window)
    window.stop_training()
    wait_for_state(qtbot, window, "ready")
    asked = answer_save_question("discard")
    assert window.close()
    assert len(asked) == 1 and not window.isVisible()


def test_nothing_to_lose_closes_without_a_question(qtbot, window, tmp_path):
    train_a_little(qtbot, window)
    window.stop_training()
    wait_for_state(qtbot, window, "ready")
    assert window.save_checkpoint(str(tmp_path / "all.vaeckpt"))
    assert not window.isWindowModified()
    asked = answer_save_question("cancel", limit_ms=300)
    assert window.close()
    assert asked == []


def test_new_run_offers_save_too(qtbot, window, tmp_path, monkeypatch):
    train_a_little(qtbot, window)
    window.stop_training()
    wait_for_state(qtbot, window, "ready")
    steps = window.trainer.progress.global_step
    target = tmp_path / "before-new.vaeckpt"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))

    asked = answer_save_question("cancel")
    window.new_run()
    assert len(asked) == 1 and asked[0]["text"] == "Save the current run before starting a new run?"
    assert window.controller.has_run  # Cancel: nothing changed

    asked = answer_save_question("save")
    window.new_run()
    assert len(asked) == 1 and asked[0]["default"] == QMessageBox.StandardButton.Save
    assert load_checkpoint(target).progress.global_step == steps  # saved first...
    assert not window.controller.has_run  # ...then the new run
