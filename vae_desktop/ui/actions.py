"""The main window's menus and actions, held by reference in one `WindowActions` value.

Everything that adds to the menus (theme, Export, Space) or enables an action reaches it here, by
attribute, never by its display text: a translated or re-worded menu then still works.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QWidget

Shortcut = QKeySequence | QKeySequence.StandardKey | None


@dataclass(frozen=True)
class WindowActions:
    """The menu bar: File, Training, View and Help, and every action in them."""

    file_menu: QMenu
    new_run: QAction
    open: QAction
    recent_menu: QMenu
    save: QAction
    save_as: QAction
    export_metrics: QAction
    quit: QAction
    training_menu: QMenu
    start: QAction
    pause: QAction
    stop: QAction
    view_menu: QMenu
    log_scale: QAction
    follow_latest: QAction
    help_menu: QMenu
    about: QAction

    @property
    def replace_run(self) -> tuple[QAction, ...]:
        """The actions that replace the current run (off while training)."""
        return (self.new_run, self.open, self.recent_menu.menuAction())


@dataclass(frozen=True)
class WindowCommands:
    """What the window's actions do (slots of the window)."""

    new_run: Callable[[], object]
    open: Callable[[], object]
    save: Callable[[], object]
    save_as: Callable[[], object]
    export_metrics: Callable[[], object]
    quit: Callable[[], object]
    start: Callable[[], object]
    pause: Callable[[], object]
    stop: Callable[[], object]
    about: Callable[[], object]


def build_menus(window: QMainWindow, commands: WindowCommands) -> WindowActions:
    """Fill `window`'s menu bar; returns the registry of what it made."""
    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    file_menu.setObjectName("fileMenu")
    new_run = _action(window, "&New run", QKeySequence.StandardKey.New, commands.new_run)
    open_ = _action(window, "&Open checkpoint…", QKeySequence.StandardKey.Open, commands.open)
    recent_menu = QMenu("Open &recent", window)
    recent_menu.setObjectName("recentMenu")
    save = _action(window, "&Save checkpoint", QKeySequence.StandardKey.Save, commands.save)
    save_as = _action(window, "Save checkpoint &as…", QKeySequence("Ctrl+Shift+S"), commands.save_as)
    export_metrics = _action(window, "&Export metrics CSV…", None, commands.export_metrics)
    quit_ = _action(window, "&Quit", QKeySequence("Ctrl+Q"), commands.quit)
    quit_.setMenuRole(QAction.MenuRole.QuitRole)
    file_menu.addAction(new_run)
    file_menu.addAction(open_)
    file_menu.addMenu(recent_menu)
    file_menu.addSeparator()
    file_menu.addAction(save)
    file_menu.addAction(save_as)
    file_menu.addAction(export_metrics)
    file_menu.addSeparator()
    file_menu.addAction(quit_)

    training_menu = bar.addMenu("&Training")
    training_menu.setObjectName("trainingMenu")
    start = _action(window, "&Start", QKeySequence("Ctrl+Return"), commands.start)
    pause = _action(window, "&Pause / Resume", QKeySequence("Ctrl+P"), commands.pause)
    stop = _action(window, "S&top", QKeySequence("Ctrl+."), commands.stop)
    for act in (start, pause, stop):
        training_menu.addAction(act)

    view_menu = bar.addMenu("&View")
    view_menu.setObjectName("viewMenu")
    log_scale = view_menu.addAction("&Log scale")
    log_scale.setCheckable(True)
    follow_latest = view_menu.addAction("&Follow latest")
    follow_latest.setCheckable(True)

    help_menu = bar.addMenu("&Help")
    help_menu.setObjectName("helpMenu")
    about = _action(window, "&About VAE Desktop", None, commands.about)
    about.setObjectName("aboutAction")
    about.setStatusTip("Versions of VAE Desktop, Python, PyTorch, Qt and pyqtgraph, and the device in use")
    help_menu.addAction(about)
    return WindowActions(file_menu, new_run, open_, recent_menu, save, save_as, export_metrics, quit_,
                         training_menu, start, pause, stop, view_menu, log_scale, follow_latest, help_menu, about)


def _action(parent: QWidget, text: str, shortcut: Shortcut, slot: Callable[[], object]) -> QAction:
    act = QAction(text, parent)
    if shortcut is not None:
        act.setShortcut(shortcut)
    act.triggered.connect(lambda _checked=False: slot())  # never pass `checked` on as an argument
    parent.addAction(act)
    return act


@dataclass(frozen=True)
class CompareActions:
    """File ▸ Compare runs… and Add run to comparison… (the comparison's own entries)."""

    compare_runs: QAction
    add_run: QAction


def build_compare_actions(
    window: QMainWindow, file_menu: QMenu, before: QAction, compare_runs: Callable[[], object],
    add_run: Callable[[], object],
) -> CompareActions:
    """Put the comparison's actions into the File menu, above `before`."""
    compare = _action(window, "&Compare runs…", None, compare_runs)
    compare.setObjectName("compareRunsAction")
    compare.setStatusTip("Overlay the loss curves of run folders (and this window's run) in one plot")
    add = _action(window, "A&dd run to comparison…", None, add_run)
    add.setObjectName("addRunToComparisonAction")
    add.setStatusTip("Add more run folders to the runs compared in the loss plots")
    file_menu.insertAction(before, compare)
    file_menu.insertAction(before, add)
    file_menu.insertSeparator(before)
    return CompareActions(compare, add)
