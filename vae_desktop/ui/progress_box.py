"""The Progress box: epoch and run bars, elapsed time and ETA, and the latest epoch's test losses.

It renders the controller's `TrainingStatus` and keeps none of its own: `show_status` takes the
status and marks the bars to repaint, and a ticker a few times per second repaints them (a
QProgressBar repaints synchronously on every setValue, too costly per batch bundle) and advances
the clock. The ticker runs only while a training session exists.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtWidgets import QGroupBox, QLabel, QVBoxLayout, QWidget

from vae_desktop.core.metrics import EpochMetrics
from vae_desktop.core.run_clock import format_duration
from vae_desktop.core.training_status import TrainingStatus
from vae_desktop.ui.progress_bar import FittedProgressBar, epoch_texts, run_texts

PROGRESS_INTERVAL_MS = 400
NO_TIMES = "Elapsed — · ETA —"


class ProgressBox(QGroupBox):
    """Shows where the run stands, from the status and the run's clock the controller keeps."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Progress", parent)
        self.epoch_progress = FittedProgressBar()
        self.run_progress = FittedProgressBar()
        for bar in (self.epoch_progress, self.run_progress):
            bar.setRange(0, 1000)
            bar.setValue(0)
            bar.setTextVisible(True)
        self.epoch_progress.set_texts(["Epoch —"])
        self.run_progress.set_texts(["Run —"])
        self.time_label = QLabel(NO_TIMES)
        self.latest_label = QLabel("No epoch finished yet.")
        self.latest_label.setWordWrap(True)
        self.latest_label.setTextFormat(Qt.TextFormat.RichText)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.addWidget(self.epoch_progress)
        layout.addWidget(self.run_progress)
        layout.addWidget(self.time_label)
        layout.addWidget(self.latest_label)
        self._status: Callable[[], TrainingStatus] | None = None
        self._times: Callable[[int], tuple[float, float | None]] | None = None
        self._bars_dirty = False
        self._ticker = QTimer(self)
        self._ticker.setInterval(PROGRESS_INTERVAL_MS)
        self._ticker.timeout.connect(self._tick)

    def follow(self, status: Callable[[], TrainingStatus],
               times: Callable[[int], tuple[float, float | None]]) -> None:
        """Read the status and the times (elapsed, and the ETA of the remaining steps while the clock
        runs) from their owner, the run controller, whenever the box repaints."""
        self._status, self._times = status, times

    def show_status(self, status: TrainingStatus) -> None:
        """`status` changed. While training the bars repaint at the next tick (a batch bundle every
        0.2 s would repaint them each time); at a session's start and end they repaint now."""
        self._bars_dirty = True
        if status.state.busy and self._ticker.isActive():
            return
        if status.state.busy:
            self._ticker.start()
        else:
            self._ticker.stop()
        self._tick()

    def show_latest_epoch(self, metrics: EpochMetrics | None) -> None:
        if metrics is None:
            self.latest_label.setText("No epoch finished yet.")
            return
        self.latest_label.setText(
            f"<b>Epoch {metrics.epoch}</b> (test set, nats per image):<br>"
            f"reconstruction {metrics.test_recon:.2f} · KL {metrics.test_kl:.2f}<br>"
            f"negative ELBO {metrics.test_total:.2f}"
        )

    def stop(self) -> None:
        self._ticker.stop()

    @Slot()
    def _tick(self) -> None:
        if self._status is None:
            return
        status = self._status()
        if self._bars_dirty:
            self._bars_dirty = False
            self._show_bars(status)
        self._show_times(status)

    def _show_bars(self, status: TrainingStatus) -> None:
        if not status.has_run:
            for bar, text in ((self.epoch_progress, "Epoch —"), (self.run_progress, "Run —")):
                bar.setValue(0)
                bar.set_texts([text])
            return
        spe, epochs = max(1, status.steps_per_epoch), max(1, status.epochs)
        self.epoch_progress.setValue(int(1000 * status.step / spe))
        self.epoch_progress.set_texts(epoch_texts(min(status.epoch, epochs), epochs, status.step, spe))
        total = status.total_steps
        self.run_progress.setValue(int(1000 * min(status.global_step, total) / total))
        self.run_progress.set_texts(run_texts(status.global_step, total))

    def _show_times(self, status: TrainingStatus) -> None:
        assert self._times is not None
        if status.run_number == 0:  # the run shown has not trained in this window: no times of its own
            self.time_label.setText(NO_TIMES)
            return
        elapsed, eta = self._times(status.remaining_steps)
        self.time_label.setText(f"Elapsed {format_duration(elapsed)} · ETA {format_duration(eta)}")
