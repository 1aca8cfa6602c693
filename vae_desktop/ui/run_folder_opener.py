"""Opening a run folder to continue it in the window: read off the GUI thread, then owned.

Reading (core/runs/owner.load_run_folder: open_run, then the latest checkpoint, checked) is slow, so
it runs in a `BackgroundCall`; taking the folder's lock (one writer per run folder) happens back in
the GUI thread, just before the run becomes the window's. `RunController` adopts what `opened` gives.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from vae_desktop.core.checkpoint import Checkpoint
from vae_desktop.core.errors import RunInUseError, VaeDesktopError
from vae_desktop.core.runs.owner import OwnedRunFolder, load_run_folder
from vae_desktop.ui.background import BackgroundCall
from vae_desktop.ui.current_run import check_dataset_shape


class RunFolderOpener(QObject):
    """One run folder opening at a time; the result on `opened`, or one message on `errorRaised`."""

    opened = Signal(object, object, str)  # Checkpoint, OwnedRunFolder, the folder
    errorRaised = Signal(str)

    def __init__(self, may_adopt: Callable[[], bool], report_unexpected: Callable[[str, BaseException], None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._may_adopt = may_adopt  # False while training: nothing replaces a run that trains
        self._report_unexpected = report_unexpected
        self._call: BackgroundCall | None = None

    @property
    def busy(self) -> bool:
        return self._call is not None

    def open(self, folder: str) -> bool:
        """Start reading `folder`; False when another opening is still under way."""
        if self._call is not None:
            return False

        def read() -> Checkpoint:
            ckpt = load_run_folder(folder)
            check_dataset_shape(ckpt, os.path.basename(folder))
            return ckpt

        self._call = BackgroundCall(read, lambda ckpt: self._own(folder, ckpt), lambda exc: self._fail(folder, exc),
                                    name="open run folder", parent=self)
        self._call.start()
        return True

    def join(self, timeout_s: float) -> bool:
        return self._call is None or self._call.join(timeout_s)

    def _own(self, folder: str, ckpt: Checkpoint) -> None:
        self._call = None
        if not self._may_adopt():
            self.errorRaised.emit("Stop training before opening a run folder.")
            return
        try:
            owned = OwnedRunFolder.claim(folder)
        except RunInUseError as exc:
            self.errorRaised.emit(f"Not opened for training: {exc} Follow it instead, or wait for it to end.")
            return
        except OSError as exc:
            self.errorRaised.emit(f"Could not open {folder} to continue it: {exc.strerror or exc}.")
            return
        self.opened.emit(ckpt, owned, folder)

    def _fail(self, folder: str, exc: BaseException) -> None:
        self._call = None
        if isinstance(exc, VaeDesktopError):
            self.errorRaised.emit(str(exc))
        else:
            self._report_unexpected(f"Could not open {os.path.basename(folder)}", exc)
