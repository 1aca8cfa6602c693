"""What the main window remembers between sessions: geometry, splitters, plot toggles, the form,
and the runs folder its own runs are recorded into."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QSettings

from vae_desktop.core.paths import user_runs_dir
from vae_desktop.ui.form_settings import restore_form, save_form

if TYPE_CHECKING:
    from vae_desktop.ui.main_window import MainWindow


def restore_window_settings(window: MainWindow) -> bool:
    """Apply the saved settings; True when the main splitter had saved sizes (not a first launch)."""
    s = window.settings
    geometry = s.value("window/geometry")
    if isinstance(geometry, QByteArray) and not geometry.isEmpty():
        window.restoreGeometry(geometry)
    else:
        window.resize(1320, 820)
    for key, splitter in (("window/mainSplitter", window.main_splitter),
                          ("window/centerSplitter", window.center_splitter)):
        state = s.value(key)
        if isinstance(state, QByteArray) and not state.isEmpty():
            splitter.restoreState(state)
    restored = isinstance(s.value("window/mainSplitter"), QByteArray)
    if not restored:
        window.main_splitter.setSizes([300, 1000, 0])
        window.center_splitter.setSizes([560, 170])
    restore_form(window.form, s)
    window.plots.log_scale.setChecked(_bool(s.value("plots/logScale"), False))
    window.plots.follow_latest.setChecked(_bool(s.value("plots/followLatest"), False))
    window.recent.rebuild_menu()
    return restored


def save_window_settings(window: MainWindow) -> None:
    s = window.settings
    s.setValue("window/geometry", window.saveGeometry())
    s.setValue("window/mainSplitter", window.main_splitter.saveState())
    s.setValue("window/centerSplitter", window.center_splitter.saveState())
    s.setValue("plots/logScale", window.plots.log_scale.isChecked())
    s.setValue("plots/followLatest", window.plots.follow_latest.isChecked())
    save_form(window.form, s)
    s.sync()


RUNS_FOLDER_KEY = "runs/folder"


def runs_folder(settings: QSettings) -> str:
    """Where new runs of the window get their run folder: the setting, or <user data folder>/runs."""
    value = settings.value(RUNS_FOLDER_KEY)
    return str(value) if isinstance(value, str) and value else str(user_runs_dir())


def set_runs_folder(settings: QSettings, folder: str) -> None:
    settings.setValue(RUNS_FOLDER_KEY, folder)
    settings.sync()


def _bool(value: object, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        return value.lower() in ("true", "1", "yes")
    return bool(value)
