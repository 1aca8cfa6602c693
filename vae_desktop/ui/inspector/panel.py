"""InspectorPanel: one image followed through the encoder, the exp step, the sample and the loss.

It reads the model from the GUI's ModelMirror only. Weight updates during training refresh the
shown numbers at most a few times per second (the per-image pass is a millisecond; the test-set
activity pass runs less often), and not at all while the panel is hidden behind another tab. The noise eps comes from the panel's own generator and stays fixed
until "Draw again", so while training runs, every change on screen comes from the weights.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Slot
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from vae_desktop.core.config import RECON_LOSSES
from vae_desktop.core.errors import ConfigError
from vae_desktop.core.inspection import (
    INACTIVE_KL_NATS,
    DimensionActivity,
    EpsilonSource,
    ImageInspection,
    ImageShapeError,
    KlHistory,
    dimension_activity,
    inspect_image,
)
from vae_desktop.core.metrics import EpochMetrics
from vae_desktop.ui.inspector import explain, style
from vae_desktop.ui.inspector.charts import (
    ExpCurveChart,
    ExpStepChart,
    KlChart,
    KlHeatmap,
    RawOutputChart,
    SampleChart,
)
from vae_desktop.ui.inspector.widgets import DimensionTable, ImageTile, Section
from vae_desktop.ui.model_mirror import ModelMirror
from vae_desktop.ui.theme import on_theme

ACTIVITY_IMAGES = 2000  # test images in the activity pass: ~40 ms on one CPU core for the default model


class Throttle(QObject):
    """Coalesces requests: the callback runs once at most every `interval_ms`, with the latest state."""

    def __init__(self, interval_ms: int, callback: Callable[[], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(callback)

    def request(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def cancel(self) -> None:
        self._timer.stop()

    @property
    def pending(self) -> bool:
        return self._timer.isActive()


@dataclass(frozen=True)
class _Source:
    """What is shown: a test-set index, or an image given directly (index None)."""

    index: int | None
    image: np.ndarray | None = None


class InspectorPanel(QWidget):
    """Side panel that answers "how do 2*z_dim outputs become a mean, a stddev and a sample?"."""

    def __init__(
        self,
        mirror: ModelMirror,
        parent: QWidget | None = None,
        *,
        seed: int = 0,
        refresh_interval_ms: int = 250,
        activity_interval_ms: int = 2000,
    ) -> None:
        super().__init__(parent)
        self._mirror = mirror
        self._eps_source = EpsilonSource(seed)
        self._eps: np.ndarray | None = None
        self._draws = 0
        self._source: _Source | None = None
        self._recon_loss = "bernoulli"
        self._inspection: ImageInspection | None = None
        self._title = ""
        self._stale = False  # weights changed while the panel was hidden
        self._activity: DimensionActivity | None = None
        self._kl_history = KlHistory()
        self._refresh_throttle = Throttle(refresh_interval_ms, self.refresh, self)
        self._activity_throttle = Throttle(activity_interval_ms, self._refresh_activity_and_views, self)
        self._build()
        mirror.modelReplaced.connect(self._on_model_replaced)
        mirror.weightsUpdated.connect(self._on_weights_updated)
        mirror.datasetChanged.connect(self._on_dataset_changed)
        self._on_dataset_changed()

    # ---- public slots ----------------------------------------------------------------------
    @Slot(int)
    def show_test_image(self, index: int) -> None:
        """Inspect test-set image `index` (from the latent map or the reconstruction strip)."""
        self._source = _Source(int(index))
        self._sync_spin(int(index))
        self.refresh()

    def show_image(self, image_uint8_chw: np.ndarray) -> None:
        """Inspect an image that is not in the test set: uint8 (C, H, W) in the model's shape."""
        self._source = _Source(None, np.array(image_uint8_chw, copy=True))
        self.refresh()

    @Slot(object)
    def add_epoch(self, metrics: EpochMetrics) -> None:
        """A finished epoch: one more heat-map row (a new run's epoch 1 starts the map over)."""
        if self._kl_history.add(metrics):
            self._update_heatmap()

    @Slot(object)
    def set_epoch_history(self, epochs: list[EpochMetrics]) -> None:
        """Replace the heat map with a restored run's epochs (e.g. from an opened checkpoint)."""
        self._kl_history.replace(list(epochs))
        self._update_heatmap()

    @Slot(str)
    def set_reconstruction_loss(self, kind: str) -> None:
        """Which reconstruction loss the run uses (`TrainConfig.recon_loss`); bernoulli until told."""
        if kind not in RECON_LOSSES:
            raise ConfigError(f"Unknown reconstruction loss {kind!r}: choose one of {', '.join(RECON_LOSSES)}.")
        self._recon_loss = kind
        self.refresh()

    @Slot()
    def draw_again(self) -> None:
        """New eps ~ N(0, I) for the same image: a different sample z from the same mean and stddev."""
        model = self._mirror.model
        if model is None:
            return
        self._eps = self._eps_source.draw(model.z_dim)
        self._draws += 1
        self.refresh()

    @property
    def inspection(self) -> ImageInspection | None:
        """The numbers currently on screen (None in an empty state)."""
        return self._inspection

    @property
    def activity(self) -> DimensionActivity | None:
        return self._activity

    @property
    def eps(self) -> np.ndarray | None:
        return None if self._eps is None else self._eps.copy()

    # ---- mirror reactions ------------------------------------------------------------------
    def _on_model_replaced(self) -> None:
        self._refresh_throttle.cancel()
        self._recon_loss = self._mirror.recon_loss
        self._refresh_activity()
        self.refresh()

    def _on_weights_updated(self) -> None:
        if not self.isVisible():
            self._stale = True  # e.g. another tab is in front: catch up when shown, not 4 times a second
            return
        self._refresh_throttle.request()
        self._activity_throttle.request()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt API)
        super().showEvent(event)
        if self._stale:
            self._stale = False
            self._refresh_activity()
            self.refresh()

    def _on_dataset_changed(self) -> None:
        dataset = self._mirror.dataset
        self._source = _Source(0) if dataset is not None and dataset.num_test > 0 else None
        self._refresh_throttle.cancel()
        self._activity = None
        if dataset is not None:
            self.index_spin.setRange(0, max(0, dataset.num_test - 1))
        self._sync_spin(0)
        self._refresh_activity()
        self.refresh()

    # ---- computing -------------------------------------------------------------------------
    def _refresh_activity(self) -> None:
        model, dataset = self._mirror.model, self._mirror.dataset
        self._activity = None
        if model is None or dataset is None or tuple(dataset.image_shape) != model.config.image_shape:
            return
        self._activity = dimension_activity(model, dataset.test_images, INACTIVE_KL_NATS, ACTIVITY_IMAGES)

    def _refresh_activity_and_views(self) -> None:
        self._refresh_activity()
        if self._inspection is not None and not self._refresh_throttle.pending:
            self._update_views()  # the image's numbers are current; only the activity marks change

    @Slot()
    def refresh(self) -> None:
        """Recompute the shown image's numbers with the mirror's current weights and redraw."""
        self._refresh_throttle.cancel()
        model, dataset = self._mirror.model, self._mirror.dataset
        if model is None:
            self._show_message(explain.NO_MODEL)
            return
        if self._eps is None or len(self._eps) != model.z_dim:
            self._eps = self._eps_source.draw(model.z_dim)
            self._draws += 1
        source = self._source
        if source is None:
            self._show_message(explain.NO_DATASET)
            return
        label = None
        if source.index is None:
            image = source.image
        else:
            if dataset is None or not 0 <= source.index < dataset.num_test:
                self._show_message(
                    f"<h3>No such test image</h3><p>Test image #{source.index} does not exist in this dataset.</p>"
                )
                return
            image = dataset.test_images[source.index].numpy()
            label = self._class_name(source.index)
        try:
            self._inspection = inspect_image(model, image, self._eps, self._recon_loss)
        except ImageShapeError as error:
            self._show_message(f"<h3>Cannot inspect this image</h3><p>{error}</p>")
            return
        self._title = explain.source_description(source.index, label)
        self._update_views()

    def _class_name(self, index: int) -> str | None:
        dataset = self._mirror.dataset
        if dataset is None or not dataset.class_names:
            return None
        label = int(dataset.test_labels[index])
        return dataset.class_names[label] if 0 <= label < len(dataset.class_names) else None

    # ---- drawing ---------------------------------------------------------------------------
    def _show_message(self, text: str) -> None:
        self._inspection = None
        self.empty_label.setText(text)
        self.stack.setCurrentWidget(self.empty_page)

    def _update_views(self) -> None:
        result = self._inspection
        assert result is not None
        z_dim = result.z_dim
        self.source_label.setText(f"<b>{self._title}</b>")
        self.summary_label.setText(
            f"z_dim = {z_dim}: the encoder emits {2 * z_dim} numbers for this image."
            + (" Scroll over a chart to zoom, drag to pan." if z_dim > 16 else "")
        )
        self.input_tile.set_image(result.image)
        self.input_copy_tile.set_image(result.image)
        self.raw_section.title.setText(f"① What the encoder emits: {2 * z_dim} plain numbers")
        self.raw_section.caption.setText(explain.raw_caption(z_dim))
        self.raw_chart.set_encoding(result.raw)
        self.exp_step_chart.set_values(result.log_std, result.std)
        self.exp_curve_chart.set_values(result.log_std, result.std)
        self.sample_chart.set_values(result.mean, result.std, result.eps, result.z)
        self.mean_tile.set_image(result.decoded_mean)
        self.sample_tile.set_image(result.decoded_sample)
        self.draws_label.setText(f"ε draw #{self._draws}")
        self.table.table_model.set_values(result, self._activity)
        self.table.fit_rows(z_dim)
        self.loss_label.setText(explain.loss_summary(result))
        self.kl_chart.set_values(result.kl_per_dim, self._activity)
        self.activity_label.setText(explain.activity_summary(self._activity, z_dim))
        self.note_label.setText(explain.how_it_learns(result, self._activity))
        self.stack.setCurrentWidget(self.content_page)

    def _update_heatmap(self) -> None:
        self.heatmap.set_rows(self._kl_history.matrix(), self._kl_history.epochs)
        has_rows = len(self._kl_history) > 0
        self.heatmap.setVisible(has_rows)
        self.heatmap_empty.setVisible(not has_rows)

    def _sync_spin(self, index: int) -> None:
        self.index_spin.blockSignals(True)
        self.index_spin.setValue(index)
        self.index_spin.blockSignals(False)

    # ---- layout ----------------------------------------------------------------------------
    def _build(self) -> None:
        self.stack = QStackedWidget(self)
        self.empty_page = QWidget()
        self.empty_label = QLabel(explain.NO_MODEL, self.empty_page)
        self.empty_label.setWordWrap(True)
        self.empty_label.setTextFormat(Qt.TextFormat.RichText)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setMaximumWidth(520)
        centred = QHBoxLayout()
        centred.addStretch(1)
        centred.addWidget(self.empty_label, 4)
        centred.addStretch(1)
        empty_layout = QVBoxLayout(self.empty_page)
        empty_layout.setContentsMargins(24, 24, 24, 24)
        empty_layout.addStretch(1)
        empty_layout.addLayout(centred)
        empty_layout.addStretch(2)

        content = QWidget()
        column = QVBoxLayout(content)
        column.setSpacing(10)
        column.addLayout(self._build_header())
        column.addWidget(self._build_raw_section())
        column.addWidget(self._build_exp_section())
        column.addWidget(self._build_sample_section())
        column.addWidget(self._build_loss_section())
        column.addWidget(self._build_heatmap_section())
        column.addWidget(self._build_note_section())
        column.addStretch(1)
        self.content_page = QScrollArea()
        self.content_page.setWidgetResizable(True)
        self.content_page.setWidget(content)

        self.stack.addWidget(self.empty_page)
        self.stack.addWidget(self.content_page)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)
        self._update_heatmap()

    def _build_header(self) -> QHBoxLayout:
        self.input_tile = ImageTile("input x")
        self.source_label = QLabel()
        self.source_label.setTextFormat(Qt.TextFormat.RichText)
        font = self.source_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        self.source_label.setFont(font)
        self.summary_label = QLabel()
        self.summary_label.setWordWrap(True)
        self.index_spin = QSpinBox()
        self.index_spin.setToolTip("Which test image to follow through the encoder (its index in the test set)")
        self.index_spin.setAccessibleName("Test image number")
        self.index_spin.setRange(0, 0)
        self.index_spin.setKeyboardTracking(False)
        self.index_spin.valueChanged.connect(self.show_test_image)
        picker = QHBoxLayout()
        picker.addWidget(QLabel("Test image #"))
        picker.addWidget(self.index_spin)
        picker.addStretch(1)
        hint = QLabel("…or click an image in the latent map or the reconstruction strip.")
        on_theme(hint, lambda t: hint.setStyleSheet(f"color: {t.muted_text};"))
        hint.setWordWrap(True)
        text = QVBoxLayout()
        text.addWidget(self.source_label)
        text.addWidget(self.summary_label)
        text.addLayout(picker)
        text.addWidget(hint)
        text.addStretch(1)
        header = QHBoxLayout()
        header.addWidget(self.input_tile)
        header.addLayout(text, 1)
        return header

    def _build_raw_section(self) -> Section:
        self.raw_section = Section("① What the encoder emits")
        self.raw_chart = RawOutputChart()
        self.raw_section.body.addWidget(self.raw_chart)
        return self.raw_section

    def _build_exp_section(self) -> Section:
        section = Section("② exp turns any number into a positive stddev", explain.EXP_CAPTION)
        self.exp_step_chart = ExpStepChart()
        self.exp_curve_chart = ExpCurveChart()
        self.exp_curve_chart.setFixedWidth(250)
        row = QHBoxLayout()
        row.addWidget(self.exp_step_chart, 1)
        row.addWidget(self.exp_curve_chart)
        section.body.addLayout(row)
        return section

    def _build_sample_section(self) -> Section:
        section = Section("③ The sample the decoder sees: z = μ + σ·ε", explain.SAMPLE_CAPTION)
        self.sample_chart = SampleChart()
        section.body.addWidget(self.sample_chart)
        self.mean_tile = ImageTile(f"decode(<b style='color:{style.MEAN}'>μ</b>)<br>the mean: no noise")
        self.sample_tile = ImageTile(f"decode(<b style='color:{style.SAMPLE}'>z</b>)<br>this sample")
        self.draw_button = QPushButton("Draw again")
        self.draw_button.setToolTip("Draw a new ε ~ N(0, I): same μ and σ, a different sample z")
        self.draw_button.clicked.connect(self.draw_again)
        self.draws_label = QLabel()
        self.draws_label.setStyleSheet(f"color: {style.EPS};")
        controls = QVBoxLayout()
        controls.addStretch(1)
        controls.addWidget(self.draw_button)
        controls.addWidget(self.draws_label, 0, Qt.AlignmentFlag.AlignHCenter)
        controls.addStretch(1)
        self.input_copy_tile = ImageTile("input x<br>what the encoder saw")
        images = QHBoxLayout()
        images.addWidget(self.input_copy_tile)
        images.addWidget(self.mean_tile)
        images.addWidget(self.sample_tile)
        images.addLayout(controls)
        images.addStretch(1)
        section.body.addLayout(images)
        table_title = QLabel("Every number, one row per dimension:")
        section.body.addWidget(table_title)
        self.table = DimensionTable()
        self.table.setToolTip("Every number of every latent dimension: the charts above, exactly")
        self.table.setAccessibleName("Numbers per latent dimension")
        section.body.addWidget(self.table)
        return section

    def _build_loss_section(self) -> Section:
        section = Section("④ The two forces the loss balances")
        self.loss_label = QLabel()
        self.loss_label.setTextFormat(Qt.TextFormat.RichText)
        self.loss_label.setWordWrap(True)
        section.body.addWidget(self.loss_label)
        self.kl_chart = KlChart()
        section.body.addWidget(self.kl_chart)
        self.activity_label = QLabel()
        self.activity_label.setTextFormat(Qt.TextFormat.RichText)
        self.activity_label.setWordWrap(True)
        section.body.addWidget(self.activity_label)
        section.caption.setVisible(True)
        section.caption.setText(
            f"Bars: this image's {style.swatch(style.KL, 'KL per dimension')} (they add up to the KL above). "
            "Short ticks: the same averaged over the test set."
        )
        return section

    def _build_heatmap_section(self) -> Section:
        section = Section("⑤ Over training: which dimensions switch on", explain.HEATMAP_CAPTION)
        self.heatmap = KlHeatmap()
        self.heatmap_empty = QLabel("No finished epochs yet: a row appears here at the end of each epoch.")
        on_theme(self.heatmap_empty, lambda t: self.heatmap_empty.setStyleSheet(f"color: {t.muted_text};"))
        section.body.addWidget(self.heatmap)
        section.body.addWidget(self.heatmap_empty)
        return section

    def _build_note_section(self) -> Section:
        section = Section("How it learns which half is which")
        self.note_label = QLabel(explain.how_it_learns(None, None))
        self.note_label.setTextFormat(Qt.TextFormat.RichText)
        self.note_label.setWordWrap(True)
        section.body.addWidget(self.note_label)
        return section
