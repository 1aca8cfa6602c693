"""Worker threads that were told to stop, kept referenced until they have ended.

A QObject worker living in a QThread must not be deleted by Python while the thread still runs it (the
app crashes): whoever stops one hands the pair here, and it is let go (deleteLater) as the thread
finishes. The follower and the comparison's live readers both stop workers this way.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QThread


class RetiredThreads:
    def __init__(self) -> None:
        self._pairs: list[tuple[QThread, QObject]] = []

    def retire(self, thread: QThread, worker: QObject) -> None:
        """Quit `thread` (its worker already asked to stop) and keep both until the thread has ended."""
        pair = (thread, worker)
        self._pairs.append(pair)

        def gone() -> None:
            if pair in self._pairs:
                self._pairs.remove(pair)
            thread.deleteLater()

        thread.finished.connect(worker.deleteLater)  # Qt's idiom: deleted as its thread ends
        thread.finished.connect(gone)
        thread.quit()

    def wait(self, timeout_ms: int) -> bool:
        """Wait up to `timeout_ms` for each retired thread; True when none is left running."""
        return all(thread.wait(max(0, timeout_ms)) for thread, _worker in list(self._pairs))
