"""Keyboard use of the main window: Space starts, pauses and resumes training.

Space is not a QShortcut: a shortcut would fire before the focused widget sees the key, so typing
a space in a field or pressing a focused button with Space would start training instead. Here the
window only hears Space when the focused widget did not use it: line edits, spin boxes, combo
boxes, buttons, check boxes and tables all accept the key, while plots, tabs, sliders and the
window background let it through. The other shortcuts are ordinary QAction shortcuts (File and
Training menus).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QKeyEvent
from PySide6.QtWidgets import QMenu

if TYPE_CHECKING:
    from vae_desktop.ui.main_window import MainWindow

START_PAUSE_TEXT = "Start / Pause / Resume\tSpace"  # the menu shows "Space" like a shortcut
START_PAUSE_ACTION = "startPauseAction"  # object name: find it with window.findChild(QAction, ...)


def start_or_pause(window: MainWindow) -> str:
    """What Space does now: start (or continue) when idle, pause while training, resume when paused.
    Returns the action taken ('start', 'pause', 'resume' or '' when none applies)."""
    state = window.state
    if state in ("idle", "ready") and window.start_button.isEnabled():
        window.start_training()
        return "start"
    if state == "training" and window.pause_button.isEnabled():
        window.toggle_pause()
        return "pause"
    if state == "paused":
        window.toggle_pause()
        return "resume"
    return ""


class SpaceStartsAndPauses(QObject):
    """Event filter on the main window: a Space press that reached the window toggles training.

    Key events travel from the focused widget up through its parents until one accepts them, and
    the window's filters see the event when it arrives there; so this never steals a key a field
    or button has used.
    """

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        if watched is self._window and event.type() == QEvent.Type.KeyPress:
            key_event = event if isinstance(event, QKeyEvent) else None
            if (
                key_event is not None
                and key_event.key() == Qt.Key.Key_Space
                and key_event.modifiers() == Qt.KeyboardModifier.NoModifier
            ):
                if not key_event.isAutoRepeat():
                    start_or_pause(self._window)
                return True
        return False


def install_keyboard(window: MainWindow) -> QAction:
    """Add Space (start/pause/resume) to the window and its Training menu; returns the menu action."""
    window.installEventFilter(SpaceStartsAndPauses(window))
    action = QAction(START_PAUSE_TEXT, window)
    action.setObjectName(START_PAUSE_ACTION)
    action.setStatusTip("Start training, or pause and resume it (Space, when no field or button has the focus)")
    action.triggered.connect(lambda _checked=False: start_or_pause(window))
    menu = _menu_of(window.start_action)
    if menu is not None:
        menu.insertAction(window.start_action, action)
        menu.insertSeparator(window.start_action)
    return action


def _menu_of(action: QAction) -> QMenu | None:
    for owner in action.associatedObjects():
        if isinstance(owner, QMenu):
            return owner
    return None
