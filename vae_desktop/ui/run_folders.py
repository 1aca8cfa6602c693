"""The window's run folders: the runs folder setting, File ▸ Recent runs, opening a run folder,
copying a run ("Save as" a folder), and the offer to reopen a run a crash interrupted.

Everything that reads the runs folder (listing its runs, finding interrupted ones) or copies a run
runs off the GUI thread (`BackgroundCall`); this object shows what comes back. The recording itself
is the controller's (ui/run_saver.py, core/runs).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QBoxLayout, QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from vae_desktop.core.errors import VaeDesktopError
from vae_desktop.core.runs.copying import copy_run
from vae_desktop.core.runs.interrupted import InterruptedRun, find_interrupted
from vae_desktop.core.runs.listing import ListedRun, list_runs
from vae_desktop.core.wording import counted
from vae_desktop.ui.background import BackgroundCall
from vae_desktop.ui.window_settings import runs_folder, set_runs_folder

if TYPE_CHECKING:
    from vae_desktop.ui.main_window import MainWindow

OFFER_NAME = "interruptedRunOffer"  # object name: tests and screen readers find the bar by it


class InterruptedOffer(QFrame):
    """"<run> was interrupted at epoch N: Reopen / Ignore", above the plots until answered."""

    reopen = Signal(str)  # the run folder

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(OFFER_NAME)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.reopen_button = QPushButton("Reopen")
        self.ignore_button = QPushButton("Ignore")
        for button, tip in ((self.reopen_button, "Open the interrupted run at its last saved epoch, to continue it"),
                            (self.ignore_button, "Leave the interrupted run as it is (File ▸ Recent runs lists it)")):
            button.setToolTip(tip)
            button.setStatusTip(tip)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.reopen_button)
        layout.addWidget(self.ignore_button)
        self._folder = ""
        self.reopen_button.clicked.connect(self._reopen)
        self.ignore_button.clicked.connect(self.hide)
        self.hide()

    @property
    def folder(self) -> str:
        """The run offered ('' when nothing is)."""
        return self._folder if not self.isHidden() else ""

    def offer(self, run: InterruptedRun) -> None:
        self._folder = str(run.folder)
        self.text.setText(f"The run {run.folder.name} was interrupted (the app ended without saving how). Its "
                          f"folder holds {counted(run.saved_epochs, 'epoch')}: reopen it to look at it or continue "
                          "training from there?")
        self.show()

    def _reopen(self) -> None:
        self.hide()
        self.reopen.emit(self._folder)


class RunFolders(QObject):
    """Installed by the window once the core is in (the controller exists)."""

    listed = Signal(object)  # list[ListedRun], after each scan of the runs folder

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self._calls: list[BackgroundCall] = []
        self.runs: list[ListedRun] = []
        self.offer = InterruptedOffer()
        holder = window.banner.parentWidget()
        layout = holder.layout() if holder is not None else None
        if isinstance(layout, QBoxLayout):  # under the message banner, above the plots
            layout.insertWidget(layout.indexOf(window.banner) + 1, self.offer)
        self.offer.reopen.connect(self.reopen)
        controller = window.controller
        assert controller is not None
        controller.runs_root = self.root
        controller.runFolderOpened.connect(self._on_opened)
        controller.pathChanged.connect(lambda _path: self.rescan())  # a new run folder was made
        menu = window.menu_actions.recent_runs_menu
        menu.aboutToShow.connect(self.rescan)
        self._fill_menu()

    @property
    def root(self) -> str:
        return runs_folder(self._window.settings)

    def set_root(self, folder: str) -> None:
        """File ▸ Runs folder…: new runs go to `folder` (the current run stays where it is)."""
        set_runs_folder(self._window.settings, folder)
        if self._window.controller is not None:
            self._window.controller.runs_root = folder
        self.rescan()

    # ---- background work --------------------------------------------------------------------------
    def _call(self, fn: Callable[[], Any], on_done: Callable[[Any], None], name: str) -> None:
        def failed(exc: BaseException) -> None:
            self._window.show_error(str(exc) if isinstance(exc, VaeDesktopError) else f"Could not {name}: {exc}")

        call = BackgroundCall(fn, on_done, failed, name=name, parent=self)
        self._calls.append(call)
        call.completed.connect(lambda: self._calls.remove(call) if call in self._calls else None)
        call.start()

    def join(self, timeout_s: float) -> bool:
        return all(call.join(timeout_s) for call in list(self._calls))

    def offer_interrupted(self) -> None:
        """At start-up: look for a run a crash left behind and offer the most recent one."""
        root = self.root

        def found(runs: list[InterruptedRun]) -> None:
            resumable = [run for run in runs if run.resumable]
            if resumable and not self._window.is_training:
                self.offer.offer(resumable[0])

        self._call(lambda: find_interrupted(root), found, "look for interrupted runs")
        self.rescan()

    @Slot()
    def rescan(self) -> None:
        root = self.root
        self._call(lambda: list_runs(root), self._on_listed, "list the runs folder")

    def _on_listed(self, runs: list[ListedRun]) -> None:
        self.runs = runs
        self._fill_menu()
        self.listed.emit(runs)

    def _fill_menu(self) -> None:
        menu = self._window.menu_actions.recent_runs_menu
        menu.clear()
        for run in self.runs:
            act = menu.addAction(run.label())
            act.setToolTip(str(run.folder))
            act.setStatusTip(str(run.folder))
            act.setData(str(run.folder))
            act.triggered.connect(lambda _checked=False, p=str(run.folder): self.reopen(p))
        if not self.runs:
            empty = menu.addAction(f"No runs in {self.root} yet")
            empty.setStatusTip("Runs trained in this window are recorded here; File ▸ Runs folder… changes where")
            empty.setEnabled(False)

    # ---- opening and copying ---------------------------------------------------------------------
    @Slot(str)
    def reopen(self, folder: str) -> None:
        """Open a run folder to continue it (asks first about unsaved training, as Open does)."""
        self._window.open_over_run(folder)

    def _on_opened(self, folder: str) -> None:
        if self.offer.folder == folder:
            self.offer.hide()
        window = self._window
        window.recent.add(folder)
        window.setWindowModified(False)
        window.statusBar().showMessage(f"Opened the run {Path(folder).name}", 5000)
        self.rescan()  # it is no longer interrupted: owned here, marked stopped

    def copy_to(self, target: str) -> None:
        """Save as a folder: copy the run folder (as last autosaved) to `target`, off the GUI thread."""
        controller = self._window.controller
        source = controller.run_folder if controller is not None else None
        if source is None:
            return

        def copied(path: Any) -> None:
            self._window.recent.add(str(path))
            self._window.statusBar().showMessage(f"Copied the run to {Path(str(path)).name}", 5000)

        self._call(lambda: copy_run(source, target), copied, "copy the run")
