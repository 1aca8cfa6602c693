"""The main window's file dialogs: open and save a checkpoint, export metrics, pick an image folder.

Each starts in the folder the last dialog used (kept by `RecentFiles`) and hands what was chosen
back to the window, which does the work.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog

if TYPE_CHECKING:
    from vae_desktop.ui.main_window import MainWindow

CHECKPOINT_FILTER = "VAE Desktop checkpoints (*.vaeckpt);;All files (*)"


def open_checkpoint(window: MainWindow) -> None:
    path, _ = QFileDialog.getOpenFileName(window, "Open checkpoint", window.recent.last_dir(), CHECKPOINT_FILTER)
    if path:
        window.recent.remember_dir(path)
        window.open_over_run(path)


def save_as(window: MainWindow) -> bool:
    controller = window.controller
    if controller is None or not controller.has_run:
        return False
    path = ask_save_path(window)
    return controller.save(path) if path else False


def ask_save_path(window: MainWindow) -> str | None:
    """A file name from the Save dialog (None when cancelled)."""
    assert window.controller is not None
    suggested = window.controller.checkpoint_path or str(Path(window.recent.last_dir()) / "model.vaeckpt")
    path, _ = QFileDialog.getSaveFileName(window, "Save checkpoint", suggested, CHECKPOINT_FILTER)
    if not path:
        return None
    if not path.endswith(".vaeckpt"):
        path += ".vaeckpt"
    window.recent.remember_dir(path)
    return path


def export_metrics(window: MainWindow) -> None:
    suggested = str(Path(window.recent.last_dir()) / "metrics.csv")
    path, _ = QFileDialog.getSaveFileName(window, "Export metrics", suggested, "CSV files (*.csv)")
    if path:
        window.recent.remember_dir(path)
        window.export_metrics_csv(path)


def choose_image_folder(window: MainWindow) -> None:
    path = QFileDialog.getExistingDirectory(window, "Open image folder", window.recent.last_dir())
    if not path:
        window.form.restore_dataset_selection()
        return
    window.recent.remember_dir(path + "/")
    window.form.add_folder(path)
    controller = window.controller
    if controller is not None and not controller.has_run:
        controller.prefetch_dataset(window.form.dataset_name(), report_errors=True, seed=window.form.seed.value())
