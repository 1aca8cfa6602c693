"""What the window says about the run is true and well formed: rate, finish and NaN messages, tips."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QTimer
from PySide6.QtGui import QEnterEvent
from PySide6.QtWidgets import QApplication

from tests.ui.helpers import wait_for_batches, wait_for_state
from vae_desktop.ui.progress_box import PROGRESS_INTERVAL_MS


class ModalWatch:
    """Records (and cancels) every modal dialog that opens while it runs: a question nobody should ask."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self._timer = QTimer()
        self._timer.setInterval(20)
        self._timer.timeout.connect(self._look)
        self._timer.start()

    def _look(self) -> None:
        modal = QApplication.activeModalWidget()
        if modal is not None:
            self.seen.append(modal.windowTitle())
            modal.reject()

    def stop(self) -> None:
        self._timer.stop()


def test_no_images_per_second_while_paused(qtbot, window):
    window.start_training()
    qtbot.waitUntil(lambda: window.rate_label.text().endswith("images/s"), timeout=20_000)
    window.toggle_pause()
    wait_for_state(qtbot, window, "paused")
    qtbot.wait(3 * PROGRESS_INTERVAL_MS)  # the batches flushed at the pause have been shown
    assert window.rate_label.text() == ""
    window.toggle_pause()
    qtbot.waitUntil(lambda: window.rate_label.text().endswith("images/s"), timeout=20_000)
    window.stop_training()
    wait_for_state(qtbot, window, "ready")


def test_a_one_epoch_run_says_one_epoch(qtbot, make_window, settings):
    window = make_window(settings, epochs=1)
    window.start_training()
    qtbot.waitUntil(lambda: window.banner.kind == "info", timeout=30_000)
    assert window.banner.message() == "Training finished: 1 epoch."


def test_a_nan_in_the_first_steps_names_the_initial_weights_and_leaves_nothing_to_discard(qtbot, window):
    window.form.lr.setText("1e6")
    window.start_training()
    wait_for_state(qtbot, window, "ready", timeout=30_000)
    message = window.banner.message()
    assert window.banner.kind == "error" and "at epoch 1, step " in message
    assert window.trainer.progress.global_step == 0  # rolled back to before the first step
    assert "restored to its initial weights" in message and "step 0" not in message, message
    assert not window.isWindowModified()  # the title has no unsaved mark: nothing was trained

    watch = ModalWatch()
    try:
        window.new_run()
        qtbot.wait(100)
    finally:
        watch.stop()
    assert watch.seen == []  # no "discard this run?" over a model that never learnt a step
    assert not window.controller.has_run


def test_the_start_buttons_status_tip_is_not_left_at_loading(qtbot, window):
    qtbot.waitUntil(window.start_button.isEnabled, timeout=5000)

    def hover_start() -> str:
        window.statusBar().clearMessage()
        centre = QPointF(window.start_button.rect().center())
        QApplication.sendEvent(window.start_button, QEnterEvent(centre, centre, window.start_button.mapToGlobal(centre)))
        return window.statusBar().currentMessage()

    assert hover_start() == "Train with these settings (continues the current run if there is one)"
    window.start_training()
    wait_for_batches(qtbot, window, 3)
    assert "Loading PyTorch" not in hover_start()
    window.stop_training()
    wait_for_state(qtbot, window, "ready")
    assert "Loading PyTorch" not in hover_start()
