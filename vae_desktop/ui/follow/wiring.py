"""Attach following to a window: its controller, File-menu actions, dialogs and drops, in one call."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog, QInputDialog

from vae_desktop.core.runs.opening import PathKind, classify_path
from vae_desktop.ui.actions import FollowActions, add_follow_actions
from vae_desktop.ui.follow.follower import FollowController

if TYPE_CHECKING:
    from vae_desktop.ui.main_window import MainWindow

REMOTE_PROMPT = "Run folder on another machine (user@host:/path/to/run, or ssh://user@host:port/path):"


def attach_following(window: MainWindow) -> tuple[FollowController, FollowActions]:
    follow = FollowController(window)

    def choose_folder() -> None:
        path = QFileDialog.getExistingDirectory(window, "Open run folder to follow", window.recent.last_dir())
        if path:
            window.recent.remember_dir(path + "/")
            follow.follow(path)

    def ask_remote() -> None:
        text, ok = QInputDialog.getText(window, "Open remote run", REMOTE_PROMPT)
        if ok and text.strip():
            open_path(window, follow, text.strip(), remote_only=True)

    actions = add_follow_actions(window, window.menu_actions, choose_folder, ask_remote, follow.stop)
    follow.followingChanged.connect(actions.stop_following.setEnabled)
    window.setAcceptDrops(True)  # MainWindow.dropEvent hands a dropped path to open_path
    return follow, actions


def open_path(window: MainWindow, follow: FollowController, text: str, remote_only: bool = False) -> bool:
    """What a dropped path or a command-line argument names: a run folder (or remote address) is
    followed, a checkpoint opens as File ▸ Open does, anything else is said in the window."""
    target = classify_path(text)
    if target.kind is PathKind.CHECKPOINT and not remote_only:
        if follow.active:
            follow.stop()
        return window.open_over_run(target.path)
    if remote_only and target.kind is not PathKind.REMOTE:
        window.show_error(f"{text} is not a remote address: write it as user@host:/path/to/run.")
        return False
    return follow.follow(text)
