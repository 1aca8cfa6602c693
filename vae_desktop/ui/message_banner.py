"""A dismissible message strip at the top of the window: errors and notices without modal dialogs.

A modal box would stop the user (and the tests) until clicked; the banner states what happened,
stays until dismissed or replaced, and the app keeps working underneath.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QWidget

STYLES = {
    "error": ("#fdecea", "#e5a39d", "#8a1c12", "⛔"),
    "warning": ("#fff6e0", "#e8c77a", "#7a5200", "⚠"),
    "info": ("#e8f1fb", "#a9c6e8", "#1d4f86", "ℹ"),
}


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

    @property
    def kind(self) -> str:
        """'error', 'warning', 'info', or '' when hidden."""
        return self._kind if self.isVisibleTo(self.parentWidget()) else ""

    def message(self) -> str:
        return self.text.text() if self.kind else ""

    def show_message(self, text: str, kind: str = "error") -> None:
        background, border, foreground, icon = STYLES[kind]
        self._kind = kind
        self.setStyleSheet(
            f"#messageBanner {{ background: {background}; border: 1px solid {border}; border-radius: 4px; }}"
            f"#messageBanner QLabel {{ color: {foreground}; }}"
        )
        self.icon.setText(icon)
        self.text.setText(text)
        self.show()

    def dismiss(self) -> None:
        self.hide()
        self._kind = ""
        self.dismissed.emit()
