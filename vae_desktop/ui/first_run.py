"""The first thing a new user sees: a one-line hint over the empty plots saying where to click.

It appears once PyTorch has loaded and the window is ready to train with nothing trained yet, and
goes away for good in this window as soon as training starts or a checkpoint brings a history.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QLabel

from vae_desktop.core.metrics import EpochMetrics
from vae_desktop.core.training_status import TrainingState, TrainingStatus
from vae_desktop.ui.theme import Theme, on_theme

if TYPE_CHECKING:
    from vae_desktop.ui.main_window import MainWindow

HINT_TEXT = (
    "Press <b>Start</b> on the left (or <b>Space</b>) to train a VAE on the built-in <b>Shapes</b> — "
    "the latent map and the inspector fill in as it learns."
)


class FirstRunHint(QLabel):
    """A rounded note centred near the top of the loss plots (a child of the plot canvas)."""

    def __init__(self, window: MainWindow) -> None:
        host = window.plots.canvas
        super().__init__(HINT_TEXT, host)
        self.setObjectName("firstRunHint")
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAccessibleName("Getting started")
        self._window = window
        self._done = False
        self._host = host
        on_theme(self, self._apply_theme)
        host.installEventFilter(self)
        self.hide()
        window.coreReady.connect(self._update)
        window.statusChanged.connect(self._on_status)
        window.historyRestored.connect(self._on_history)
        self._update()

    def _apply_theme(self, theme: Theme) -> None:
        self.setStyleSheet(
            f"QLabel#firstRunHint {{ background: {theme.banner_info[0]}; color: {theme.banner_info[2]};"
            f" border: 1px solid {theme.banner_info[1]}; border-radius: 6px; padding: 8px 12px; }}"
        )

    @property
    def done(self) -> bool:
        """True once training started or a history arrived: the hint does not come back."""
        return self._done

    def _on_status(self, status: TrainingStatus) -> None:
        if status.state in (TrainingState.LOADING, TrainingState.TRAINING):
            self._finish()
        else:
            self._update()

    def _on_history(self, epochs: list[EpochMetrics]) -> None:
        if epochs or len(self._window.plots.batch_data()["global_step"]):
            self._finish()

    def _finish(self) -> None:
        self._done = True
        self.hide()

    def _update(self) -> None:
        show = not self._done and self._window.status.state is TrainingState.IDLE
        if show:
            self._place()
        self.setVisible(show)

    def _place(self) -> None:
        self.ensurePolished()  # the style sheet's padding counts in heightForWidth only once polished
        width = min(560, max(200, self._host.width() - 40))
        # The height the wrapped text needs at this width: adjustSize() would size it for one long
        # line (its size hint), and a narrow column then cut off the last line of the hint.
        self.setFixedSize(width, self.heightForWidth(width))
        self.move((self._host.width() - width) // 2, max(8, self._host.height() // 3 - self.height() // 2))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._host and event.type() == QEvent.Type.Resize and not self._done:
            self._place()
        return False


def install_first_run_hint(window: MainWindow) -> FirstRunHint:
    return FirstRunHint(window)
