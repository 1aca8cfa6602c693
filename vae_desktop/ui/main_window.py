"""The main window: run settings and controls on the left, live loss plots and reconstructions in
the middle, side panels (latent map, inspector) in tabs on the right.

The window paints before torch is imported: everything torch-related lives in `RunController`,
created by `attach_core()` once the core has loaded. Until then Start is disabled and says why.
The window keeps no run state of its own: it renders the controller's `TrainingStatus`
(ui/status_view.py; `controls_for` decides what is enabled), and its menus are a `WindowActions`
registry. Its widget tree is built by ui/window_layout.py, its core parts by ui/core_wiring.py.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, QTimer, Signal, Slot
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QMainWindow, QWidget

from vae_desktop.core.config import Architecture, ModelConfig
from vae_desktop.core.errors import VaeDesktopError
from vae_desktop.core.metrics import BatchMetrics, EpochMetrics
from vae_desktop.core.metrics_csv import write_metrics_csv
from vae_desktop.core.training_status import TrainingState, TrainingStatus, controls_for
from vae_desktop.core.wording import counted
from vae_desktop.ui import file_dialogs
from vae_desktop.ui.actions import WindowCommands, build_menus
from vae_desktop.ui.control_panel import ControlPanel
from vae_desktop.ui.follow import drops
from vae_desktop.ui.logging_setup import LOGGER_NAME
from vae_desktop.ui.recent_files import RecentFiles
from vae_desktop.ui.status_view import StatusView
from vae_desktop.ui.unsaved_changes import UnsavedWorkGuard
from vae_desktop.ui.window_layout import build_window_layout
from vae_desktop.ui.window_settings import restore_window_settings, save_window_settings

if TYPE_CHECKING:  # these import torch; the window must paint before torch has loaded
    from vae_desktop.core.datasets import ImageDataset
    from vae_desktop.core.trainer import Trainer
    from vae_desktop.ui.actions import FollowActions
    from vae_desktop.ui.comparison_controller import ComparisonController
    from vae_desktop.ui.current_run import HistorySnapshot
    from vae_desktop.ui.experiments_menu import ExperimentsMenu
    from vae_desktop.ui.follow.follower import FollowController
    from vae_desktop.ui.inspector import InspectorPanel
    from vae_desktop.ui.latent_panel import LatentPanel
    from vae_desktop.ui.model_mirror import ModelMirror
    from vae_desktop.ui.run_controller import RunController
    from vae_desktop.ui.run_folders import RunFolders

log = logging.getLogger(f"{LOGGER_NAME}.window")

APP_TITLE = "VAE Desktop"
NOT_STARTED = TrainingStatus()  # before the core has loaded: nothing can train yet
CLOSE_WAIT_MS = 900  # how long closing waits for the current batch before it closes once the batch ends


class MainWindow(QMainWindow):
    epochFinished = Signal(object)  # EpochMetrics, as each epoch of training ends
    historyRestored = Signal(object)  # list[EpochMetrics] of an opened checkpoint (or a reset: [])
    testImageSelected = Signal(int)  # test-set index clicked in the reconstruction strip
    coreReady = Signal()  # torch and the core are loaded; Start works
    statusChanged = Signal(object)  # TrainingStatus, after the window has rendered it

    def __init__(
        self,
        settings: QSettings | None = None,
        model_template: ModelConfig | None = None,
        training_threads: int | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings = settings if settings is not None else QSettings()
        self._model_template = model_template
        self._training_threads = training_threads
        self.controller: RunController | None = None
        self.follow: FollowController | None = None  # following another process's run (ui/follow)
        self.follow_actions: FollowActions | None = None
        self.run_folders: RunFolders | None = None  # the runs folder, Recent runs, reopening (with the core)
        # Compare runs (psygnal, the comparison's model) and Experiments: built with the core, after the first paint.
        self.comparison: ComparisonController | None = None
        self.experiments: ExperimentsMenu | None = None
        self.latent_panel: LatentPanel | None = None
        self.inspector_panel: InspectorPanel | None = None
        self._close_when_stopped = False
        self._shut_down = False

        self.setWindowTitle(f"{APP_TITLE}[*]")
        self.setMinimumSize(760, 520)
        self._build_ui()
        self.menu_actions = build_menus(self, WindowCommands(
            new_run=self.new_run, open=lambda: file_dialogs.open_checkpoint(self), save=self.save_checkpoint,
            save_as=lambda: file_dialogs.save_as(self), export_metrics=lambda: file_dialogs.export_metrics(self),
            quit=self.close, start=self.start_training,
            pause=self.toggle_pause, stop=self.stop_training, about=self._about,
            open_run_folder=lambda: file_dialogs.open_run_folder(self),
            choose_runs_folder=lambda: file_dialogs.choose_runs_folder(self),
        ))
        acts = self.menu_actions
        self.status_view = StatusView(self.control_panel, acts, self.statusBar())
        view = self.status_view
        self.state_label, self.rate_label, self.device_label = view.state_label, view.rate_label, view.device_label
        acts.log_scale.toggled.connect(self.plots.log_scale.setChecked)
        self.plots.log_scale.toggled.connect(acts.log_scale.setChecked)
        acts.follow_latest.toggled.connect(self.plots.follow_latest.setChecked)
        self.plots.follow_latest.toggled.connect(acts.follow_latest.setChecked)
        self.recent = RecentFiles(self.settings, acts.recent_menu, self.open_over_run)
        self._restored_main_splitter = restore_window_settings(self)
        if model_template is not None:  # a template given by the caller (tests, benchmarks) wins over the last start's
            self.form.set_architecture(Architecture.of(model_template))
        self._unsaved = UnsavedWorkGuard(self)
        self.status_view.render(NOT_STARTED)

    # ==== construction ============================================================================
    def _build_ui(self) -> None:
        self.control_panel = ControlPanel()
        panel = self.control_panel
        self.form, self.progress = panel.form, panel.progress
        self.start_button, self.pause_button, self.stop_button = panel.start_button, panel.pause_button, panel.stop_button

        self._layout = layout = build_window_layout(panel)
        self.banner, self.follow_banner, self.plots = layout.banner, layout.follow_banner, layout.plots
        self.recon_strip, self.center_splitter = layout.recon_strip, layout.center_splitter
        self.side_tabs, self.main_splitter = layout.side_tabs, layout.main_splitter
        self.setCentralWidget(self.main_splitter)

        self.start_button.clicked.connect(self.start_training)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button.clicked.connect(self.stop_training)
        self.form.validityChanged.connect(lambda _ok, _msg: self.status_view.render(self.status))
        self.form.folderRequested.connect(lambda: file_dialogs.choose_image_folder(self))
        self.form.dataset.activated.connect(self._prefetch_selected_dataset)
        self.recon_strip.testImageSelected.connect(self.testImageSelected)

    # ==== core ====================================================================================
    @property
    def mirror(self) -> ModelMirror | None:
        """The GUI's model copy (None until the core has loaded)."""
        return self.controller.mirror if self.controller is not None else None

    def attach_core(self) -> None:
        """Create the torch-side controller (imports torch if nobody has yet) and what comes with it
        (ui/core_wiring.py). Idempotent."""
        if self.controller is not None:
            return
        from vae_desktop.ui.core_wiring import attach_core_parts
        from vae_desktop.ui.run_controller import RunController

        controller = self.controller = RunController(self._model_template, self._training_threads, parent=self)
        controller.statusChanged.connect(self._on_status)
        controller.batches.connect(self._on_batches)
        controller.epochFinished.connect(self._on_epoch_finished)
        controller.historyReset.connect(self._on_history_reset)
        controller.settingsRestored.connect(lambda s: self.form.set_values(s.dataset, s.z_dim, s.train, s.architecture))
        controller.runLocked.connect(self.form.set_run_locked)
        controller.errorRaised.connect(self.show_error)
        controller.noticeRaised.connect(lambda text: self.banner.show_message(text, "info"))
        controller.saved.connect(self._on_saved)
        controller.pathChanged.connect(self._on_path_changed)
        controller.autosaved.connect(lambda _step: self._sync_modified())
        attach_core_parts(self, controller)
        follow = self.follow
        assert follow is not None
        follow.batches.connect(self.plots.append_batches)  # a followed run goes the own training's paths
        follow.epochFinished.connect(self._on_epoch_finished)
        follow.historyReset.connect(self._on_history_reset)
        self._on_status(controller.status)
        self.coreReady.emit()
        # Deferred: whoever attached the core may provide a dataset right away (tests, benchmarks).
        QTimer.singleShot(0, self._prefetch_selected_dataset)

    def provide_dataset(self, dataset: ImageDataset, name: str | None = None) -> None:
        """Train on an already-loaded dataset when `name` (default: its own) is selected (tests, benchmarks)."""
        self.attach_core()
        assert self.controller is not None
        self.controller.provide_dataset(dataset, name)

    @property
    def trainer(self) -> Trainer | None:
        return self.controller.trainer if self.controller is not None else None

    @property
    def status(self) -> TrainingStatus:
        """Where the run stands: the controller's status (one before the core has loaded)."""
        return self.controller.status if self.controller is not None else NOT_STARTED

    @property
    def state(self) -> TrainingState:
        return self.status.state

    # ==== side panels =============================================================================
    def add_side_panels(self, latent: LatentPanel, inspector: InspectorPanel) -> None:
        """The latent map and the inspector in tabs beside the plots; the window shuts them down."""
        self.latent_panel, self.inspector_panel = latent, inspector
        self._layout.add_side_panels(latent, inspector, None if self._restored_main_splitter else self.width())

    # ==== training controls =======================================================================
    @Slot()
    def start_training(self) -> None:
        controller = self.controller
        if controller is None or not controls_for(controller.status, form_valid=True).start:
            return
        try:
            settings = self.form.settings()
        except VaeDesktopError as exc:
            self.show_error(str(exc))
            return
        if self.banner.kind in ("error", "info"):
            self.banner.dismiss()
        controller.start(settings)

    @Slot()
    def toggle_pause(self) -> None:
        """Pause while training, resume while paused; the buttons change once the worker confirms."""
        if self.controller is not None:
            self.controller.toggle_pause()

    @Slot()
    def stop_training(self) -> None:
        if self.controller is not None:
            self.controller.stop()

    def show_state_note(self, text: str) -> None:
        """Say `text` where the state is shown, until the run is next idle or ready."""
        self.status_view.show_note(text)

    @property
    def is_training(self) -> bool:
        return self.controller is not None and self.controller.is_training

    # ==== controller events =======================================================================
    @Slot(object)
    def _on_status(self, status: TrainingStatus) -> None:
        self.status_view.render(status)
        if status.state.settled:
            self._sync_modified()
            if self._close_when_stopped:
                QTimer.singleShot(0, self.close)
        self.statusChanged.emit(status)

    @Slot(object)
    def _on_batches(self, batches: tuple[BatchMetrics, ...]) -> None:
        self.plots.append_batches(batches)
        if not self.isWindowModified():
            self.setWindowModified(True)

    @Slot(object)
    def _on_epoch_finished(self, metrics: EpochMetrics) -> None:
        self.plots.add_epoch(metrics)
        self.progress.show_latest_epoch(metrics)
        self.epochFinished.emit(metrics)

    @Slot(object)
    def _on_history_reset(self, snapshot: HistorySnapshot) -> None:
        self.plots.set_history(snapshot.steps, snapshot.recon, snapshot.kl, snapshot.epochs, snapshot.steps_per_epoch)
        self.progress.show_latest_epoch(snapshot.epochs[-1] if snapshot.epochs else None)
        self.historyRestored.emit(list(snapshot.epochs))

    # ==== messages ================================================================================
    @Slot(str)
    def show_error(self, text: str) -> None:
        log.warning("Shown to the user: %s", text)
        self.banner.show_message(text, "error")
        self.statusBar().showMessage(text.split(". ")[0], 8000)

    # ==== files ===================================================================================
    @Slot()
    def new_run(self) -> None:
        if self.controller is None or self.controller.is_training:
            return
        if not self._unsaved.settle("starting a new run"):
            return
        self.controller.new_run()
        self.banner.dismiss()
        self.setWindowModified(False)

    def open_checkpoint(self, path: str) -> bool:
        """Open a checkpoint (model, settings, history), or a run folder (off the GUI thread) to continue
        it; on error the current state is kept."""
        self.attach_core()
        assert self.controller is not None
        self.banner.dismiss()  # before: opening may bring its own note ("saved without a checksum")
        folder = file_dialogs.run_folder_of(path)
        if folder is not None:
            return self.controller.open_run_folder(folder)
        ok = self.controller.open_checkpoint(str(path))
        if ok:
            self.recent.add(str(path))
            self.setWindowModified(False)
            self.statusBar().showMessage(f"Opened {Path(path).name}", 5000)
        return ok

    def save_checkpoint(self, path: str | None = None) -> bool:
        """Save to `path`, or to the run's current file; asks for a name when there is none."""
        if self.controller is None:
            return False
        target = path or self.controller.checkpoint_path
        if not target:
            return file_dialogs.save_as(self)
        return self.controller.save(str(target))

    def export_metrics_csv(self, path: str) -> bool:
        epochs = self.plots.epoch_data()
        try:
            write_metrics_csv(epochs, path)
        except OSError as exc:
            self.show_error(f"Could not write {path}: {exc.strerror or exc}")
            return False
        self.statusBar().showMessage(f"Exported {counted(len(epochs), 'epoch')} to {Path(path).name}", 5000)
        return True

    @Slot(str)
    def _on_saved(self, path: str) -> None:
        self.recent.add(path)
        self._sync_modified()  # a save made while training is older than the run by now
        self.statusBar().showMessage(f"Saved {Path(path).name}", 5000)

    def _sync_modified(self) -> None:
        """The title's unsaved mark [*] says what the controller knows: training not in a file yet."""
        self.setWindowModified(self.controller is not None and self.controller.has_unsaved_progress)

    @Slot(str)
    def _on_path_changed(self, path: str) -> None:
        name = Path(path).name if path else ""
        self.setWindowTitle(f"{name}[*] — {APP_TITLE}" if name else f"{APP_TITLE}[*]")

    @Slot()
    def _prefetch_selected_dataset(self) -> None:
        if self.controller is not None and not self.controller.has_run:
            self.controller.prefetch_dataset(self.form.dataset_name(), seed=self.form.seed.value())

    def open_over_run(self, path: str) -> bool:
        """File > Open and Open recent: ask, as New run does, before unsaved progress is replaced."""
        if not self._unsaved.settle("opening another checkpoint"):
            return False
        return self.open_checkpoint(path)

    def _about(self) -> None:
        from vae_desktop.ui.about_dialog import show_about  # not needed for the first paint

        show_about(self, self.status.device)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        drops.accept_drag(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        drops.accept_drag(event)

    def dropEvent(self, event: QDropEvent) -> None:
        """A dropped run folder is followed, a checkpoint opens (ui/follow/wiring.open_path)."""
        from vae_desktop.ui.follow.wiring import open_path

        follow = self.follow
        drops.handle_drop(event, None if follow is None else lambda path: open_path(self, follow, path))

    # ==== persistence and closing =================================================================
    def save_settings(self) -> None:
        save_window_settings(self)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Ask about unsaved training, then stop it; the window closes once no training thread runs."""
        if not self._unsaved.may_close():
            event.ignore()  # cancelled, a save failed, or a save to wait for (that closes the window)
            return
        self.save_settings()
        controller = self.controller
        if controller is not None and not controller.shutdown(timeout_ms=CLOSE_WAIT_MS):
            # A very slow batch is still running: never destroy a running thread. Close when it ends.
            self._close_when_stopped = True
            self.show_state_note("Stopping… the window closes when the current batch ends")
            event.ignore()
            return
        self.shutdown()
        event.accept()

    @Slot()
    def shutdown(self) -> None:
        """The one way the window's work ends: on close and on QApplication.aboutToQuit (whichever
        comes first). Stops training (waiting for the current batch), gives up the file locks, and
        stops the panels' background work, each by reference."""
        if self._shut_down:
            return
        self._shut_down = True
        self.progress.stop()
        for part in (self.follow, self.comparison, self.controller, self.latent_panel, self.inspector_panel):
            if part is not None:  # parts built with the core may not exist yet; the controller waits for its batch
                part.shutdown(timeout_ms=CLOSE_WAIT_MS) if part is self.controller else part.shutdown()

    def join_background_work(self, timeout_s: float) -> bool:
        """Wait up to `timeout_s` for the controller's dataset loads (and the threads of compared
        folders no longer read); True when none is left running."""
        folders_done = self.run_folders is None or self.run_folders.join(timeout_s)
        folders_done = folders_done and (self.comparison is None or self.comparison.join(timeout_s))
        return self.controller is None or (self.controller.join_dataset_loads(timeout_s) and folders_done)

