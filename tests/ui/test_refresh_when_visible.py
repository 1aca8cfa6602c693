"""Catch up when shown: a hidden widget skips refreshes and redoes one when it is shown again."""

from __future__ import annotations

from PySide6.QtWidgets import QTabWidget, QWidget

from vae_desktop.ui.refresh_when_visible import RefreshWhenVisible


def test_a_hidden_tab_catches_up_once_when_it_comes_to_the_front(qtbot) -> None:
    tabs = QTabWidget()
    qtbot.addWidget(tabs)
    front, behind = QWidget(), QWidget()
    tabs.addTab(front, "front")
    tabs.addTab(behind, "behind")
    tabs.show()
    qtbot.waitExposed(tabs)
    caught_up: list[bool] = []
    refresh = RefreshWhenVisible(behind, lambda: caught_up.append(behind.isVisible()))
    assert not refresh.due() and refresh.due() is False  # hidden: skipped, twice
    assert refresh.stale and caught_up == []
    tabs.setCurrentWidget(behind)
    assert caught_up == [True] and not refresh.stale  # once, synchronously, already visible
    assert refresh.due()  # in front: refresh now
    tabs.setCurrentWidget(front)
    tabs.setCurrentWidget(behind)
    assert caught_up == [True]  # nothing was skipped in between: nothing to catch up


def test_forget_drops_a_pending_catch_up(qtbot) -> None:
    widget = QWidget()
    qtbot.addWidget(widget)
    caught_up: list[int] = []
    refresh = RefreshWhenVisible(widget, lambda: caught_up.append(1))
    assert not refresh.due()
    refresh.forget()  # e.g. the model was replaced: the panel redraws in full anyway
    widget.show()
    qtbot.waitExposed(widget)
    assert caught_up == []
