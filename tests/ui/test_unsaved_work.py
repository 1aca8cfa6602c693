"""Quit never loses training silently. A run trained in the window autosaves into its run folder
(after every epoch, on pause and on stop), so what the Save / Discard / Cancel question is about is
only the training since the last autosave: Save writes it too before the window closes, Discard
drops just that, and the run folder always stays."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox

from tests.ui.helpers import answer_save_question, wait_for_batches, wait_for_state
from vae_desktop.core.checkpoint import load_checkpoint

CTRL = Qt.KeyboardModifier.ControlModifier


def train_a_little(qtbot, window, batches: int = 5) -> None:
    window.start_training()
    wait_for_batches(qtbot, window, batches)


def run_json(folder: str) -> dict:
    return json.loads((Path(folder) / "run.json").read_text())


def test_quit_while_training_asks_and_cancel_keeps_the_run_training(qtbot, window):
    train_a_little(qtbot, window)
    asked = answer_save_question("cancel")
    window.activateWindow()
    QTest.keyClick(window, Qt.Key.Key_Q, CTRL)  # File ▸ Quit
    assert len(asked) == 1
    assert asked[0]["text"] == "Save the current run before quitting?"
    assert asked[0]["default"] == QMessageBox.StandardButton.Save
    folder = Path(window.controller.run_folder)
    assert f"the run folder {folder.name} holds no checkpoint yet" in asked[0]["detail"]  # first epoch not over
    assert "keeps the run folder" in asked[0]["detail"]
    assert window.isVisible() and window.state == "training"
    window.stop_training()
    wait_for_state(qtbot, window, "ready")


def test_quit_while_training_with_save_writes_the_whole_run_before_the_window_closes(qtbot, window):
    train_a_little(qtbot, window)
    folder = window.controller.run_folder
    session = window.controller.session
    asked = answer_save_question("save")
    assert window.close() is False  # not yet: the training thread writes the run folder as it stops
    assert len(asked) == 1 and window.isVisible()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=20_000)
    assert not session.is_running()
    saved = load_checkpoint(Path(folder) / "checkpoints" / "latest.vaeckpt")
    assert saved.progress.global_step == window.trainer.progress.global_step  # every step, none lost
    assert saved.history.batch_arrays()["global_step"][-1] == saved.progress.global_step
    assert run_json(folder)["status"] == "stopped"


def test_quit_while_training_with_discard_drops_only_the_epoch_in_progress(qtbot, make_window, settings):
    window = make_window(settings, epochs=5, batch_size=10)  # 200 steps an epoch: the quit lands inside epoch 2
    window.start_training()
    qtbot.waitUntil(lambda: window.controller.saved_step is not None, timeout=30_000)  # epoch 1 autosaved
    saved_step = window.controller.saved_step
    qtbot.waitUntil(lambda: window.isWindowModified() and window.trainer.progress.global_step > saved_step + 2,
                    timeout=20_000)  # the title marks the steps since the autosave as unsaved
    folder = window.controller.run_folder
    asked = answer_save_question("discard")
    assert window.close()
    assert len(asked) == 1 and f"holds step {saved_step:,}" in asked[0]["detail"]
    kept = load_checkpoint(Path(folder) / "checkpoints" / "latest.vaeckpt")
    # The epoch in progress is dropped: the folder holds an epoch's end (epoch 1, unless a fast machine
    # ended another between the answer and the stop), never the steps after it.
    assert kept.progress.step_in_epoch == 0 and kept.progress.global_step >= saved_step
    assert kept.progress.global_step < window.trainer.progress.global_step
    assert run_json(folder)["status"] == "stopped"  # the folder stays: File ▸ Recent runs lists it


def test_after_stop_nothing_is_unsaved_and_quit_asks_nothing(qtbot, window):
    train_a_little(qtbot, window)
    window.stop_training()
    wait_for_state(qtbot, window, "ready")
    assert not window.isWindowModified()  # the stop autosaved every step
    folder = window.controller.run_folder
    asked = answer_save_question("cancel", limit_ms=300)
    assert window.close()
    assert asked == []
    assert load_checkpoint(Path(folder) / "checkpoints" / "latest.vaeckpt").progress.global_step == \
        window.trainer.progress.global_step


def test_new_run_after_stop_keeps_the_old_run_folder_and_starts_another(qtbot, window):
    train_a_little(qtbot, window)
    window.stop_training()
    wait_for_state(qtbot, window, "ready")
    first = window.controller.run_folder
    steps = window.trainer.progress.global_step
    asked = answer_save_question("cancel", limit_ms=300)
    window.new_run()
    assert asked == [] and not window.controller.has_run  # nothing to lose: no question
    assert load_checkpoint(Path(first) / "checkpoints" / "latest.vaeckpt").progress.global_step == steps
    train_a_little(qtbot, window)
    second = window.controller.run_folder
    assert second != first and Path(second).name == Path(first).name + "-2"
    window.stop_training()
    wait_for_state(qtbot, window, "ready")
