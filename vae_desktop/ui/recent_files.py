"""File ▸ Open recent and the folder the file dialogs start in, both kept in the window's settings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMenu

MAX_RECENT = 8


class RecentFiles:
    """The recent checkpoints (newest first) in `menu`; choosing one calls `open_path(path)`."""

    def __init__(self, settings: QSettings, menu: QMenu, open_path: Callable[[str], object]) -> None:
        self._settings = settings
        self.menu = menu
        self._open_path = open_path

    def paths(self) -> list[str]:
        value = self._settings.value("recentFiles", [])
        if isinstance(value, str):  # QSettings gives a list of one as the plain string
            return [value]
        return [str(v) for v in value] if isinstance(value, list) else []

    def add(self, path: str) -> None:
        path = str(Path(path).resolve())
        files = [path, *(p for p in self.paths() if p != path)][:MAX_RECENT]
        self._settings.setValue("recentFiles", files)
        self.rebuild_menu()

    def rebuild_menu(self) -> None:
        self.menu.clear()
        files = self.paths()
        for path in files:
            act = self.menu.addAction(Path(path).name)
            act.setToolTip(path)
            act.setStatusTip(path)
            act.triggered.connect(lambda _checked=False, p=path: self._open_path(p))
        if not files:
            self.menu.addAction("No recent checkpoints").setEnabled(False)
        else:
            self.menu.addSeparator()
            self.menu.addAction("Clear list", self.clear)

    def clear(self) -> None:
        self._settings.setValue("recentFiles", [])
        self.rebuild_menu()

    def last_dir(self) -> str:
        return str(self._settings.value("lastDirectory", str(Path.home())))

    def remember_dir(self, path: str) -> None:
        self._settings.setValue("lastDirectory", str(Path(path).parent))
