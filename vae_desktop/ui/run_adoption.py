"""Which run is the window's: a new one at a first Start (or the current one continued), an opened
checkpoint file or run folder, or none after File > New run, each made current the same way (the
previous run's locks given up) and shown through `RunDisplay`; with no run, the selected dataset.

Apart from `RunController` because adopting a run is its own sequence (read, check, make current,
show, then load its dataset and fix up its steps per epoch) that never touches a training session:
the controller asks for it only while none runs. A run folder is read off the GUI thread
(ui/run_folder_opener.py); a checkpoint file is read here. On any error the current run is kept.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal, Slot

from vae_desktop.core.checkpoint import Checkpoint, load_checkpoint
from vae_desktop.core.config import ModelConfig, RunSettings
from vae_desktop.core.datasets import ImageDataset
from vae_desktop.core.errors import CheckpointError
from vae_desktop.core.runs.owner import OwnedRunFolder
from vae_desktop.core.trainer import Trainer
from vae_desktop.ui.current_run import CurrentRun, check_dataset_shape
from vae_desktop.ui.dataset_loads import DatasetLoads
from vae_desktop.ui.logging_setup import LOGGER_NAME
from vae_desktop.ui.run_display import RunDisplay
from vae_desktop.ui.run_folder_opener import RunFolderOpener
from vae_desktop.ui.run_saver import RunSaver
from vae_desktop.ui.run_status_book import RunStatusBook

log = logging.getLogger(f"{LOGGER_NAME}.run")


class RunAdoption(QObject):
    """Holds the current run (`run`); `is_idle()` says no training session runs."""

    errorRaised = Signal(str)  # user-facing message
    noticeRaised = Signal(str)
    folderOpened = Signal(str)  # a run folder read off the GUI thread is now the current run

    def __init__(
        self, display: RunDisplay, datasets: DatasetLoads, book: RunStatusBook, saver: RunSaver,
        is_idle: Callable[[], bool], report_unexpected: Callable[[str, BaseException], None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.run: CurrentRun | None = None
        self._display, self._datasets, self._book, self._saver = display, datasets, book, saver
        self._is_idle = is_idle
        self._report_unexpected = report_unexpected
        self._runs_made = 0
        self._folders = RunFolderOpener(is_idle, report_unexpected, parent=self)
        self._folders.opened.connect(self._on_folder_read)
        self._folders.errorRaised.connect(self.errorRaised)

    def _next_number(self) -> int:
        self._runs_made += 1
        return self._runs_made

    def replace(self, run: CurrentRun | None) -> None:
        """Make `run` the current run; the previous one's file and folder locks are given up."""
        if self.run is not None:
            self.run.release()
        self.run = run
        self._saver.release_all()

    def for_start(self, settings: RunSettings, dataset: ImageDataset, template: ModelConfig) -> tuple[CurrentRun, Trainer]:
        """The run a Start trains and its Trainer: the current run continued exactly (core/resume.py), or
        a fresh one when there is nothing to continue; shown with `dataset` in the mirror."""
        run = self.run
        if run is None or not run.continue_training(settings.train, dataset):
            run = CurrentRun.begin(settings, dataset, template, number=self._next_number())
            self.replace(run)
            new_run = True
        else:
            new_run = False
        assert run.trainer is not None
        if self._display.mirror.dataset is not dataset:
            self._display.mirror.set_dataset(dataset)
        if new_run:
            self._display.show_new(run, run.trainer)
        return run, run.trainer

    def provide_dataset(self, dataset: ImageDataset, name: str) -> None:
        """Use an already-loaded dataset for `name`; shown at once while there is no run."""
        self._datasets.provide(dataset, name)
        if self.run is None:
            self._display.mirror.set_dataset(dataset)

    def preview_dataset(self, name: str, seed: int, report_errors: bool) -> None:
        """While there is no run, show dataset `name` once it has loaded (never downloaded); with
        `report_errors`, say why it cannot be used (and what was skipped)."""
        if self.run is not None:
            return

        def show(dataset: ImageDataset | None) -> None:
            if dataset is not None and self.run is None and self._display.mirror.dataset is not dataset:
                self._display.mirror.set_dataset(dataset)
                if report_errors and dataset.notes:  # "20 images from /x; skipped 1 unreadable file"
                    self.noticeRaised.emit("Loaded " + "; ".join(dataset.notes) + ".")

        self._datasets.with_dataset(name, seed, show, download=False, quiet=not report_errors)

    def forget(self) -> None:
        """No current run (File > New run; the caller asked the user about unsaved progress)."""
        self.replace(None)
        self._display.show_no_run()
        self._book.settle()

    def release(self) -> None:
        """The window closes: the current run's folder lock is given up."""
        if self.run is not None:
            self.run.release()

    def open_checkpoint(self, path: str) -> bool:
        """Replace the current run with a checkpoint file; on any error the current run is kept."""
        try:
            ckpt = load_checkpoint(path)
            check_dataset_shape(ckpt, os.path.basename(path))
        except CheckpointError as exc:
            self.errorRaised.emit(str(exc))
            return False
        except Exception as exc:  # the current run is kept; the user reads why, the log has the traceback
            self._report_unexpected(f"Could not open {os.path.basename(path)}", exc)
            return False
        self._adopt(ckpt, str(path))
        return True

    def open_run_folder(self, folder: str) -> bool:
        """Read a run folder off the GUI thread; `folderOpened` (or an error message) follows."""
        return self._folders.open(folder)

    def join(self, timeout_s: float) -> bool:
        """Wait up to `timeout_s` for a run folder being read; True when none is."""
        return self._folders.join(timeout_s)

    @Slot(object, object, str)
    def _on_folder_read(self, ckpt: Checkpoint, owned: OwnedRunFolder, folder: str) -> None:
        self._adopt(ckpt, folder, owned)
        self.folderOpened.emit(folder)

    def _adopt(self, ckpt: Checkpoint, path: str, folder: OwnedRunFolder | None = None) -> None:
        """Make an opened checkpoint (a file, or a run folder's latest) the current run."""
        run = CurrentRun(ckpt.dataset, ckpt.model_config, ckpt.train_config, checkpoint=ckpt, path=path,
                         saved_step=ckpt.progress.global_step, number=self._next_number(), folder=folder)
        self.replace(run)
        self._display.show_opened(run, ckpt, path)
        self._book.settle()
        log.info("Opened %s %s (%s, step %d)", "run folder" if folder is not None else "checkpoint", path,
                 ckpt.dataset, ckpt.progress.global_step)
        for note in ckpt.notes:
            self.noticeRaised.emit(note)

        def with_dataset(dataset: ImageDataset | None) -> None:
            if dataset is not None and self.run is run and self._display.show_opened_dataset(run, ckpt, dataset):
                if self._is_idle():
                    self._book.refresh()

        self._datasets.with_dataset(ckpt.dataset, ckpt.train_config.seed, with_dataset, image_size=ckpt.image_size)

    def show_own(self) -> None:
        """Put the window's own run back into the mirror and the plots (after following another run)."""
        run = self.run
        if run is None:
            self._display.show_nothing()
            self._book.refresh()
            return
        if not self._display.show_own(run):
            return
        self._book.refresh()

        def with_dataset(dataset: ImageDataset | None) -> None:
            if dataset is not None and self.run is run and dataset.image_shape == run.model_config.image_shape:
                self._display.mirror.set_dataset(dataset)

        self._datasets.with_dataset(run.dataset, run.train_config.seed, with_dataset, download=False, quiet=True,
                                    image_size=run.image_size)
