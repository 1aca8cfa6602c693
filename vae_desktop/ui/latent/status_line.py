"""The latent panel's one status line: what the map shows now, or what went wrong, coloured for the theme."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

from vae_desktop.ui.theme import Theme, on_theme


class StatusLine:
    """Writes info (muted) or errors (error colour) into `label`; a theme switch recolours it."""

    def __init__(self, label: QLabel) -> None:
        self._label = label
        self._error = False
        self._theme = on_theme(label, self._apply_theme)

    @property
    def is_error(self) -> bool:
        return self._error

    def show(self, text: str, error: bool = False) -> None:
        self._error = error
        self._label.setText(text)
        self._apply_theme(self._theme)

    def info(self, text: str) -> None:
        self.show(text)

    def error(self, text: str) -> None:
        self.show(text, error=True)

    def _apply_theme(self, theme: Theme) -> None:
        self._theme = theme
        self._label.setStyleSheet(f"color: {theme.error_text if self._error else theme.muted_text};")
