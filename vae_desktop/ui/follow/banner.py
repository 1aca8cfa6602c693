"""FollowBanner: the strip that says which run the window follows and how it stands, with the two
things one can do about it (Continue here, Stop following). No torch: it is built with the window."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from vae_desktop.ui.theme import Theme, on_theme


class FollowBanner(QFrame):
    continueRequested = Signal()
    stopRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("followBanner")
        self._kind = "info"
        self.text = QLabel()
        self.text.setObjectName("followText")
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.continue_button = QPushButton("Continue here")
        self.continue_button.setObjectName("followContinue")
        tip = "Make this run the window's own, from its latest checkpoint, and train on (once it has stopped)"
        self.continue_button.setToolTip(tip)
        self.continue_button.setStatusTip(tip)
        self.stop_button = QPushButton("Stop following")
        self.stop_button.setObjectName("followStop")
        tip = "Stop following this run: the window shows its own run again"
        self.stop_button.setToolTip(tip)
        self.stop_button.setStatusTip(tip)
        self.text.setAccessibleName("Followed run")
        self.continue_button.clicked.connect(self.continueRequested)
        self.stop_button.clicked.connect(self.stopRequested)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.continue_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.stop_button, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()
        self._theme = on_theme(self, self._apply_theme)

    @property
    def kind(self) -> str:
        return self._kind

    def message(self) -> str:
        return self.text.text() if not self.isHidden() else ""

    def show_text(self, text: str, kind: str, can_continue: bool) -> None:
        if kind != self._kind or self.isHidden():
            self._kind = kind
            self._restyle()
        if text != self.text.text():
            self.text.setText(text)
        self.continue_button.setEnabled(can_continue)
        self.show()

    def _apply_theme(self, theme: Theme) -> None:
        self._theme = theme
        self._restyle()

    def _restyle(self) -> None:
        background, border, foreground = self._theme.banner(self._kind)
        self.setStyleSheet(
            f"#followBanner {{ background: {background}; border: 1px solid {border}; border-radius: 4px; }}"
            f"#followBanner QLabel {{ color: {foreground}; }}"
        )
