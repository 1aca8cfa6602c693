"""The main window's file dialogs: open and save a checkpoint or a run folder, export metrics, pick an
image folder or the runs folder.

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
OPEN_FILTER = "VAE Desktop checkpoints and runs (*.vaeckpt run.json);;All files (*)"
RUN_FOLDER_FILTER = "Run folder (a copy of the whole run) (*)"
SAVE_AS_FILTER = f"{RUN_FOLDER_FILTER};;VAE Desktop checkpoint (*.vaeckpt)"


def run_folder_of(path: str) -> str | None:
    """The run folder `path` names (the folder, or its run.json / metrics.jsonl), or None for anything
    else (a folder that holds no run is then refused as a checkpoint would be, with the reason)."""
    p = Path(path)
    if p.is_dir():
        is_run = any((p / name).exists() for name in ("run.json", "metrics.jsonl", "checkpoints/latest.vaeckpt",
                                                          "model.vaeckpt"))
        return str(p) if is_run else None
    if p.name in ("run.json", "metrics.jsonl"):
        return str(p.parent)
    return None


def open_checkpoint(window: MainWindow) -> None:
    path, _ = QFileDialog.getOpenFileName(window, "Open checkpoint", window.recent.last_dir(), OPEN_FILTER)
    if path:
        window.recent.remember_dir(path)
        window.open_over_run(path)


def open_run_folder(window: MainWindow) -> None:
    start = window.run_folders.root if window.run_folders is not None else window.recent.last_dir()
    path = QFileDialog.getExistingDirectory(window, "Open run folder", start)
    if path:
        window.open_over_run(path)


def choose_runs_folder(window: MainWindow) -> None:
    if window.run_folders is None:
        return
    path = QFileDialog.getExistingDirectory(window, "Folder for new runs", window.run_folders.root)
    if path:
        window.run_folders.set_root(path)
        window.statusBar().showMessage(f"New runs are recorded in {path}", 5000)


def save_as(window: MainWindow) -> bool:
    """A run that has a run folder is copied: as a whole folder, or as one checkpoint file when the
    name picked ends in .vaeckpt. Any other run is saved to the checkpoint file picked, as before."""
    controller = window.controller
    if controller is None or not controller.has_run:
        return False
    if controller.run_folder is None or window.run_folders is None:
        path = ask_save_path(window)
        return controller.save(path) if path else False
    suggested = str(Path(window.recent.last_dir()) / f"{Path(controller.run_folder).name}-copy")
    path, chosen = QFileDialog.getSaveFileName(window, "Save run as", suggested, SAVE_AS_FILTER)
    if not path:
        return False
    window.recent.remember_dir(path)
    return save_run_as(window, path, as_checkpoint=chosen not in ("", RUN_FOLDER_FILTER))


def save_run_as(window: MainWindow, path: str, as_checkpoint: bool = False) -> bool:
    """Copy the run folder to `path`, or save a checkpoint file there when it ends in .vaeckpt."""
    assert window.controller is not None and window.run_folders is not None
    if path.endswith(".vaeckpt") or as_checkpoint:
        return window.controller.save(path if path.endswith(".vaeckpt") else path + ".vaeckpt")
    window.run_folders.copy_to(path)
    return True


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
