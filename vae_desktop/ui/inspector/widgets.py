"""Small building blocks of the inspector: a titled section, an image tile and the per-dimension table."""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QImage, QPixmap
from PySide6.QtWidgets import QFrame, QHeaderView, QLabel, QTableView, QVBoxLayout, QWidget

from vae_desktop.core.inspection import DimensionActivity, ImageInspection
from vae_desktop.ui.inspector import style
from vae_desktop.ui.qimage import to_qimage
from vae_desktop.ui.theme import Theme, on_theme, readable_on

TILE_PIXELS = 112  # images are scaled by a whole factor up to about this size, nearest-neighbour
TILE_CAPTION_WIDTH = TILE_PIXELS + 12


class Section(QFrame):
    """A numbered step: a bold title, a short explanation, then its charts."""

    def __init__(self, title: str, caption: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("inspectorSection")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.title = QLabel(title, self)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.2)
        font.setBold(True)
        self.title.setFont(font)
        self.title.setWordWrap(True)  # a narrow panel wraps the title instead of scrolling sideways
        self.caption = QLabel(self)
        self.caption.setWordWrap(True)
        self.caption.setTextFormat(Qt.TextFormat.RichText)
        self.caption.setOpenExternalLinks(False)
        self.set_caption(caption)
        self.body = QVBoxLayout(self)
        self.body.setContentsMargins(10, 8, 10, 8)
        self.body.setSpacing(6)
        self.body.addWidget(self.title)
        self.body.addWidget(self.caption)

    def set_caption(self, text: str) -> None:
        """The explanation under the title; shown exactly when there is one (a label created empty
        and filled later would otherwise stay hidden)."""
        self.caption.setText(text)
        self.caption.setVisible(bool(text))


