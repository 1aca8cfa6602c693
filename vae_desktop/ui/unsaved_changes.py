"""The one question asked before training that is not in a file would be lost: Save, Discard or Cancel.

Quit, New run and Open over unsaved work all ask it through `ask_to_save`, so the words, the
buttons and the default (Save) are the same everywhere. `UnsavedWorkGuard` does what the answer
says for the main window: `settle` before the run is replaced (never while training), `may_close`
on quit, where Save during training stops the run and closes the window only once the worker has
written the file; a failed save keeps the window, and the run, open.

"Unsaved" is what the window's title marks with [*] (kept from `RunController.has_unsaved_progress`);
a hidden window has nobody to ask and discards, as it always has. A run trained here autosaves
into its run folder after every epoch and on pause and stop, so what is unsaved is only the part of
the epoch in progress: the question says so, Save writes it too, and Discard drops only it. The
run folder itself always stays (File ▸ Recent runs lists it): nothing autosaved is ever deleted.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer, Slot
from PySide6.QtWidgets import QMessageBox, QWidget

from vae_desktop.core.wording import counted
from vae_desktop.ui.file_dialogs import ask_save_path

if TYPE_CHECKING:
    from vae_desktop.ui.main_window import MainWindow

BOX_NAME = "unsavedChangesBox"  # object name: tests and screen readers find the box by it


class SaveAnswer(Enum):
    SAVE = "save"
    DISCARD = "discard"
    CANCEL = "cancel"


def ask_to_save(parent: QWidget, before: str, detail: str = "") -> SaveAnswer:
    """Ask "Save the current run before `before`?" ("quitting", "starting a new run", ...).

    Save is the default button (Return), Cancel the escape button; closing the box cancels. Blocks
    until answered, like every such question on the desktop."""
    box = QMessageBox(parent)
    box.setObjectName(BOX_NAME)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Save this run?")
    box.setText(f"Save the current run before {before}?")
    if detail:
        box.setInformativeText(detail)
    box.setStandardButtons(
        QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel
    )
    box.setDefaultButton(QMessageBox.StandardButton.Save)
    box.setEscapeButton(QMessageBox.StandardButton.Cancel)
    box.setWindowModality(Qt.WindowModality.WindowModal)
    box.exec()
    answer = box.standardButton(box.clickedButton())
    box.deleteLater()
    if answer == QMessageBox.StandardButton.Save:
        return SaveAnswer.SAVE
    if answer == QMessageBox.StandardButton.Discard:
        return SaveAnswer.DISCARD
    return SaveAnswer.CANCEL


def unsaved_detail(global_step: int, saved_step: int | None, path: str | None, training: bool = False,
                   folder: str | None = None) -> str:
    """What Discard would lose, in one sentence: how far the run is and what its file holds."""
    trained = f"The run has trained {counted(global_step, 'step')}{' so far' if training else ''}"
    if folder is not None:
        name = Path(folder).name
        keeps = "keeps the run folder (File ▸ Recent runs lists it)"
        if saved_step is None:
            return (f"{trained}; its first epoch has not ended, so the run folder {name} holds no checkpoint yet. "
                    f"Discard drops that training and {keeps}.")
        return (f"{trained}. The run folder {name} holds step {saved_step:,}: only the training since then (the "
                f"epoch in progress) is not saved. Discard drops just that and {keeps}.")
    if saved_step is None or path is None:
        return f"{trained} and has never been saved; Discard throws it away."
    return f"{trained}; {Path(path).name} holds step {saved_step:,}, not this state."


class UnsavedWorkGuard(QObject):
    """The main window's answers to "is training about to be lost, and what to do about it"."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self._closing_after: str | None = None  # quit chose Save while training: the file being written
        window.coreReady.connect(self._connect_controller)

    @property
    def waiting_to_close(self) -> bool:
        return self._closing_after is not None

    def _connect_controller(self) -> None:
        controller = self._window.controller
        assert controller is not None
        controller.saved.connect(self._on_saved)
        controller.saveFailed.connect(self._on_save_failed)

    # ---- the question ---------------------------------------------------------------------------
    def ask(self, before: str) -> SaveAnswer:
        """The user's answer; DISCARD without a question when nothing is unsaved or the window is hidden."""
        window, controller = self._window, self._window.controller
        if controller is None or not window.isWindowModified() or not window.isVisible():
            return SaveAnswer.DISCARD
        trainer = controller.trainer
        detail = ""
        if trainer is not None:
            progress = trainer.progress  # read between steps: the worker replaces it whole
            detail = unsaved_detail(progress.global_step, controller.saved_step, controller.checkpoint_path,
                                    training=controller.is_training, folder=controller.run_folder)
        return ask_to_save(window, before, detail)

    def settle(self, before: str) -> bool:
        """Before the run is replaced (not while training): True when the caller may go on."""
        answer = self.ask(before)
        if answer is SaveAnswer.SAVE:
            return self._save_now()
        return answer is SaveAnswer.DISCARD

    def may_close(self) -> bool:
        """Quit: True when the window may close now. False when cancelled, when a save failed, and
        while a save chosen during training is on its way (the window then closes itself)."""
        if self._closing_after is not None:
            return False
        window, controller = self._window, self._window.controller
        asked = window.isWindowModified() and window.isVisible()
        answer = self.ask("quitting")
        if answer is SaveAnswer.DISCARD and asked and controller is not None:
            controller.drop_epoch_in_progress()  # only when the user chose it: unasked, the stop saves it all
        if answer is not SaveAnswer.SAVE:
            return answer is SaveAnswer.DISCARD
        assert controller is not None
        if not controller.is_training:
            return self._save_now()
        path = controller.checkpoint_path or ask_save_path(self._window)
        if not path:
            return False
        if not controller.is_training:  # it finished while the file dialog was open
            return controller.save(path)
        self._closing_after = controller.run_folder or path  # a run folder's save is reported by its folder
        controller.stop()  # first, so that no step follows the save: the window is then unmodified
        controller.save(path)  # written by the worker as it stops (or by the controller just after)
        self._window.show_state_note("Saving… the window closes once the run is saved")
        return False

    def _save_now(self) -> bool:
        controller = self._window.controller
        assert controller is not None
        path = controller.checkpoint_path or ask_save_path(self._window)
        return controller.save(path) if path else False

    # ---- a save chosen on quit while training -------------------------------------------------------
    @Slot(str)
    def _on_saved(self, path: str) -> None:
        if path == self._closing_after:
            self._closing_after = None
            QTimer.singleShot(0, self._window.close)

    @Slot(str)
    def _on_save_failed(self, path: str) -> None:
        controller = self._window.controller
        if self._closing_after is not None and path in (self._closing_after, controller and controller.checkpoint_path):  # the message is in the banner; the window and the run stay
            self._closing_after = None
            self._window.show_state_note("Not saved: the window stays open")
