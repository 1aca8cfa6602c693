"""A dismissible message strip at the top of the window: errors and notices without modal dialogs.

A modal box would stop the user (and the tests) until clicked; the banner states what happened,
stays until dismissed or replaced, and the app keeps working underneath.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QStyle, QToolButton, QWidget

from vae_desktop.ui.theme import Theme, on_theme

ICONS = {  # the style's standard icons (fonts may lack emoji glyphs); colours come from the theme
    "error": QStyle.StandardPixmap.SP_MessageBoxCritical,
    "warning": QStyle.StandardPixmap.SP_MessageBoxWarning,
    "info": QStyle.StandardPixmap.SP_MessageBoxInformation,
}
ICON_SIZE = 18


class MessageBanner(QFrame):
    dismissed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageBanner")
        self._kind = ""
        self.icon = QLabel()
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.close_button = QToolButton()
        self.close_button.setText("✕")
        self.close_button.setAutoRaise(True)
        self.close_button.setToolTip("Dismiss")
        self.close_button.clicked.connect(self.dismiss)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        layout.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()
        self._theme = on_theme(self, self._apply_theme)

    def _apply_theme(self, theme: Theme) -> None:
        self._theme = theme
        if self._kind:
            self._restyle()

    def _restyle(self) -> None:
        background, border, foreground = self._theme.banner(self._kind)
        self.setStyleSheet(
            f"#messageBanner {{ background: {background}; border: 1px solid {border}; border-radius: 4px; }}"
            f"#messageBanner QLabel, #messageBanner QToolButton {{ color: {foreground}; }}"
        )

    @property
    def kind(self) -> str:
        """'error', 'warning', 'info', or '' when hidden."""
        parent = self.parentWidget()
        shown = self.isVisibleTo(parent) if parent is not None else not self.isHidden()  # (what Qt does for None)
        return self._kind if shown else ""

    def message(self) -> str:
        return self.text.text() if self.kind else ""

    def show_message(self, text: str, kind: str = "error") -> None:
        self._kind = kind
        self._restyle()
        self.icon.setPixmap(self.style().standardIcon(ICONS[kind]).pixmap(ICON_SIZE, ICON_SIZE))
        self.text.setText(text)
        self.show()

    def dismiss(self) -> None:
        self.hide()
        self._kind = ""
        self.dismissed.emit()
