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
    open_run_folder: QAction  # open a run folder and continue it here (its own lock: one writer)
    recent_runs_menu: QMenu  # the runs folder's runs, an interrupted one marked (ui/run_folders.py fills it)
    runs_folder: QAction  # choose where the window's own runs are recorded

    @property
    def replace_run(self) -> tuple[QAction, ...]:
        """The actions that replace the current run (off while training)."""
        return (self.new_run, self.open, self.recent_menu.menuAction(), self.open_run_folder,
                self.recent_runs_menu.menuAction())


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
    open_run_folder: Callable[[], object]
    choose_runs_folder: Callable[[], object]


def build_menus(window: QMainWindow, commands: WindowCommands) -> WindowActions:
    """Fill `window`'s menu bar; returns the registry of what it made."""
    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    file_menu.setObjectName("fileMenu")
    new_run = _action(window, "&New run", QKeySequence.StandardKey.New, commands.new_run)
    open_ = _action(window, "&Open checkpoint…", QKeySequence.StandardKey.Open, commands.open)
    recent_menu = QMenu("Open &recent", window)
    recent_menu.setObjectName("recentMenu")
    save = _action(window, "&Save", QKeySequence.StandardKey.Save, commands.save)
    save_as = _action(window, "Save &as…", QKeySequence("Ctrl+Shift+S"), commands.save_as)
    export_metrics = _action(window, "&Export metrics CSV…", None, commands.export_metrics)
    save.setStatusTip("Bring the run's file up to date now (a run folder also saves itself after every epoch)")
    save_as.setStatusTip("Copy the run: a whole run folder, or one checkpoint file (a name ending in .vaeckpt)")
    quit_ = _action(window, "&Quit", QKeySequence("Ctrl+Q"), commands.quit)
    quit_.setMenuRole(QAction.MenuRole.QuitRole)
    file_menu.addAction(new_run)
    file_menu.addAction(open_)
    file_menu.addMenu(recent_menu)
    open_run_folder = _action(window, "Open run &folder…", None, commands.open_run_folder)
    open_run_folder.setStatusTip("Open a run folder with its whole history and continue training it here")
    recent_runs_menu = QMenu("Recent r&uns", window)
    recent_runs_menu.setObjectName("recentRunsMenu")
    runs_folder = _action(window, "R&uns folder…", None, commands.choose_runs_folder)
    runs_folder.setStatusTip("Choose the folder where new runs are recorded (autosaved)")
    file_menu.addAction(open_run_folder)
    file_menu.addMenu(recent_runs_menu)
    file_menu.addSeparator()
    file_menu.addAction(save)
    file_menu.addAction(save_as)
    file_menu.addAction(export_metrics)
    file_menu.addAction(runs_folder)
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
                         training_menu, start, pause, stop, view_menu, log_scale, follow_latest, help_menu, about,
                         open_run_folder=open_run_folder, recent_runs_menu=recent_runs_menu, runs_folder=runs_folder)


def _action(parent: QWidget, text: str, shortcut: Shortcut, slot: Callable[[], object]) -> QAction:
    act = QAction(text, parent)
    if shortcut is not None:
        act.setShortcut(shortcut)
    act.triggered.connect(lambda _checked=False: slot())  # never pass `checked` on as an argument
    parent.addAction(act)
    return act


@dataclass(frozen=True)
class FollowActions:
    """File ▸ Open run folder to follow…, Open remote run…, Stop following (ui/follow)."""

    open_run_folder: QAction
    open_remote: QAction
    stop_following: QAction


def add_follow_actions(window: QMainWindow, acts: WindowActions, open_run_folder: Callable[[], object],
                       open_remote: Callable[[], object], stop_following: Callable[[], object]) -> FollowActions:
    """Put the follow actions into the File menu, after Open recent."""
    folder = _action(window, "Open run &folder to follow…", QKeySequence("Ctrl+Shift+O"), open_run_folder)
    folder.setStatusTip("Follow a run another process writes (vae-desktop train --out, a synced folder), live")
    remote = _action(window, "Open re&mote run…", None, open_remote)
    remote.setStatusTip("Follow a run on another machine over SSH (user@host:/path/to/run)")
    stop = _action(window, "Stop &following", None, stop_following)
    stop.setStatusTip("Stop following the run shown: the window shows its own run again")
    stop.setEnabled(False)
    before = acts.recent_menu.menuAction()
    actions = acts.file_menu.actions()
    index = actions.index(before) + 1 if before in actions else len(actions)
    after = actions[index] if index < len(actions) else None
    for act in (folder, remote, stop):
        if after is None:
            acts.file_menu.addAction(act)
        else:
            acts.file_menu.insertAction(after, act)
    return FollowActions(folder, remote, stop)


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
