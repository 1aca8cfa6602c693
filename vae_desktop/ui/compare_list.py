"""The compared runs as a list under the loss plots: a check box per run shows or hides it, the
current row is the selected run (the one the latent panel and inspector follow).

A view of the `RunComparison`: it writes the user's clicks into the model and redraws from the
model's signals, so the list, the plots and the legend never disagree. Hidden while empty.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget

from vae_desktop.core.runs.comparison import RunComparison
from vae_desktop.ui.compare_plot_items import run_colour

KEY_ROLE = Qt.ItemDataRole.UserRole
LIST_HEIGHT = 86


def _swatch(colour: str) -> QIcon:
    pixmap = QPixmap(14, 14)
    pixmap.fill(QColor(colour))
    return QIcon(pixmap)


class ComparisonList(QWidget):
    addRequested = Signal()  # the user asked to add run folders

    def __init__(self, comparison: RunComparison, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("comparisonList")
        self._comparison = comparison
        self._filling = False
        self.runs = QListWidget()
        self.runs.setObjectName("comparisonRuns")
        self.runs.setIconSize(QSize(14, 14))
        self.runs.setMaximumHeight(LIST_HEIGHT)
        self.runs.setToolTip("Tick a run to show its curves; the selected run is the one the latent map and "
                             "inspector show")
        self.add_button = QPushButton("Add run…")
        self.add_button.setToolTip("Add run folders to the comparison")
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Take the selected run out of the comparison")
        self.close_button = QPushButton("Close comparison")
        self.close_button.setToolTip("Back to this window's run alone")
        buttons = QVBoxLayout()
        for button in (self.add_button, self.remove_button, self.close_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 0, 6, 0)
        layout.addWidget(self.runs, 1)
        layout.addLayout(buttons)

        self.runs.itemChanged.connect(self._on_item_changed)
        self.runs.currentItemChanged.connect(self._on_current_changed)
        self.add_button.clicked.connect(self.addRequested)
        self.remove_button.clicked.connect(self._remove_selected)
        self.close_button.clicked.connect(comparison.clear)
        comparison.changed.connect(self.fill)
        comparison.visibility_changed.connect(self._show_visibility)
        comparison.selection_changed.connect(self._show_selection)
        self.fill()

    def item_of(self, key: str) -> QListWidgetItem | None:
        for row in range(self.runs.count()):
            item = self.runs.item(row)
            if item.data(KEY_ROLE) == key:
                return item
        return None

    @Slot()
    def fill(self) -> None:
        comparison = self._comparison
        self.setVisible(len(comparison) > 0)
        labels = comparison.labels()
        selected = comparison.selected
        self._filling = True
        try:
            self.runs.clear()
            for run in comparison:
                label = labels[run.key]
                text = label if label == run.name else f"{label} — {run.name}"
                item = QListWidgetItem(_swatch(run_colour(run.colour)), text)
                item.setData(KEY_ROLE, run.key)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Checked if run.visible else Qt.CheckState.Unchecked)
                item.setToolTip(run.checkpoint or run.name)
                self.runs.addItem(item)
                if run is selected:
                    self.runs.setCurrentItem(item)
        finally:
            self._filling = False
        self.remove_button.setEnabled(selected is not None)

    def _show_visibility(self, key: str, visible: bool) -> None:
        """Only the one check box changes: the list is never rebuilt under the user's click."""
        item = self.item_of(key)
        if item is not None:
            self._filling = True
            item.setCheckState(Qt.CheckState.Checked if visible else Qt.CheckState.Unchecked)
            self._filling = False

    def _show_selection(self, key: str) -> None:
        item = self.item_of(key)
        self._filling = True
        if item is None:
            self.runs.setCurrentRow(-1)
        else:
            self.runs.setCurrentItem(item)
        self._filling = False
        self.remove_button.setEnabled(item is not None)

    @Slot(QListWidgetItem)
    def _on_item_changed(self, item: QListWidgetItem) -> None:
        if not self._filling:
            self._comparison.set_visible(str(item.data(KEY_ROLE)), item.checkState() == Qt.CheckState.Checked)

    @Slot(QListWidgetItem, QListWidgetItem)
    def _on_current_changed(self, current: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        if not self._filling and current is not None:
            self._comparison.select(str(current.data(KEY_ROLE)))

    @Slot()
    def _remove_selected(self) -> None:
        selected = self._comparison.selected
        if selected is not None:
            self._comparison.remove(selected.key)
