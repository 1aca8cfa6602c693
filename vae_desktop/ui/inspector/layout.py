"""The inspector's widgets: the numbered sections, their charts, captions and the per-dimension table.

Kept apart from `InspectorPanel` (what is computed and when) so each file has one job; the panel
inherits these builders and fills the widgets they create.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
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

from vae_desktop.ui.inspector import explain
from vae_desktop.ui.inspector.charts import (
    KlChart,
    RawOutputChart,
    SampleChart,
)
from vae_desktop.ui.inspector.gradient_section import GradientSection
from vae_desktop.ui.inspector.heatmap import KlHeatmap
from vae_desktop.ui.inspector.stddev_charts import ExpCurveChart, ExpStepChart
from vae_desktop.ui.inspector.widgets import DimensionTable, ImageTile, Section
from vae_desktop.ui.theme import on_theme


class InspectorLayout:
    """Builds the inspector's pages into the panel (a QWidget subclass that also inherits this)."""

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
        column.addWidget(self._build_gradient_section())
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
        self.source_label.setWordWrap(True)  # a long file name wraps instead of widening the panel
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
        self.off_data_label = QLabel()
        self.off_data_label.setTextFormat(Qt.TextFormat.RichText)
        self.off_data_label.setWordWrap(True)
        self.off_data_label.setObjectName("offDataNote")
        self.off_data_label.hide()
        text = QVBoxLayout()
        text.addWidget(self.source_label)
        text.addWidget(self.summary_label)
        text.addWidget(self.off_data_label)
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
        section = Section("② exp turns any number into a positive stddev")
        self.exp_section = section
        self.exp_step_chart = ExpStepChart()
        self.exp_curve_chart = ExpCurveChart()
        self.exp_curve_chart.setMinimumWidth(170)  # shares a narrow panel instead of widening it
        self.exp_curve_chart.setMaximumWidth(260)
        row = QHBoxLayout()
        row.addWidget(self.exp_step_chart, 3)
        row.addWidget(self.exp_curve_chart, 2)
        section.body.addLayout(row)
        return section

    def _build_sample_section(self) -> Section:
        section = Section("③ The sample the decoder sees: z = μ + σ·ε")
        self.sample_section = section
        self.sample_chart = SampleChart()
        section.body.addWidget(self.sample_chart)
        self.mean_tile = ImageTile("")
        self.sample_tile = ImageTile("")
        self.draw_button = QPushButton("Draw again")
        self.draw_button.setToolTip("Draw a new ε ~ N(0, I): same μ and σ, a different sample z")
        self.draw_button.clicked.connect(self.draw_again)
        self.draws_label = QLabel()
        controls = QHBoxLayout()  # under the images: three tiles and a button side by side were too wide
        controls.addWidget(self.draw_button)
        controls.addWidget(self.draws_label)
        controls.addStretch(1)
        self.input_copy_tile = ImageTile("input x<br>what the encoder saw")
        images = QHBoxLayout()
        images.addWidget(self.input_copy_tile)
        images.addWidget(self.mean_tile)
        images.addWidget(self.sample_tile)
        images.addStretch(1)
        section.body.addLayout(images)
        section.body.addLayout(controls)
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
        self.loss_section = section
        return section

    def _build_heatmap_section(self) -> Section:
        section = Section("⑤ Over training: which dimensions switch on", explain.HEATMAP_CAPTION)
        self.heatmap = KlHeatmap()
        self.heatmap_empty = QLabel("No finished epochs yet: a row appears here at the end of each epoch.")
        self.heatmap_empty.setWordWrap(True)
        on_theme(self.heatmap_empty, lambda t: self.heatmap_empty.setStyleSheet(f"color: {t.muted_text};"))
        section.body.addWidget(self.heatmap)
        section.body.addWidget(self.heatmap_empty)
        return section

    def _build_gradient_section(self) -> GradientSection:
        self.gradients = GradientSection(self._mirror)  # type: ignore[attr-defined]  # the panel's mirror
        return self.gradients

    def _build_note_section(self) -> Section:
        section = Section("How it learns which half is which")
        self.note_label = QLabel(explain.how_it_learns(None, None))
        self.note_label.setTextFormat(Qt.TextFormat.RichText)
        self.note_label.setWordWrap(True)
        section.body.addWidget(self.note_label)
        return section
