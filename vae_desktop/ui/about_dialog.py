"""Help ▸ About: what the app is, every version that matters for a bug report, and the device in use."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from vae_desktop import __version__
from vae_desktop.core.versions import software_versions, versions_text
from vae_desktop.ui.app_identity import app_icon

LOGO_PX = 72


class AboutDialog(QDialog):
    """Logo, name, one-line description, a versions table, the device, and a Copy button."""

    def __init__(self, device: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About VAE Desktop")
        self.setObjectName("aboutDialog")
        self.rows = software_versions({"Qt": qVersion()})
        self.device = device or "not known yet (PyTorch is still loading)"

        logo = QLabel()
        logo.setPixmap(app_icon().pixmap(LOGO_PX, LOGO_PX))  # SVG-backed: crisp at any scale factor
        logo.setAccessibleName("VAE Desktop logo")
        title = QLabel(f"<b style='font-size:16pt'>VAE Desktop</b>&nbsp;&nbsp;{html.escape(__version__)}")
        title.setTextFormat(Qt.TextFormat.RichText)
        blurb = QLabel(
            "Train a variational autoencoder and watch it learn: live loss curves, a latent map you can "
            "drag, and an inspector that follows one image through the encoder."
        )
        blurb.setWordWrap(True)
        header_text = QVBoxLayout()
        header_text.addWidget(title)
        header_text.addWidget(blurb)
        header = QHBoxLayout()
        header.addWidget(logo, 0, Qt.AlignmentFlag.AlignTop)
        header.addLayout(header_text, 1)

        grid = QGridLayout()
        grid.setHorizontalSpacing(16)
        self.value_labels: dict[str, QLabel] = {}
        for row, (name, version) in enumerate([*self.rows, ("Device in use", self.device)]):
            key = QLabel(name)
            value = QLabel(version)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            grid.addWidget(key, row, 0)
            grid.addWidget(value, row, 1)
            self.value_labels[name] = value

        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy these versions and the device, e.g. for a bug report")
        self.copy_button.clicked.connect(self.copy_to_clipboard)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setToolTip("Close this window")
        for button in (close, self.copy_button):
            button.setStatusTip(button.toolTip())

        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addSpacing(8)
        layout.addLayout(grid)
        layout.addSpacing(8)
        layout.addWidget(buttons)
        self.setMinimumWidth(460)

    def text(self) -> str:
        return versions_text(self.rows, self.device)

    def copy_to_clipboard(self) -> None:
        QGuiApplication.clipboard().setText(self.text())


def show_about(parent: QWidget, device: str) -> AboutDialog:
    """Open the About dialog (window-modal, not blocking the event loop) and return it."""
    dialog = AboutDialog(device, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.show()
    return dialog
