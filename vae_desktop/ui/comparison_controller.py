"""Comparing runs in the window: File ▸ Compare runs… / Add run to comparison…, the run list under
the loss plots, the overlay in them, and which run the side panels follow.

Run folders are read off the GUI thread and land in the Qt-free `RunComparison`; the overlay and
the list are its views. Each compared folder stays live while it is compared (ui/compare_live.py:
polled once a second in its own thread, as a followed run is), so a run that is still training
grows in the plots. The window's own run joins a comparison while it has curves, under the key
`OWN_RUN_KEY`, and stays live too (its plot items are the window's own). Selecting a run emits
`selectedCheckpoint` with that run's latest checkpoint ('' for the window's own run);
`ComparedModelView` then shows that model in the side panels.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QAbstractItemView, QFileDialog, QListView, QTreeView

from vae_desktop.core.runs.comparison import (
    OWN_RUN_KEY,
    ComparedRun,
    RunComparison,
    RunCurves,
    flat_settings,
)
from vae_desktop.core.runs.errors import RunFolderError
from vae_desktop.ui.actions import build_compare_actions
from vae_desktop.ui.compare_list import ComparisonList
from vae_desktop.ui.compare_live import CompareWorker, LiveRuns
from vae_desktop.ui.compare_model_view import ComparedModelView
from vae_desktop.ui.compare_overlay import ComparisonOverlay
from vae_desktop.ui.logging_setup import LOGGER_NAME

if TYPE_CHECKING:
    from vae_desktop.ui.main_window import MainWindow

log = logging.getLogger(f"{LOGGER_NAME}.compare")

OWN_RUN_NAME = "this window's run"


def choose_run_folders(window: MainWindow, title: str) -> list[str]:
    """Several folders from one dialog: Qt's own dialog, whose views allow a multiple selection
    (the platforms' native folder dialogs pick one folder only)."""
    dialog = QFileDialog(window, title, window.recent.last_dir())
    dialog.setFileMode(QFileDialog.FileMode.Directory)
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
    dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
    for view in dialog.findChildren(QListView) + dialog.findChildren(QTreeView):
        view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
    if not dialog.exec():
        return []
    folders = dialog.selectedFiles()
    if folders:
        window.recent.remember_dir(folders[0])
    return folders


class ComparisonController(QObject):
    selectedCheckpoint = Signal(str)  # latest checkpoint of the selected run ('' for the window's own run)
    runAdded = Signal(str)  # key of a run folder that has joined (after its history was read)
    runGrew = Signal(str)  # key of a compared run folder whose curves grew (after they were drawn)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.setObjectName("comparisonController")
        self._window = window
        self.comparison = RunComparison()
        self.overlay = ComparisonOverlay(window.plots, self.comparison)
        self.run_list = ComparisonList(self.comparison)
        window.plots.add_below(self.run_list)
        self.live = LiveRuns(self)
        self._pending: list[tuple[CompareWorker, list[ComparedRun | None]]] = []  # being read, in order asked
        self._workers: dict[str, CompareWorker] = {}  # the worker keeping each compared folder current
        self.live.opened.connect(self._on_loaded)
        self.live.failed.connect(self._on_failed)
        self.live.grew.connect(self._on_grew)
        self.comparison.changed.connect(self._stop_removed)
        acts = window.menu_actions
        self.actions = build_compare_actions(window, acts.file_menu, acts.save, self.compare_dialog, self.add_dialog)
        self.run_list.addRequested.connect(self.add_dialog)
        self.comparison.selection_changed.connect(self._on_selection)
        window.epochFinished.connect(lambda _metrics: self.sync_own_run())
        window.historyRestored.connect(lambda _epochs: self.sync_own_run())
        self.model_view: ComparedModelView | None = None
        window.coreReady.connect(self._attach_model_view)

    # ---- what is compared -----------------------------------------------------------------------
    @property
    def active(self) -> bool:
        return len(self.comparison) > 0

    @property
    def loading(self) -> bool:
        return bool(self._pending)

    def add_folders(self, folders: Iterable[str]) -> None:
        """Read each folder off the GUI thread and add it, in the order given, whichever is read
        first; a folder that is no run gets one message and the others still come."""
        for folder in folders:
            slot: list[ComparedRun | None] = []  # filled when read: the run, or None when it failed
            self._pending.append((self.live.start(str(folder)), slot))

    def compare(self, folders: Iterable[str]) -> None:
        """A new comparison: these folders, and the window's own run when it has curves."""
        self.comparison.clear()
        for worker, _slot in self._pending:  # folders still being read for an earlier comparison are not wanted
            self.live.stop(worker)
        self._pending = []
        self.sync_own_run(join=True)
        self.add_folders(folders)

    def compare_dialog(self) -> None:
        folders = choose_run_folders(self._window, "Compare runs: choose run folders")
        if folders:
            self.compare(folders)

    def add_dialog(self) -> None:
        folders = choose_run_folders(self._window, "Add run folders to the comparison")
        if folders:
            if not self.active:
                self.sync_own_run(join=True)
            self.add_folders(folders)

    def _slot_of(self, worker: CompareWorker) -> list[ComparedRun | None] | None:
        return next((slot for w, slot in self._pending if w is worker), None)

    @Slot(object, object)
    def _on_loaded(self, worker: CompareWorker, run: ComparedRun) -> None:
        slot = self._slot_of(worker)
        if slot is None:
            self.live.stop(worker)
            return
        slot.append(run)
        self._add_ready()

    @Slot(object, object)
    def _on_failed(self, worker: CompareWorker, exc: BaseException) -> None:
        self.live.stop(worker)
        slot = self._slot_of(worker)
        if slot is None:
            return
        slot.append(None)
        folder = worker.folder
        if isinstance(exc, (RunFolderError, OSError)):
            self._window.show_error(f"Could not compare {Path(folder).name}: {exc}")
        else:
            log.error("Reading %s for the comparison failed", folder, exc_info=exc)
            self._window.show_error(f"Could not compare {Path(folder).name}: an unexpected error "
                                    f"({type(exc).__name__}: {exc}).")
        self._add_ready()

    def _add_ready(self) -> None:
        """Add the runs read so far that no earlier folder is still being read before."""
        while self._pending and self._pending[0][1]:
            worker, slot = self._pending.pop(0)
            run = slot[0]
            if run is None:
                continue
            if not self.active:
                self.sync_own_run(join=True)
            old = self._workers.get(run.key)  # the same folder added again: the new reader takes over
            if old is not None and old is not worker:
                self.live.stop(old)
            self._workers[run.key] = worker
            self.comparison.add(run)
            self.runAdded.emit(run.key)
            log.info("Comparing %s (%d batch rows, %d epochs)", run.name, len(run.curves.steps),
                     len(run.curves.epochs))

    @Slot(str, object, str)
    def _on_grew(self, key: str, curves: RunCurves, checkpoint: str) -> None:
        """A compared folder's new rows: its curves (and its checkpoint, once it has one) are replaced."""
        if key not in self.comparison:
            return
        run = self.comparison.run(key)
        if checkpoint != run.checkpoint:
            run.checkpoint = checkpoint
            if self.comparison.selected is run:
                self.selectedCheckpoint.emit(checkpoint)
        self.comparison.update_curves(key, curves)
        self.runGrew.emit(key)

    def _stop_removed(self) -> None:
        """A run left the comparison (removed, closed, replaced by a new comparison): stop reading it."""
        for key, worker in list(self._workers.items()):
            if key not in self.comparison:
                del self._workers[key]
                self.live.stop(worker)

    def worker_of(self, key: str) -> CompareWorker | None:
        """The worker keeping a compared folder current (None for the own run and runs not compared)."""
        return self._workers.get(key)

    # ---- the window's own run ---------------------------------------------------------------------
    def own_run(self) -> ComparedRun | None:
        """The window's run as a compared run, or None while it has no curves."""
        window = self._window
        plots = window.plots
        batch = plots.batch_data()
        epochs = plots.epoch_data()
        if not len(batch["global_step"]) and not epochs:
            return None
        controller = window.controller
        run_settings = controller.run_settings() if controller is not None else None
        model = window.mirror.model if window.mirror is not None else None
        settings = {}
        if run_settings is not None:
            model_config = model.config.to_dict() if model is not None else {"z_dim": run_settings.z_dim}
            settings = flat_settings(run_settings.dataset, model_config, run_settings.train.to_dict())
        curves = RunCurves(batch["global_step"], batch["recon"], batch["kl"], epochs, plots.steps_per_epoch)
        return ComparedRun(OWN_RUN_KEY, OWN_RUN_NAME, settings, curves)

    def sync_own_run(self, join: bool = False) -> None:
        """Keep the own run's entry current (its settings and epochs); `join` adds it if missing."""
        if not join and OWN_RUN_KEY not in self.comparison:
            return
        own = self.own_run()
        if own is None:
            self.comparison.remove(OWN_RUN_KEY)
        elif OWN_RUN_KEY in self.comparison and self.comparison.run(OWN_RUN_KEY).settings == own.settings:
            self.comparison.update_curves(OWN_RUN_KEY, own.curves)
        else:
            self.comparison.add(own)

    # ---- selection --------------------------------------------------------------------------------
    def _on_selection(self, key: str) -> None:
        run = self.comparison.selected
        self.selectedCheckpoint.emit("" if run is None or run.is_own else run.checkpoint)

    def _attach_model_view(self) -> None:
        """Once the core (and so the mirror) is there, the side panels follow the selected run."""
        mirror = self._window.mirror
        if self.model_view is None and mirror is not None:
            self.model_view = ComparedModelView(self._window, mirror)
            self.selectedCheckpoint.connect(self.model_view.follow)

    def shutdown(self) -> None:
        """The window closes: stop reading every folder (waiting briefly for a read in progress)."""
        self._pending = []
        self._workers.clear()
        self.live.shutdown()

    def join(self, timeout_s: float) -> bool:
        """Wait for the threads of folders no longer compared and the side panels' loads; True when
        none is left."""
        view_done = self.model_view is None or self.model_view.join(timeout_s)
        return self.live.join(timeout_s) and view_done
