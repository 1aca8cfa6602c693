"""The window's left column: the run settings form, Start / Pause / Stop, and the Progress box."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from vae_desktop.core.training_status import START_TIP
from vae_desktop.ui.hyperparameter_form import HyperparameterForm
from vae_desktop.ui.progress_box import ProgressBox
from vae_desktop.ui.theme import Theme, on_theme


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


class ControlPanel(QWidget):
    """Settings, run buttons and progress, top to bottom; the window connects and enables them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("controlPanel")
        self.form = HyperparameterForm()
        self.start_button = QPushButton("Start")
        self.start_button.setObjectName("startButton")
        on_theme(self.start_button, lambda theme: self.start_button.setStyleSheet(start_style(theme)))
        self.pause_button = QPushButton("Pause")
        self.stop_button = QPushButton("Stop")
        self.start_button.setToolTip(START_TIP)
        self.pause_button.setToolTip("Pause after the current batch; Resume continues exactly where it paused")
        self.stop_button.setToolTip("Stop after the current batch; Start continues the run later")
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button, 2)
        buttons.addWidget(self.pause_button, 1)
        buttons.addWidget(self.stop_button, 1)
        self.progress = ProgressBox()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 6, 10)
        layout.addWidget(self.form)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addStretch(1)
        self.setMinimumWidth(270)
        self.setMaximumWidth(420)
