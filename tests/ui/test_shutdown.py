"""One shutdown path: closing asks about unsaved training and waits for the worker; quitting the
application (aboutToQuit) ends training, the file locks and the panels' work by reference."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from tests.ui.helpers import answer_save_question, wait_for_batches
from vae_desktop.core.run_lock import RunLock


def test_quitting_the_application_while_training_joins_the_worker_and_gives_up_the_files(qtbot, window, tmp_path):
    window.start_training()
    wait_for_batches(qtbot, window, 3)
    path = tmp_path / "while_training.vaeckpt"
    with qtbot.waitSignal(window.controller.saved, timeout=20_000):
        window.save_checkpoint(str(path))  # the window now holds this file's lock
    session = window.controller.session
    assert session is not None and session.is_running()
    other = RunLock(path, command="a test")

    QApplication.instance().aboutToQuit.emit()  # what app.quit() sends, without ending the test's event loop

    assert not session.is_running()  # joined, not left behind
    other.acquire()  # the window gave the file up: another writer may have it now
    other.release()
    window.setWindowModified(False)


def test_closing_while_training_asks_and_discard_closes_once_the_worker_has_stopped(qtbot, window):
    window.start_training()
    wait_for_batches(qtbot, window, 3)
    session = window.controller.session
    asked = answer_save_question("discard")
    assert window.close()
    assert len(asked) == 1 and asked[0]["text"] == "Save the current run before quitting?"
    assert not window.isVisible() and not session.is_running()


def test_shutting_down_twice_is_harmless(qtbot, window):
    window.shutdown()
    window.shutdown()  # close after aboutToQuit, or the other way round
    assert window.controller.session is None
