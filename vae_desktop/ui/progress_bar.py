"""A progress bar whose text always fits: the longest of a few wordings that fits the bar's width.

QProgressBar draws its text centred and cuts both ends when it is wider than the bar, so
"Epoch 5 of 30 · step 62 of 157" lost its first and last words in a narrow left panel.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QProgressBar, QStyle, QStyleOptionProgressBar, QWidget

TEXT_MARGIN_PX = 8  # room left on either side of the text, so it never touches the bar's frame


class FittedProgressBar(QProgressBar):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._texts: tuple[str, ...] = ("",)

    def set_texts(self, texts: Sequence[str]) -> None:
        """Show the first of `texts` (longest first) that fits; the last one is shown when none does."""
        self._texts = tuple(texts) or ("",)
        self._fit()

    def texts(self) -> tuple[str, ...]:
        return self._texts

    def text_room(self) -> int:
        """Pixels the text can use: the style's label rectangle, less a margin at either end."""
        option = QStyleOptionProgressBar()
        self.initStyleOption(option)
        label = self.style().subElementRect(QStyle.SubElement.SE_ProgressBarLabel, option, self)
        return label.width() - 2 * TEXT_MARGIN_PX

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        room = self.text_room()
        metrics = self.fontMetrics()
        chosen = next((t for t in self._texts if metrics.horizontalAdvance(t) <= room), self._texts[-1])
        if chosen != self.format():  # our texts hold no %p, %v or %m placeholders, so text() == chosen
            self.setFormat(chosen)


def epoch_texts(epoch: int, epochs: int, step: int, steps: int) -> list[str]:
    """The epoch bar's wordings, longest first."""
    percent = 100 * step // max(1, steps)
    return [
        f"Epoch {epoch} of {epochs} · step {step} of {steps}",
        f"Epoch {epoch}/{epochs} · step {step}/{steps}",
        f"Epoch {epoch}/{epochs} · {percent}%",
        f"{epoch}/{epochs}",
    ]


def run_texts(step: int, total: int) -> list[str]:
    """The run bar's wordings, longest first."""
    done = min(step, total)
    percent = f"{100 * done / max(1, total):.0f}%"
    return [f"Run {percent} · {step:,} of {total:,} steps", f"Run {percent} · {step:,}/{total:,}", f"Run {percent}", percent]
