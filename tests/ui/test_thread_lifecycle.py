"""Closing during training, and many Start/Stop cycles: threads end, nothing leaks, nothing waits long."""

from __future__ import annotations

import gc
import os
import time
from pathlib import Path

import pytest

from tests.ui.helpers import wait_for_batches, wait_for_state
from vae_desktop.ui.training_worker import TrainingSession


def _os_threads() -> int | None:
    task = Path(f"/proc/{os.getpid()}/task")
    return len(list(task.iterdir())) if task.exists() else None


def _rss_bytes() -> int | None:
    statm = Path(f"/proc/{os.getpid()}/statm")
    return int(statm.read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") if statm.exists() else None


def test_closing_while_training_stops_the_thread_within_a_second(qtbot, qtlog, window):
    window.start_button.click()
    wait_for_batches(qtbot, window, 5)
    session = window.controller.session
    assert session is not None and session.is_running()

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
    started = time.perf_counter()
    assert window.close()
    assert time.perf_counter() - started < 1.0
    assert not session.is_running()


@pytest.mark.slow
def test_twenty_start_stop_cycles_leak_no_threads_or_memory(qtbot, window):
    threads_at: dict[int, int | None] = {}
    rss_at: dict[int, int | None] = {}
    for cycle in range(1, 21):
        window.start_button.click()
        wait_for_state(qtbot, window, "training")
        steps = len(window.plots.batch_data()["global_step"])
        wait_for_batches(qtbot, window, steps + 2)
        window.stop_button.click()
        wait_for_state(qtbot, window, "ready")
        qtbot.wait(20)  # deferred deletes of the finished session
        gc.collect()
        threads_at[cycle] = _os_threads()
        rss_at[cycle] = _rss_bytes()

    # Each session (and its QThread) is gone once it has ended.
    assert len(window.controller.findChildren(TrainingSession)) == 0
    if threads_at[5] is not None:
        assert threads_at[20] <= threads_at[5], threads_at
    if rss_at[5] is not None:
        growth_mb = (rss_at[20] - rss_at[5]) / 2**20
        assert growth_mb < 40, f"memory grew {growth_mb:.1f} MB over 15 start/stop cycles"
    # And training continued across all of them as one run.
    steps = window.plots.batch_data()["global_step"]
    assert list(steps) == list(range(1, len(steps) + 1))