class ImageTile(QWidget):
    """An enlarged image with a caption under it."""

    def __init__(self, caption: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.picture = QLabel(self)
        self.picture.setFixedSize(TILE_PIXELS, TILE_PIXELS)
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        on_theme(self.picture, lambda t: self.picture.setStyleSheet(f"background: {t.base}; border: 1px solid {t.mid};"))
        self.caption = QLabel(caption, self)
        self.caption.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.caption.setTextFormat(Qt.TextFormat.RichText)
        self.caption.setWordWrap(True)
        self.caption.setFixedWidth(TILE_CAPTION_WIDTH)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        layout.addWidget(self.picture, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.caption, 0, Qt.AlignmentFlag.AlignHCenter)
        self._scale = 1

    def set_image(self, image: np.ndarray | None) -> None:
        if image is None:
            self.picture.clear()
            return
        self._scale = max(1, TILE_PIXELS // max(image.shape[0], image.shape[1]))
        self.picture.setPixmap(QPixmap.fromImage(to_qimage(image, self._scale)))

    def shown_pixels(self) -> np.ndarray | None:
        """The displayed image read back from the pixmap, at its original size, as uint8 (H, W) or (H, W, 3)."""
        pixmap = self.picture.pixmap()
        if pixmap.isNull():
            return None
        qimage = pixmap.toImage().convertToFormat(QImage.Format.Format_RGB888)
        h, w = qimage.height(), qimage.width()
        array = np.frombuffer(qimage.constBits(), np.uint8, qimage.bytesPerLine() * h)
        array = array.reshape(h, qimage.bytesPerLine())[:, : 3 * w].reshape(h, w, 3)[:: self._scale, :: self._scale]
        if (array[..., 0] == array[..., 1]).all() and (array[..., 1] == array[..., 2]).all():
            return array[..., 0].copy()
        return array.copy()


# Column title, colour, and how to format the value of one dimension.
COLUMNS: list[tuple[str, str | None]] = [
    ("dim", None),
    ("μ (mean)", style.MEAN),
    ("log σ", style.LOG_STD),
    ("σ = exp(log σ)", style.STD),
    ("ε ~ N(0, 1)", style.EPS),
    ("z = μ + σ·ε", style.SAMPLE),
    ("KL (nats)", style.KL),
    ("test-set KL", None),
    ("Var μ (test set)", None),
]
TEST_KL_COLUMN, MEAN_VARIANCE_COLUMN = 7, 8


SPREAD_COLUMN = 2  # "log σ", then "σ = exp(log σ)": renamed for softplus and raw models


class DimensionTableModel(QAbstractTableModel):
    """One row per latent dimension with every number the charts show, so any row can be checked by hand.

    The cell texts are formatted once per update: views ask for them many times (sizing, painting).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[list[str]] = []
        self._inactive: list[bool] = []
        self._threshold = 0.0
        self._unit_threshold = 0.0
        self._alignment = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self._titles = [title for title, _ in COLUMNS]
        self._theme = on_theme(self, self._apply_theme)

    def set_spread_names(self, spread: str, sigma: str) -> None:
        """Name the spread columns as the model uses them ("log σ", "σ = exp(log σ)" for exp)."""
        titles = list(self._titles)
        titles[SPREAD_COLUMN], titles[SPREAD_COLUMN + 1] = spread, sigma
        if titles != self._titles:
            self._titles = titles
            self.headerDataChanged.emit(Qt.Orientation.Horizontal, SPREAD_COLUMN, SPREAD_COLUMN + 1)

    def _apply_theme(self, theme: Theme) -> None:
        self._theme = theme
        # Grey text that reads on both row shades (base and alternate base).
        grey = readable_on(readable_on(style.INACTIVE_TEXT, theme.base), theme.alternate_base)
        self._inactive_brush = QBrush(QColor(grey))
        self._header_brushes = {c: QBrush(QColor(theme.header_ink(c))) for _, c in COLUMNS if c is not None}
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, len(COLUMNS) - 1))
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(COLUMNS) - 1)

    def set_values(self, inspection: ImageInspection | None, activity: DimensionActivity | None) -> None:
        self.beginResetModel()
        self._rows, self._inactive = [], []
        if inspection is not None:
            usable_activity = activity if activity is not None and len(activity.kl_per_dim) == inspection.z_dim else None
            r = inspection
            for d in range(r.z_dim):
                row = [
                    str(d),
                    f"{r.mean[d]:+.4f}",
                    f"{r.log_std[d]:+.4f}",
                    f"{r.std[d]:.4g}",
                    f"{r.eps[d]:+.4f}",
                    f"{r.z[d]:+.4f}",
                    f"{r.kl_per_dim[d]:.4f}",
                ]
                inactive = usable_activity is not None and bool(usable_activity.inactive[d])
                if usable_activity is not None:
                    row.append(f"{usable_activity.kl_per_dim[d]:.4f}" + (" (inactive)" if inactive else ""))
                else:
                    row.append("—")
                if usable_activity is not None and usable_activity.mean_variance is not None:
                    row.append(f"{usable_activity.mean_variance[d]:.4f}")  # above 0.01: an active unit (header tip)
                else:
                    row.append("—")
                self._rows.append(row)
                self._inactive.append(inactive)
            self._threshold = usable_activity.threshold if usable_activity is not None else 0.0
            self._unit_threshold = usable_activity.unit_threshold if usable_activity is not None else 0.0
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        title, color = self._titles[section], COLUMNS[section][1]
        if role == Qt.ItemDataRole.DisplayRole:
            return title
        if role == Qt.ItemDataRole.ForegroundRole and color is not None:
            return self._header_brushes[color]
        if role == Qt.ItemDataRole.ToolTipRole and section == MEAN_VARIANCE_COLUMN:
            return (
                "Variance over the test images of this dimension's posterior mean μ. Above "
                f"{self._unit_threshold or 0.01:g} the dimension is an active unit (Burda et al. 2015)."
            )
        if role == Qt.ItemDataRole.FontRole:
            font = QFont()
            font.setBold(True)
            return font
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        d, column = index.row(), index.column()
        if not 0 <= d < len(self._rows):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._rows[d][column]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return self._alignment
        if self._inactive[d]:
            if role == Qt.ItemDataRole.ForegroundRole:
                return self._inactive_brush
            if role == Qt.ItemDataRole.ToolTipRole:
                return (
                    f"Dimension {d} is inactive: its KL averaged over the test images is below "
                    f"{self._threshold:g} nats (this image's own KL may be higher)."
                )
        return None


class DimensionTable(QTableView):
    """The table view: compact rows, scrolls when z_dim is large."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table_model = DimensionTableModel(self)
        self.setModel(self.table_model)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(22)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setResizeContentsPrecision(32)  # size columns from the first rows, not all 256
        header.setStretchLastSection(True)
        self.setAlternatingRowColors(True)
        self.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.setEditTriggers(QTableView.EditTrigger.NoEditTriggers)

    def fit_rows(self, rows: int, max_rows: int = 10) -> None:
        """Tall enough for `rows` rows (up to `max_rows`; beyond that it scrolls)."""
        header = self.horizontalHeader().sizeHint().height()
        shown = max(1, min(rows, max_rows))
        scroll_bar = self.horizontalScrollBar().sizeHint().height()  # appears when the panel is narrow
        rows_height = shown * self.verticalHeader().defaultSectionSize()
        self.setFixedHeight(header + rows_height + scroll_bar + 2 * self.frameWidth() + 2)

    def cell(self, row: int, column: int) -> str:
        """The text shown in one cell."""
        return str(self.table_model.data(self.table_model.index(row, column)))
