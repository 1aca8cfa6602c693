"""Continue here for a run followed over SSH: its folder is copied into a new run folder of the
window's own (core/runs/copying.fetch_run, off the GUI thread), then that folder opens as the
window's run and trains on, as Continue here does for a local folder.

Why copy the folder rather than continue the fetched checkpoint: that one is a temporary download
that goes with the connection, and the run's full-resolution log (metrics.jsonl) would be left
behind. Only what continuing needs travels: run.json, the logs and the latest checkpoint.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal, Slot

from vae_desktop.core.errors import VaeDesktopError
from vae_desktop.core.runs.copying import fetch_run
from vae_desktop.core.runs.opening import PathTarget, source_for
from vae_desktop.ui.background import BackgroundCall

if TYPE_CHECKING:
    from vae_desktop.ui.follow.follower import FollowController


class RemoteContinuation(QObject):
    """One copy at a time; when it is in, the copied folder opens and training starts."""

    copied = Signal(str)  # the local run folder the followed run was copied into

    def __init__(self, follow: FollowController) -> None:
        super().__init__(follow)
        self._follow = follow
        self._call: BackgroundCall | None = None
        self._target: PathTarget | None = None  # the followed run being copied
        self._opening: str | None = None  # the copied folder being opened as the window's own run

    def copying(self, target: PathTarget | None) -> bool:
        """A copy of `target` is under way (the banner says so instead of the run's state)."""
        return self._call is not None and target is not None and self._target is target

    def start(self) -> bool:
        """Copy the followed remote run here; False when a copy is under way or nothing is followed."""
        follow = self._follow
        target, model, controller = follow.target, follow.model, follow.window.controller
        if self._call is not None or target is None or model is None or controller is None:
            return False
        runs_root, ssh_config = controller.runs_root, follow.ssh_config
        dataset, z_dim = model.dataset, model.model_config.z_dim

        def copy() -> str:  # in a background thread, over a connection of its own
            with source_for(target, ssh_config=ssh_config) as source:
                return str(fetch_run(source, runs_root, dataset, z_dim))

        self._target = target
        self._call = BackgroundCall(copy, lambda folder: self._copied(target, folder), self._failed,
                                    name="copy remote run", parent=self)
        self._call.start()
        return True

    def join(self, timeout_s: float) -> bool:
        call = self._call
        return call is None or call.join(timeout_s)

    def _copied(self, target: PathTarget, folder: str) -> None:
        self._call = self._target = None
        follow = self._follow
        window, controller = follow.window, follow.window.controller
        self.copied.emit(folder)
        if follow.target is not target or controller is None:  # following ended meanwhile: the copy stays
            window.statusBar().showMessage(f"Copied the run to {folder}", 10_000)
            return
        if not follow.take_over(folder):
            return
        self._opening = folder
        controller.runFolderOpened.connect(self._opened)  # the folder is read off the GUI thread
        controller.errorRaised.connect(self._not_opened)

    def _failed(self, exc: BaseException) -> None:
        self._call = self._target = None
        follow = self._follow
        message = str(exc) if isinstance(exc, VaeDesktopError) else f"Could not copy {follow.name} here: {exc}"
        follow.window.show_error(message)  # following goes on: the run is shown as before

    @Slot(str)
    def _opened(self, folder: str) -> None:
        if folder != self._opening:
            return
        self._disconnect()
        self._follow.window.start_training()

    @Slot(str)
    def _not_opened(self, _message: str) -> None:
        """The copy did not open (the window said why): the window shows its own run again."""
        self._disconnect()
        controller = self._follow.window.controller
        if controller is not None:
            controller.show_own_run()

    def _disconnect(self) -> None:
        self._opening = None
        controller = self._follow.window.controller
        if controller is not None:
            controller.runFolderOpened.disconnect(self._opened)
            controller.errorRaised.disconnect(self._not_opened)
