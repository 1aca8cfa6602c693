"""Closing during training: threads end, nothing waits long (many Start/Stop cycles: test_long_runs.py)."""

from __future__ import annotations

import time

from tests.ui.helpers import answer_save_question, wait_for_batches, wait_for_state


def test_closing_while_training_stops_the_thread_within_a_second(qtbot, qtlog, window):
    window.start_button.click()
    wait_for_batches(qtbot, window, 5)
    session = window.controller.session
    assert session is not None and session.is_running()

    answer_save_question("discard")  # the run is not saved: quit asks first (tests/ui/test_unsaved_work.py)
    started = time.perf_counter()
    assert window.close()
    elapsed = time.perf_counter() - started

    assert elapsed < 1.0
    assert not session.is_running()
    assert window.trainer.stop_requested
    qtbot.wait(50)  # let the queued end-of-session signals arrive
    messages = [record.message for record in qtlog.records]
    assert not any("Destroyed while thread" in m for m in messages), messages


def test_closing_while_paused_also_stops_promptly(qtbot, window):
    window.start_button.click()
    wait_for_batches(qtbot, window, 3)
    window.pause_button.click()
    wait_for_state(qtbot, window, "paused")
    session = window.controller.session
    answer_save_question("discard")
    started = time.perf_counter()
    assert window.close()
    assert time.perf_counter() - started < 1.0
    assert not session.is_running()


# Many Start/Stop cycles (threads and memory back to baseline): tests/ui/test_long_runs.py
