"""Live loss curves: reconstruction and KL per image (nats), per batch and per epoch.

Two stacked plots share the x axis (epochs; batch k of an epoch sits at a fraction of it), so
the large reconstruction term and the small KL term are both readable. Data lands in growing
numpy buffers; a timer redraws at most `redraw_interval_ms` (never once per batch). Peak
downsampling and clip-to-view keep a million points smooth, as in pyqtgraph's scrollingPlots
example, and the buffer is bounded (`core.series.LossTrace`): a run left training overnight thins
its points instead of growing without limit.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, QTimer, Slot
from PySide6.QtGui import QFont, QFontMetrics, QShowEvent
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from vae_desktop.core.metrics import BatchMetrics, EpochMetrics
from vae_desktop.core.series import (
    MAX_TRACE_ROWS,
    LossTrace,
    smoothing_window,
)
from vae_desktop.ui.loss_plot_items import LossPlot, TimedCanvas
from vae_desktop.ui.plot_axes import LossAxis
from vae_desktop.ui.theme import Theme, on_theme

FOLLOW_SPAN_EPOCHS = 2.0
MAX_EPOCH_MARKERS = 200
REDRAW_INTERVAL_MS = 66  # the fastest: ~15 frames per second is plenty for curves that grow slowly
MAX_REDRAW_INTERVAL_MS = 2000
# Share of wall time the plots may spend redrawing while data streams in. pyqtgraph paints from
# Python, holding the GIL, and the training thread needs the GIL between its torch ops: measured,
# training slows by about the share the GUI thread spends in Python, so plots get 1% of it
# (a 4 ms frame then comes about every 400 ms: plenty for curves that grow over minutes).
REDRAW_BUDGET = 0.01

# Buffer columns: raw values, trailing means, and the step each trailing mean is centred on
_STEP, _RECON, _KL, _RECON_S, _KL_S, _CENTER = range(6)


class LossPlots(QWidget):
    """Recon and KL plots with log-scale and follow-latest toggles and a hover readout."""

    def __init__(
        self, parent: QWidget | None = None, redraw_interval_ms: int = REDRAW_INTERVAL_MS, max_points: int | None = None
    ) -> None:
        super().__init__(parent)
        self._batches = LossTrace(smoothing_window(1), max_rows=max_points or MAX_TRACE_ROWS)
        self._epochs: list[EpochMetrics] = []
        self._epochs_dirty = True
        self._steps_per_epoch = 1
        self._window = smoothing_window(1)
        self._dirty = False
        self._whole_run = False  # an export is drawing the whole run: Follow latest waits

        self.log_scale = QCheckBox("Log scale")
        self.log_scale.setToolTip("Show both losses on a logarithmic y axis")
        self.follow_latest = QCheckBox("Follow latest")
        self.follow_latest.setToolTip(
            f"Keep the newest {FOLLOW_SPAN_EPOCHS:g} epochs in view while training; panning or zooming turns this off"
        )
        self.readout = QLabel()
        self.readout.setTextFormat(Qt.TextFormat.RichText)
        self.readout.setContentsMargins(8, 0, 8, 2)
        self.readout.setToolTip("Hover over a plot to read the values under the cursor")
        font = QFont(self.readout.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() - 1))
        self.readout.setFont(font)
        # Room for two wrapped lines, and no say in the column's width: as one unwrapped line the
        # hover text made itself the middle column's minimum width, so hovering after training
        # widened the column and cropped the side panels, and it stayed so.
        self.readout.setWordWrap(True)
        self.readout.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.readout.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.readout.setFixedHeight(2 * QFontMetrics(font).lineSpacing() + 4)

        self.canvas = TimedCanvas()
        self.canvas.ci.setSpacing(4)
        self.recon = LossPlot(self._add_plot(0), "Reconstruction loss", "recon")
        self.kl = LossPlot(self._add_plot(1), "KL divergence", "kl")
        self.kl.plot.setXLink(self.recon.plot)
        for lp in (self.recon, self.kl):
            lp.plot.setLabel("left", "nats / image")
        self.kl.plot.setLabel("bottom", "epoch")
        self.recon.plot.getAxis("left").setWidth(58)
        self.kl.plot.getAxis("left").setWidth(58)

        bar = QHBoxLayout()
        bar.setContentsMargins(6, 0, 6, 0)
        bar.addWidget(self.log_scale)
        bar.addWidget(self.follow_latest)
        bar.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(bar)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.readout)
        self._layout = layout

        self.log_scale.toggled.connect(self._on_log_scale)
        self.follow_latest.toggled.connect(self._on_follow_latest)
        for lp in (self.recon, self.kl):
            lp.plot.getViewBox().sigRangeChangedManually.connect(self._on_manual_range)
        self._mouse_proxy = pg.SignalProxy(self.canvas.scene().sigMouseMoved, rateLimit=30, slot=self._on_mouse_moved)
        self.canvas.left.connect(self._on_pointer_left)

        self._min_interval_ms = redraw_interval_ms
        self._frame_cost_s = 0.0
        # Started by new data, not a poll: at most one frame per interval, none while nothing changes.
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(redraw_interval_ms)
        self._timer.timeout.connect(self._redraw_if_dirty)
        self._theme = on_theme(self, self.apply_theme)

    def add_below(self, widget: QWidget) -> None:
        """Put `widget` under the plots, above the hover readout (the comparison's run list)."""
        self._layout.insertWidget(self._layout.indexOf(self.readout), widget)

    def _add_plot(self, row: int) -> pg.PlotItem:
        return self.canvas.addPlot(row=row, col=0, axisItems={"left": LossAxis("left")})

    def apply_theme(self, theme: Theme) -> None:
        """Recolour the canvas, both plots and the readout (also called on a live system switch)."""
        self._theme = theme
        self.canvas.setBackground(theme.plot_background)
        for lp in (self.recon, self.kl):
            lp.apply_theme(theme)
        self.readout.setStyleSheet(f"color: {theme.muted_text};")
        if self.readout.text():
            self.readout.clear()  # its rich text holds the old colours; the next hover rewrites it

    # ---- data in --------------------------------------------------------------------------------
    @property
    def steps_per_epoch(self) -> int:
        return self._steps_per_epoch

    def reset(self, steps_per_epoch: int = 1) -> None:
        """Forget all data (a new run)."""
        self._steps_per_epoch = max(1, int(steps_per_epoch))
        self._window = smoothing_window(self._steps_per_epoch)
        self._batches.reset(self._window)
        self._epochs = []
        self._epochs_dirty = True
        self.readout.clear()
        self._mark_dirty()

    def append_batches(self, batches: Sequence[BatchMetrics]) -> None:
        if not batches:
            return
        steps = np.fromiter((b.global_step for b in batches), dtype=np.float64, count=len(batches))
        recon = np.fromiter((b.recon for b in batches), dtype=np.float64, count=len(batches))
        kl = np.fromiter((b.kl for b in batches), dtype=np.float64, count=len(batches))
        self.append_arrays(steps, recon, kl)

    def append_arrays(self, steps: np.ndarray, recon: np.ndarray, kl: np.ndarray) -> None:
        """Append per-batch values (global steps must keep increasing)."""
        self._batches.append(steps, recon, kl)
        self._mark_dirty()

    def add_epoch(self, metrics: EpochMetrics) -> None:
        self._epochs = [e for e in self._epochs if e.epoch < metrics.epoch] + [metrics]
        self._epochs_dirty = True
        self._mark_dirty()

    def set_history(
        self, steps: np.ndarray, recon: np.ndarray, kl: np.ndarray, epochs: Sequence[EpochMetrics], steps_per_epoch: int
    ) -> None:
        """Replace everything with a recorded history (an opened checkpoint, or a rolled-back run)."""
        self.reset(steps_per_epoch)
        self._batches.append(steps, recon, kl)
        self._epochs = list(epochs)
        self._epochs_dirty = True
        self._mark_dirty()

    # ---- data out (what is plotted) -------------------------------------------------------------
    def batch_data(self) -> dict[str, np.ndarray]:
        """Copies of the per-batch series: global_step, recon, kl, their trailing means, and the step
        each trailing mean is drawn at (the middle of its window; NaN before a full window). Once a
        run has more batches than `max_points`, one batch in `point_stride` is kept."""
        return self._batches.arrays()

    @property
    def point_stride(self) -> int:
        """1 while every batch is plotted; 2, 4, 8, ... once a long run has been thinned."""
        return self._batches.stride

    def epoch_data(self) -> list[EpochMetrics]:
        return list(self._epochs)

    def redraw_now(self) -> None:
        self._dirty = self._epochs_dirty = True
        self._redraw_if_dirty()

    @contextmanager
    def showing_whole_run(self) -> Iterator[None]:
        """Show every batch and epoch while the block runs (an export), then the view as it was.

        On screen the plots may follow the latest epochs or be zoomed in; a saved picture of the
        losses shows the whole run.
        """
        views = [lp.plot.getViewBox() for lp in (self.recon, self.kl)]
        saved = [(vb.viewRange(), vb.autoRangeEnabled(), list(vb.state["autoVisibleOnly"])) for vb in views]
        self._whole_run = True
        try:
            for vb in views:
                vb.setAutoVisible(x=False, y=False)
                vb.enableAutoRange()
            self.redraw_now()
            for vb in views:
                vb.updateAutoRange()
            yield
        finally:
            self._whole_run = False
            for vb, ((x_range, y_range), (auto_x, auto_y), (visible_x, visible_y)) in zip(views, saved, strict=True):
                vb.setAutoVisible(x=visible_x, y=visible_y)
                vb.setRange(xRange=x_range, yRange=y_range, padding=0)
                vb.enableAutoRange(x=auto_x, y=auto_y)
            self.redraw_now()

    # ---- drawing --------------------------------------------------------------------------------
    def _mark_dirty(self) -> None:
        self._dirty = True
        if not self._timer.isActive():
            self._timer.start()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._dirty and not self._timer.isActive():  # data came while hidden: draw it now
            self._timer.start()

    @Slot()
    def _redraw_if_dirty(self) -> None:
        if not self._dirty or not self.isVisible():
            return
        self._dirty = False
        started = time.perf_counter()
        view = self._batches.view()
        x = view[_STEP] / self._steps_per_epoch
        full = self._window - 1  # the smoothed curve starts where its first full window is centred
        xs = view[_CENTER, full:] / self._steps_per_epoch
        self.recon.raw.setData(x, view[_RECON])
        self.recon.smooth.setData(xs, view[_RECON_S, full:])
        self.kl.raw.setData(x, view[_KL])
        self.kl.smooth.setData(xs, view[_KL_S, full:])
        if self._epochs_dirty:  # epochs change once per epoch; re-setting them every frame costs ~1 ms
            self._epochs_dirty = False
            ex = np.array([e.epoch for e in self._epochs], dtype=np.float64)
            for lp in (self.recon, self.kl):
                lp.show_epoch_markers(len(self._epochs) <= MAX_EPOCH_MARKERS)
            self.recon.train.setData(ex, np.array([e.train_recon for e in self._epochs]))
            self.recon.test.setData(ex, np.array([e.test_recon for e in self._epochs]))
            self.kl.train.setData(ex, np.array([e.train_kl for e in self._epochs]))
            self.kl.test.setData(ex, np.array([e.test_kl for e in self._epochs]))
        if self.follow_latest.isChecked():
            self._show_latest()
        for lp in (self.recon, self.kl):
            # Settle the auto-range now: left to the paint, the range change asks for a second paint.
            lp.plot.getViewBox().prepareForPaint()
        self._adapt_interval(time.perf_counter() - started + self.canvas.last_paint_s)

    def _adapt_interval(self, cost_s: float) -> None:
        """Space frames so they take REDRAW_BUDGET of the time: cheap frames come often, a huge
        history redraws less often, and training keeps its speed."""
        self._frame_cost_s = cost_s if self._frame_cost_s == 0.0 else 0.8 * self._frame_cost_s + 0.2 * cost_s
        wanted_ms = 1000 * self._frame_cost_s / REDRAW_BUDGET
        interval = int(min(MAX_REDRAW_INTERVAL_MS, max(self._min_interval_ms, wanted_ms)))
        if abs(interval - self._timer.interval()) > 10:
            self._timer.setInterval(interval)

    def _latest_x(self) -> float:
        last_batch = self._batches.view()[_STEP, -1] / self._steps_per_epoch if len(self._batches) else 0.0
        last_epoch = float(self._epochs[-1].epoch) if self._epochs else 0.0
        return max(last_batch, last_epoch)

    def _show_latest(self) -> None:
        latest = self._latest_x()
        if latest <= 0 or self._whole_run:
            return
        low = max(0.0, latest - FOLLOW_SPAN_EPOCHS)
        self.kl.plot.setXRange(low, latest + 0.02 * (latest - low), padding=0)
        for lp in (self.recon, self.kl):
            lp.plot.getViewBox().setAutoVisible(y=True)
            lp.plot.enableAutoRange(axis="y")

    @Slot(bool)
    def _on_log_scale(self, on: bool) -> None:
        for lp in (self.recon, self.kl):
            lp.plot.setLogMode(x=False, y=on)
        self.redraw_now()

    @Slot(bool)
    def _on_follow_latest(self, on: bool) -> None:
        if on:
            self._show_latest()
        else:
            for lp in (self.recon, self.kl):
                lp.plot.getViewBox().setAutoVisible(y=False)
                lp.plot.enableAutoRange()

    @Slot()
    def _on_manual_range(self, *_: object) -> None:
        if self.follow_latest.isChecked():
            self.follow_latest.setChecked(False)

    # ---- hover ----------------------------------------------------------------------------------
    def _on_mouse_moved(self, event: tuple[QPointF]) -> None:
        pos = event[0]
        for lp in (self.recon, self.kl):
            if lp.plot.sceneBoundingRect().contains(pos):
                x = lp.plot.getViewBox().mapSceneToView(pos).x()
                self.show_values_at(x)
                return
        self.hide_cursor()

    @Slot()
    def _on_pointer_left(self) -> None:
        self._mouse_proxy.flush()  # a move still held back by the rate limit must not show it again
        self.hide_cursor()

    def _smoothed_near(self, step: float) -> tuple[str, str]:
        """The smoothed values drawn nearest to `step` ('—' before the first full window)."""
        full = self._window - 1
        view = self._batches.view()
        centers = view[_CENTER, full:]
        if not len(centers):
            return "—", "—"
        j = full + _nearest(centers, step)
        return _fmt(view[_RECON_S, j]), _fmt(view[_KL_S, j])

    def hide_cursor(self) -> None:
        for lp in (self.recon, self.kl):
            lp.cursor.setVisible(False)
        self.readout.clear()

    def show_values_at(self, x: float) -> str:
        """Move the hover cursor to epoch position `x` and describe the nearest values; returns the text."""
        parts = []
        view = self._batches.view()
        if len(self._batches):
            xs = view[_STEP] / self._steps_per_epoch
            i = _nearest(xs, x)
            x = float(xs[i])
            recon_s, kl_s = self._smoothed_near(view[_STEP, i])
            parts.append(
                f"<b>epoch {xs[i]:.2f}</b> (step {int(view[_STEP, i])}): "
                f"<span style='color:{self._theme.recon}'>recon {_fmt(view[_RECON, i])}</span> "
                f"(smoothed {recon_s}) · "
                f"<span style='color:{self._theme.kl}'>KL {_fmt(view[_KL, i])}</span> (smoothed {kl_s})"
            )
        nearest_epoch = min(self._epochs, key=lambda e: abs(e.epoch - x), default=None)
        if nearest_epoch is not None and abs(nearest_epoch.epoch - x) <= 0.5:
            e = nearest_epoch
            parts.append(
                f"<b>epoch {e.epoch}</b> train/test: recon {_fmt(e.train_recon)}/{_fmt(e.test_recon)} · "
                f"KL {_fmt(e.train_kl)}/{_fmt(e.test_kl)}"
            )
        text = " &nbsp;│&nbsp; ".join(parts)
        self.readout.setText(text)
        for lp in (self.recon, self.kl):
            lp.cursor.setPos(x)
            lp.cursor.setVisible(bool(parts))
        return text


def _nearest(sorted_values: np.ndarray, value: float) -> int:
    i = int(np.clip(np.searchsorted(sorted_values, value), 0, len(sorted_values) - 1))
    if i > 0 and abs(sorted_values[i - 1] - value) < abs(sorted_values[i] - value):
        i -= 1
    return i


def _fmt(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"
