"""Keyboard use of the main window: Space starts, pauses and resumes training.

Space is not a QShortcut: a shortcut would fire before the focused widget sees the key, so typing
a space in a field or pressing a focused check box with Space would start training instead. Here
the window only hears Space when the focused widget did not use it: line edits, spin boxes, combo
boxes, check boxes, other buttons and tables all accept the key, while plots, tabs, sliders and
the window background let it through.

The Start, Pause and Stop buttons are the exception. Qt moves the focus on its own when a focused
button is disabled (Pause is, until the worker confirms the pause), so which of them holds the
focus is not something the user chose: Space on Pause could become Space on Stop and end the run.
So a click never gives them the focus (Qt.TabFocus, as for tool buttons), and Space on any of them
is the run toggle; Stop is Ctrl+. or a click. The other shortcuts are ordinary QAction shortcuts
(File and Training menus).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QKeyEvent

from vae_desktop.core.training_status import TrainingState, controls_for

if TYPE_CHECKING:
    from vae_desktop.ui.main_window import MainWindow

START_PAUSE_TEXT = "Start / Pause / Resume\tSpace"  # the menu shows "Space" like a shortcut
START_PAUSE_ACTION = "startPauseAction"  # object name: find it with window.findChild(QAction, ...)


def start_or_pause(window: MainWindow) -> str:
    """What Space does now: start (or continue) when idle, pause while training, resume when paused.
    Returns the action taken ('start', 'pause', 'resume' or '' when none applies)."""
    status = window.status
    controls = controls_for(status, window.form.is_valid())
    if status.state.settled and controls.start:
        window.start_training()
        return "start"
    if status.state is TrainingState.TRAINING and controls.pause:
        window.toggle_pause()
        return "pause"
    if status.state is TrainingState.PAUSED:
        window.toggle_pause()
        return "resume"
    return ""


class SpaceStartsAndPauses(QObject):
    """Event filter on the main window and its run buttons: Space there toggles training.

    Key events travel from the focused widget up through its parents until one accepts them, and
    the window's filters see the event when it arrives there; so this never steals a key a field
    has used. On the run buttons it takes Space before the button does (both press and release,
    so the button never clicks itself).
    """

    def __init__(self, window: MainWindow, run_buttons: tuple[QObject, ...]) -> None:
        super().__init__(window)
        self._window = window
        self._run_buttons = run_buttons

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind not in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease) or not _is_plain_space(event):
            return False
        if watched in self._run_buttons:
            if kind == QEvent.Type.KeyPress and not event.isAutoRepeat():  # type: ignore[attr-defined]
                start_or_pause(self._window)
            return True
        if watched is self._window and kind == QEvent.Type.KeyPress:
            if not event.isAutoRepeat():  # type: ignore[attr-defined]
                start_or_pause(self._window)
            return True
        return False


def _is_plain_space(event: QEvent) -> bool:
    return (
        isinstance(event, QKeyEvent)
        and event.key() == Qt.Key.Key_Space
        and event.modifiers() == Qt.KeyboardModifier.NoModifier
    )


def install_keyboard(window: MainWindow) -> QAction:
    """Add Space (start/pause/resume) to the window and its Training menu; returns the menu action."""
    run_buttons = (window.start_button, window.pause_button, window.stop_button)
    space = SpaceStartsAndPauses(window, run_buttons)
    window.installEventFilter(space)
    for button in run_buttons:
        button.setFocusPolicy(Qt.FocusPolicy.TabFocus)  # a click leaves the focus where it was
        button.installEventFilter(space)
    action = QAction(START_PAUSE_TEXT, window)
    action.setObjectName(START_PAUSE_ACTION)
    action.setStatusTip("Start training, or pause and resume it (Space, when no field or check box has the focus)")
    action.triggered.connect(lambda _checked=False: start_or_pause(window))
    acts = window.menu_actions
    acts.training_menu.insertAction(acts.start, action)
    acts.training_menu.insertSeparator(acts.start)
    return action
