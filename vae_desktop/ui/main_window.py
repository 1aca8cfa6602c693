"""The main window: run settings and controls on the left, live loss plots and reconstructions in
the middle, side panels (latent map, inspector) in tabs on the right.

The window paints before torch is imported: everything torch-related lives in `RunController`,
created by `attach_core()` once the core has loaded. Until then Start is disabled and says why.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from vae_desktop.core.config import ModelConfig
from vae_desktop.core.errors import VaeDesktopError
from vae_desktop.core.metrics import BatchMetrics, EpochMetrics
from vae_desktop.core.metrics_csv import write_metrics_csv
from vae_desktop.core.run_clock import RunClock, format_duration
from vae_desktop.core.wording import counted
from vae_desktop.ui.hyperparameter_form import HyperparameterForm
from vae_desktop.ui.logging_setup import LOGGER_NAME
from vae_desktop.ui.loss_plots import LossPlots
from vae_desktop.ui.message_banner import MessageBanner
from vae_desktop.ui.progress_bar import FittedProgressBar, epoch_texts, run_texts
from vae_desktop.ui.recon_strip import ReconstructionStrip
from vae_desktop.ui.theme import Theme, on_theme
from vae_desktop.ui.unsaved_changes import UnsavedWorkGuard

if TYPE_CHECKING:  # these import torch; the window must paint before torch has loaded
    from vae_desktop.core.datasets import ImageDataset
    from vae_desktop.core.trainer import Trainer
    from vae_desktop.ui.model_mirror import ModelMirror
    from vae_desktop.ui.run_controller import HistorySnapshot, RunController, RunInfo

log = logging.getLogger(f"{LOGGER_NAME}.window")

APP_TITLE = "VAE Desktop"
CHECKPOINT_FILTER = "VAE Desktop checkpoints (*.vaeckpt);;All files (*)"
MAX_RECENT = 8
PROGRESS_INTERVAL_MS = 400
STATE_TEXT = {
    "starting": "Loading PyTorch…",
    "idle": "Ready",
    "ready": "Ready",
    "loading": "Loading dataset…",
    "training": "Training",
    "paused": "Paused",
    "stopping": "Stopping…",
}


def start_style(theme: Theme) -> str:
    """The Start button stands out in the accent colour, in both themes."""
    return (
        f"QPushButton#startButton {{ background: {theme.accent}; color: {theme.accent_text}; font-weight: 600;"
        f" border: 1px solid {theme.accent}; border-radius: 4px; padding: 5px 14px; }}"
        f"QPushButton#startButton:hover {{ background: {theme.accent_hover}; }}"
        f"QPushButton#startButton:focus {{ border: 1px solid {theme.window_text}; }}"
        f"QPushButton#startButton:disabled {{ background: {theme.accent_disabled}; border-color: {theme.accent_disabled};"
        f" color: {theme.disabled_text if theme.is_dark else theme.accent_text}; }}"
    )


class MainWindow(QMainWindow):
    epochFinished = Signal(object)  # EpochMetrics, as each epoch of training ends
    historyRestored = Signal(object)  # list[EpochMetrics] of an opened checkpoint (or a reset: [])
    testImageSelected = Signal(int)  # test-set index clicked in the reconstruction strip
    coreReady = Signal()  # torch and the core are loaded; Start works
    trainingStateChanged = Signal(str)

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
        self._clock = RunClock()
        self._clock_run = 0  # RunInfo.run_number the clock is timing (0: none yet)
        self._last_batch: BatchMetrics | None = None
        self._run_epochs = 0
        self._steps_per_epoch = 1
        self._state = "starting"
        self._close_when_stopped = False

        self.setWindowTitle(f"{APP_TITLE}[*]")
        self.setMinimumSize(760, 520)
        self._build_ui()
        self._build_menus()
        self._restore_settings()
        self._unsaved = UnsavedWorkGuard(self)
        self._progress_dirty = False
        self._ticker = QTimer(self)  # progress, rate, elapsed and ETA
        self._ticker.setInterval(PROGRESS_INTERVAL_MS)
        self._ticker.timeout.connect(self._tick)
        self._apply_state("starting")

    # ==== construction ============================================================================
    def _build_ui(self) -> None:
        self.form = HyperparameterForm()
        self.start_button = QPushButton("Start")
        self.start_button.setObjectName("startButton")
        on_theme(self.start_button, lambda theme: self.start_button.setStyleSheet(start_style(theme)))
        self.pause_button = QPushButton("Pause")
        self.stop_button = QPushButton("Stop")
        self.start_button.setToolTip("Train with these settings (continues the current run if there is one)")
        self.pause_button.setToolTip("Pause after the current batch; Resume continues exactly where it paused")
        self.stop_button.setToolTip("Stop after the current batch; Start continues the run later")
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button, 2)
        buttons.addWidget(self.pause_button, 1)
        buttons.addWidget(self.stop_button, 1)

        self.epoch_progress = FittedProgressBar()
        self.run_progress = FittedProgressBar()
        for bar in (self.epoch_progress, self.run_progress):
            bar.setRange(0, 1000)
            bar.setValue(0)
            bar.setTextVisible(True)
        self.epoch_progress.set_texts(["Epoch —"])
        self.run_progress.set_texts(["Run —"])
        self.time_label = QLabel("Elapsed — · ETA —")
        self.latest_label = QLabel("No epoch finished yet.")
        self.latest_label.setWordWrap(True)
        self.latest_label.setTextFormat(Qt.TextFormat.RichText)
        progress_box = QGroupBox("Progress")
        progress_layout = QVBoxLayout(progress_box)
        progress_layout.setContentsMargins(10, 8, 10, 8)
        progress_layout.addWidget(self.epoch_progress)
        progress_layout.addWidget(self.run_progress)
        progress_layout.addWidget(self.time_label)
        progress_layout.addWidget(self.latest_label)

        left = QWidget()
        left.setObjectName("controlPanel")
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(10, 10, 6, 10)
        left_layout.addWidget(self.form)
        left_layout.addLayout(buttons)
        left_layout.addWidget(progress_box)
        left_layout.addStretch(1)
        left.setMinimumWidth(270)
        left.setMaximumWidth(420)

        self.banner = MessageBanner()
        self.plots = LossPlots()
        self.recon_strip = ReconstructionStrip()
        self.center_splitter = QSplitter(Qt.Orientation.Vertical)
        self.center_splitter.setChildrenCollapsible(False)
        self.center_splitter.addWidget(self.plots)
        self.center_splitter.addWidget(self.recon_strip)
        self.center_splitter.setStretchFactor(0, 3)
        self.center_splitter.setStretchFactor(1, 1)
        center = QWidget()
        center_layout = QVBoxLayout(center)
        center_layout.setContentsMargins(4, 8, 4, 4)
        center_layout.addWidget(self.banner)
        center_layout.addWidget(self.center_splitter, 1)

        self.side_tabs = QTabWidget()
        self._panel_shutdowns: list[Callable[[], None]] = []  # side panels' shutdown(), called on close
        self.side_tabs.setDocumentMode(True)
        self.side_tabs.hide()

        self.main_splitter = QSplitter(Qt.Orientation.Horizontal)
        self.main_splitter.addWidget(left)
        self.main_splitter.addWidget(center)
        self.main_splitter.addWidget(self.side_tabs)
        self.main_splitter.setStretchFactor(0, 0)
        self.main_splitter.setStretchFactor(1, 1)
        self.main_splitter.setStretchFactor(2, 1)
        self.main_splitter.setCollapsible(1, False)
        self.setCentralWidget(self.main_splitter)

        self.state_label = QLabel()
        self.rate_label = QLabel()
        self.device_label = QLabel()
        for label in (self.state_label, self.rate_label, self.device_label):
            label.setContentsMargins(8, 0, 8, 0)
        self.rate_label.setToolTip("Training images per second (moving average)")
        self.statusBar().addPermanentWidget(self.state_label)
        self.statusBar().addPermanentWidget(self.rate_label)
        self.statusBar().addPermanentWidget(self.device_label)

        self.start_button.clicked.connect(self.start_training)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button.clicked.connect(self.stop_training)
        self.form.validityChanged.connect(lambda _ok, _msg: self._apply_state(self._state))
        self.form.folderRequested.connect(self._choose_image_folder)
        self.form.dataset.activated.connect(self._prefetch_selected_dataset)
        self.recon_strip.testImageSelected.connect(self.testImageSelected)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.new_action = _action(self, "&New run", QKeySequence.StandardKey.New, self.new_run)
        self.open_action = _action(self, "&Open checkpoint…", QKeySequence.StandardKey.Open, self._open_dialog)
        self.recent_menu = QMenu("Open &recent", self)
        self.save_action = _action(self, "&Save checkpoint", QKeySequence.StandardKey.Save, self.save_checkpoint)
        self.save_as_action = _action(self, "Save checkpoint &as…", QKeySequence("Ctrl+Shift+S"), self._save_as_dialog)
        self.export_action = _action(self, "&Export metrics CSV…", None, self._export_dialog)
        self.quit_action = _action(self, "&Quit", QKeySequence("Ctrl+Q"), self.close)
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        file_menu.addAction(self.new_action)
        file_menu.addAction(self.open_action)
        file_menu.addMenu(self.recent_menu)
        file_menu.addSeparator()
        file_menu.addAction(self.save_action)
        file_menu.addAction(self.save_as_action)
        file_menu.addAction(self.export_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)

        train_menu = self.menuBar().addMenu("&Training")
        self.start_action = _action(self, "&Start", QKeySequence("Ctrl+Return"), self.start_training)
        self.pause_action = _action(self, "&Pause / Resume", QKeySequence("Ctrl+P"), self.toggle_pause)
        self.stop_action = _action(self, "S&top", QKeySequence("Ctrl+."), self.stop_training)
        for act in (self.start_action, self.pause_action, self.stop_action):
            train_menu.addAction(act)

        view_menu = self.menuBar().addMenu("&View")
        self.log_action = view_menu.addAction("&Log scale")
        self.log_action.setCheckable(True)
        self.log_action.toggled.connect(self.plots.log_scale.setChecked)
        self.plots.log_scale.toggled.connect(self.log_action.setChecked)
        self.follow_action = view_menu.addAction("&Follow latest")
        self.follow_action.setCheckable(True)
        self.follow_action.toggled.connect(self.plots.follow_latest.setChecked)
        self.plots.follow_latest.toggled.connect(self.follow_action.setChecked)

        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction(_action(self, "&About VAE Desktop", None, self._about))

    # ==== core ====================================================================================
    @property
    def mirror(self) -> ModelMirror | None:
        """The GUI's model copy (None until the core has loaded)."""
        return self.controller.mirror if self.controller is not None else None

    @property
    def core_ready(self) -> bool:
        return self.controller is not None

    def attach_core(self) -> None:
        """Create the torch-side controller (imports torch if nobody has yet). Idempotent."""
        if self.controller is not None:
            return
        from vae_desktop.ui.run_controller import RunController

        controller = RunController(self._model_template, self._training_threads, parent=self)
        self.controller = controller
        controller.stateChanged.connect(self._apply_state)
        controller.runStarted.connect(self._on_run_started)
        controller.batches.connect(self._on_batches)
        controller.epochFinished.connect(self._on_epoch_finished)
        controller.historyReset.connect(self._on_history_reset)
        controller.settingsRestored.connect(
            lambda s: self.form.set_values(s.dataset, s.z_dim, s.train)
        )
        controller.runLocked.connect(self.form.set_run_locked)
        controller.errorRaised.connect(self.show_error)
        controller.noticeRaised.connect(lambda text: self.banner.show_message(text, "info"))
        controller.saved.connect(self._on_saved)
        controller.pathChanged.connect(self._on_path_changed)
        self.form.set_dataset_choices(controller.dataset_choices())
        self.form.set_available_devices(controller.available_devices())
        self.device_label.setText(controller.device_description())
        self.recon_strip.set_mirror(controller.mirror)
        self._apply_state("idle")
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
    def state(self) -> str:
        return self._state

    # ==== side panels =============================================================================
    def add_panel(self, title: str, widget: QWidget, shutdown: Callable[[], None] | None = None) -> None:
        """Add a tab beside the plots (latent map, inspector, ...); `shutdown` joins its threads on close."""
        if shutdown is not None:
            self._panel_shutdowns.append(shutdown)
        self.side_tabs.addTab(widget, title)
        self.side_tabs.show()
        if not self._restored_main_splitter:  # first launch: plots get 42 % of the room beside the form
            left = 300
            rest = max(self.width() - left, 900)
            self.main_splitter.setSizes([left, rest * 42 // 100, rest - rest * 42 // 100])

    # ==== training controls =======================================================================
    @Slot()
    def start_training(self) -> None:
        controller = self.controller
        if controller is None or controller.is_training or self._state == "loading":
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
        if self.controller is None:
            return
        if self._state == "training":
            self.controller.pause()
            self.pause_button.setEnabled(False)  # re-enabled when the worker confirms it has paused
        elif self._state == "paused":
            self.controller.resume()
            self._apply_state("training")

    @Slot()
    def pause_training(self) -> None:
        if self._state == "training":
            self.toggle_pause()

    @Slot()
    def resume_training(self) -> None:
        if self._state == "paused":
            self.toggle_pause()

    @Slot()
    def stop_training(self) -> None:
        if self.controller is not None:
            self.controller.stop()

    @property
    def is_training(self) -> bool:
        return self.controller is not None and self.controller.is_training

    # ==== controller events =======================================================================
    @Slot(str)
    def _apply_state(self, state: str) -> None:
        previous, self._state = self._state, state
        busy = state in ("training", "paused", "stopping")
        ready = self.controller is not None and state in ("idle", "ready")
        self.start_button.setEnabled(ready and self.form.is_valid())
        self.start_button.setText("Continue" if state == "ready" else "Start")
        self.start_action.setEnabled(self.start_button.isEnabled())
        tip = ("Loading PyTorch… Start works in a moment." if state == "starting"
               else "Train with these settings (continues the current run if there is one)")
        self.start_button.setToolTip(tip)
        self.start_button.setStatusTip(tip)  # hovering shows it in the status bar: it must not stay "Loading…"
        self.pause_button.setEnabled(state in ("training", "paused"))
        self.pause_button.setText("Resume" if state == "paused" else "Pause")
        self.pause_action.setEnabled(self.pause_button.isEnabled())
        self.stop_button.setEnabled(state in ("training", "paused", "loading"))  # Stop also cancels a slow load
        self.stop_action.setEnabled(self.stop_button.isEnabled())
        has_run = self.controller is not None and self.controller.has_run
        for act in (self.new_action, self.open_action, self.recent_menu.menuAction()):
            act.setEnabled(self.controller is not None and not busy and state != "loading")
        for act in (self.save_action, self.save_as_action):
            act.setEnabled(has_run and state != "stopping")
        self.export_action.setEnabled(has_run)
        self.form.set_training_active(busy or state == "loading")
        self.form.setEnabled(state != "loading")  # the settings being started with cannot change meanwhile
        self.state_label.setText(STATE_TEXT.get(state, state))
        if state == "training" and previous == "paused":
            self._clock.resume()
        elif state == "paused":
            self._clock.pause()
            self.rate_label.clear()  # nothing is being trained: no images per second
        elif state in ("idle", "ready"):
            self._clock.stop()
            self._ticker.stop()
            self._tick()  # the final numbers
            self.rate_label.clear()
        self._update_time_label()
        if state in ("idle", "ready"):
            self._sync_modified()
        if state in ("idle", "ready") and self._close_when_stopped:
            QTimer.singleShot(0, self.close)
        if state != previous:
            self.trainingStateChanged.emit(state)

    @Slot(object)
    def _on_run_started(self, info: RunInfo) -> None:
        self._steps_per_epoch = info.steps_per_epoch
        self._run_epochs = info.epochs
        self.device_label.setText(info.device)
        # Continue in this window: the clock goes on from where it stood. A run new to this window
        # (an opened checkpoint) starts from the time its history records.
        same_run = info.run_number == self._clock_run
        self._clock.start(self._clock.elapsed() if same_run else info.trained_seconds)
        self._clock_run = info.run_number
        self._ticker.start()
        self._last_batch = None
        self._show_progress(info.global_step)

    @Slot(object)
    def _on_batches(self, batches: tuple[BatchMetrics, ...]) -> None:
        self.plots.append_batches(batches)
        self._clock.add_steps(len(batches))
        self._last_batch = batches[-1]
        self._progress_dirty = True  # shown by the ticker: QProgressBar.setValue repaints synchronously
        if not self.isWindowModified():
            self.setWindowModified(True)

    def _show_progress(self, global_step: int) -> None:
        spe = max(1, self._steps_per_epoch)
        epochs = max(1, self._run_epochs)
        epoch, step = divmod(global_step, spe)
        if step == 0 and global_step > 0:
            epoch, step = epoch - 1, spe  # the last batch of an epoch (its evaluation may still be running)
        self.epoch_progress.setValue(int(1000 * step / spe))
        shown = min(epoch + 1, epochs)
        self.epoch_progress.set_texts(epoch_texts(shown, epochs, step, spe))
        total = spe * epochs
        self.run_progress.setValue(int(1000 * min(global_step, total) / total))
        self.run_progress.set_texts(run_texts(global_step, total))
        self._update_time_label()

    @Slot()
    def _tick(self) -> None:
        """Progress, rate and times, a few times per second: cheaper than on every batch bundle."""
        last = self._last_batch
        if self._progress_dirty and last is not None:
            self._progress_dirty = False
            if self._state == "training":  # the batches a pause flushes are not a rate to show
                self.rate_label.setText(f"{last.samples_per_s:,.0f} images/s")
            self._show_progress(last.global_step)
        else:
            self._update_time_label()

    @Slot()
    def _update_time_label(self) -> None:
        if self._last_batch is None and not self._clock.running:
            self.time_label.setText("Elapsed — · ETA —")
            return
        done = self._last_batch.global_step if self._last_batch is not None else 0
        remaining = max(0, self._steps_per_epoch * self._run_epochs - done)
        eta = self._clock.eta(remaining) if self._clock.running else None
        self.time_label.setText(f"Elapsed {format_duration(self._clock.elapsed())} · ETA {format_duration(eta)}")

    @Slot(object)
    def _on_epoch_finished(self, metrics: EpochMetrics) -> None:
        self.plots.add_epoch(metrics)
        self._show_latest_epoch(metrics)
        self.epochFinished.emit(metrics)

    def _show_latest_epoch(self, metrics: EpochMetrics | None) -> None:
        if metrics is None:
            self.latest_label.setText("No epoch finished yet.")
            return
        self.latest_label.setText(
            f"<b>Epoch {metrics.epoch}</b> (test set, nats per image):<br>"
            f"reconstruction {metrics.test_recon:.2f} · KL {metrics.test_kl:.2f}<br>"
            f"negative ELBO {metrics.test_total:.2f}"
        )

    @Slot(object)
    def _on_history_reset(self, snapshot: HistorySnapshot) -> None:
        self._steps_per_epoch = snapshot.steps_per_epoch
        self._last_batch, self._progress_dirty = None, False  # the history is the truth now (e.g. a roll-back)
        self.plots.set_history(snapshot.steps, snapshot.recon, snapshot.kl, snapshot.epochs, snapshot.steps_per_epoch)
        self._show_latest_epoch(snapshot.epochs[-1] if snapshot.epochs else None)
        settings = self.controller.run_settings() if self.controller is not None else None
        self._run_epochs = settings.train.epochs if settings is not None else 0
        step = int(snapshot.steps[-1]) if len(snapshot.steps) else 0
        if settings is not None:
            self._show_progress(step)
        else:
            self._reset_progress()
        self.historyRestored.emit(list(snapshot.epochs))

    def _reset_progress(self) -> None:
        for bar, text in ((self.epoch_progress, "Epoch —"), (self.run_progress, "Run —")):
            bar.setValue(0)
            bar.set_texts([text])
        self._last_batch = None
        self._update_time_label()

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
        if not self.settle_unsaved_work("starting a new run"):
            return
        self.controller.new_run()
        self.banner.dismiss()
        self._reset_progress()
        self.setWindowModified(False)

    def open_checkpoint(self, path: str) -> bool:
        """Open a checkpoint (model, settings, history); on error the current state is kept."""
        self.attach_core()
        assert self.controller is not None
        self.banner.dismiss()  # before: opening may bring its own note ("saved without a checksum")
        ok = self.controller.open_checkpoint(str(path))
        if ok:
            self._add_recent(str(path))
            self.setWindowModified(False)
            self.statusBar().showMessage(f"Opened {Path(path).name}", 5000)
        return ok

    def save_checkpoint(self, path: str | None = None) -> bool:
        """Save to `path`, or to the run's current file; asks for a name when there is none."""
        if self.controller is None:
            return False
        target = path or self.controller.checkpoint_path
        if not target:
            return self._save_as_dialog()
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
        self._add_recent(path)
        self._sync_modified()  # a save made while training is older than the run by now
        self.statusBar().showMessage(f"Saved {Path(path).name}", 5000)

    def _sync_modified(self) -> None:
        """The title's unsaved mark [*] says what the controller knows: training not in a file yet."""
        self.setWindowModified(self.controller is not None and self.controller.has_unsaved_progress)

    @Slot(str)
    def _on_path_changed(self, path: str) -> None:
        name = Path(path).name if path else ""
        self.setWindowTitle(f"{name}[*] — {APP_TITLE}" if name else f"{APP_TITLE}[*]")

    def _open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open checkpoint", self._last_dir(), CHECKPOINT_FILTER)
        if path:
            self._remember_dir(path)
            self._open_over_run(path)

    def _save_as_dialog(self) -> bool:
        if self.controller is None or not self.controller.has_run:
            return False
        path = self.ask_save_path()
        return self.controller.save(path) if path else False

    def ask_save_path(self) -> str | None:
        """A file name from the Save dialog (None when cancelled)."""
        assert self.controller is not None
        suggested = self.controller.checkpoint_path or str(Path(self._last_dir()) / "model.vaeckpt")
        path, _ = QFileDialog.getSaveFileName(self, "Save checkpoint", suggested, CHECKPOINT_FILTER)
        if not path:
            return None
        if not path.endswith(".vaeckpt"):
            path += ".vaeckpt"
        self._remember_dir(path)
        return path

    def _export_dialog(self) -> None:
        suggested = str(Path(self._last_dir()) / "metrics.csv")
        path, _ = QFileDialog.getSaveFileName(self, "Export metrics", suggested, "CSV files (*.csv)")
        if path:
            self._remember_dir(path)
            self.export_metrics_csv(path)

    @Slot()
    def _choose_image_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open image folder", self._last_dir())
        if path:
            self._remember_dir(path + "/")
            self.form.add_folder(path)
            if self.controller is not None and not self.controller.has_run:
                self.controller.prefetch_dataset(self.form.dataset_name(), report_errors=True, seed=self.form.seed.value())
        else:
            self.form.restore_dataset_selection()

    @Slot()
    def _prefetch_selected_dataset(self) -> None:
        if self.controller is not None and not self.controller.has_run:
            self.controller.prefetch_dataset(self.form.dataset_name(), seed=self.form.seed.value())

    def settle_unsaved_work(self, before: str) -> bool:
        """Before the run is replaced (New run, Open): ask Save / Discard / Cancel when the title shows
        unsaved training, and save when asked. True when the caller may go on. Not while training."""
        return self._unsaved.settle(before)

    def _open_over_run(self, path: str) -> bool:
        """File > Open and Open recent: ask, as New run does, before unsaved progress is replaced."""
        if not self.settle_unsaved_work("opening another checkpoint"):
            return False
        return self.open_checkpoint(path)

    def _about(self) -> None:
        from vae_desktop.ui.about_dialog import show_about  # not needed for the first paint

        show_about(self, self.device_label.text())

    # ---- recent files and folders ----------------------------------------------------------------
    def recent_files(self) -> list[str]:
        value = self.settings.value("recentFiles", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def _add_recent(self, path: str) -> None:
        path = str(Path(path).resolve())
        files = [path, *(p for p in self.recent_files() if p != path)][:MAX_RECENT]
        self.settings.setValue("recentFiles", files)
        self._rebuild_recent_menu()

    def _rebuild_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = self.recent_files()
        for path in files:
            act = self.recent_menu.addAction(Path(path).name)
            act.setToolTip(path)
            act.setStatusTip(path)
            act.triggered.connect(lambda _checked=False, p=path: self._open_over_run(p))
        if not files:
            self.recent_menu.addAction("No recent checkpoints").setEnabled(False)
        else:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear list", self._clear_recent)

    def _clear_recent(self) -> None:
        self.settings.setValue("recentFiles", [])
        self._rebuild_recent_menu()

    def _last_dir(self) -> str:
        return str(self.settings.value("lastDirectory", str(Path.home())))

    def _remember_dir(self, path: str) -> None:
        self.settings.setValue("lastDirectory", str(Path(path).parent))

    # ==== persistence and closing =================================================================
    def _restore_settings(self) -> None:
        s = self.settings
        geometry = s.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1320, 820)
        for key, splitter in (("window/mainSplitter", self.main_splitter), ("window/centerSplitter", self.center_splitter)):
            state = s.value(key)
            if isinstance(state, QByteArray) and not state.isEmpty():
                splitter.restoreState(state)
        self._restored_main_splitter = isinstance(s.value("window/mainSplitter"), QByteArray)
        if not self._restored_main_splitter:
            self.main_splitter.setSizes([300, 1000, 0])
            self.center_splitter.setSizes([560, 170])
        self.form.restore_settings(s)
        self.plots.log_scale.setChecked(_bool(s.value("plots/logScale"), False))
        self.plots.follow_latest.setChecked(_bool(s.value("plots/followLatest"), False))
        self._rebuild_recent_menu()

    def save_settings(self) -> None:
        s = self.settings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/mainSplitter", self.main_splitter.saveState())
        s.setValue("window/centerSplitter", self.center_splitter.saveState())
        s.setValue("plots/logScale", self.plots.log_scale.isChecked())
        s.setValue("plots/followLatest", self.plots.follow_latest.isChecked())
        self.form.save_settings(s)
        s.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._unsaved.may_close():
            event.ignore()  # cancelled, a save failed, or a save to wait for (that closes the window)
            return
        self.save_settings()
        controller = self.controller
        if controller is not None:  # also when idle: shutdown gives up the window's file locks
            if not controller.shutdown(timeout_ms=900):
                # A very slow batch is still running: never destroy a running thread. Close when it ends.
                self._close_when_stopped = True
                self.state_label.setText("Stopping… the window closes when the current batch ends")
                event.ignore()
                return
        self._ticker.stop()
        for shutdown in self._panel_shutdowns:  # child panels get no close event of their own
            shutdown()
        event.accept()


def _action(parent: QWidget, text: str, shortcut: QKeySequence | QKeySequence.StandardKey | None, slot) -> QAction:
    act = QAction(text, parent)
    if shortcut is not None:
        act.setShortcut(shortcut)
    act.triggered.connect(lambda _checked=False: slot())  # never pass `checked` on as an argument
    parent.addAction(act)
    return act


def _bool(value: object, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        return value.lower() in ("true", "1", "yes")
    return bool(value)
