"""Waiting helpers shared by the UI tests (qtbot.waitUntil, never sleeps)."""

from __future__ import annotations

from vae_desktop.ui.main_window import MainWindow


def wait_for_state(qtbot, window: MainWindow, *states: str, timeout: int = 20_000) -> None:  # noqa: ANN001
    qtbot.waitUntil(lambda: window.state in states, timeout=timeout)


def wait_for_batches(qtbot, window: MainWindow, count: int, timeout: int = 20_000) -> None:  # noqa: ANN001
    qtbot.waitUntil(lambda: len(window.plots.batch_data()["global_step"]) >= count, timeout=timeout)
