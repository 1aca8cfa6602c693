"""Waiting helpers shared by the UI tests (qtbot.waitUntil, never sleeps)."""

from __future__ import annotations

from vae_desktop.ui.main_window import MainWindow


def wait_for_state(qtbot, window: MainWindow, *states: str, timeout: int = 20_000) -> None:
    qtbot.waitUntil(lambda: window.state in states, timeout=timeout)


def wait_for_batches(qtbot, window: MainWindow, count: int, timeout: int = 20_000) -> None:
    qtbot.waitUntil(lambda: len(window.plots.batch_data()["global_step"]) >= count, timeout=timeout)


def answer_save_question(button: str, limit_ms: int = 10_000) -> list[dict]:
    """Answer the next "Save this run?" box with a real click on its `button` ('save', 'discard' or
    'cancel'). Returns a list that gets one entry per box answered: its texts and default button."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    from vae_desktop.ui.unsaved_changes import BOX_NAME

    buttons = {"save": QMessageBox.StandardButton.Save, "discard": QMessageBox.StandardButton.Discard,
               "cancel": QMessageBox.StandardButton.Cancel}
    asked: list[dict] = []
    tries = [limit_ms // 10]

    def look() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox) and box.objectName() == BOX_NAME:
            asked.append({"text": box.text(), "detail": box.informativeText(),
                          "default": box.standardButton(box.defaultButton())})
            box.button(buttons[button]).click()
        elif tries[0] > 0:
            tries[0] -= 1
            QTimer.singleShot(10, look)

    QTimer.singleShot(0, look)
    return asked
