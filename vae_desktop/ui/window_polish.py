"""What turns the bare main window into the finished app: theme menu, keyboard, hints, names, tips.

`polish_window` runs when the window is created (before torch has loaded), `polish_side_panels`
once the latent map and inspector are in. Both only add to the window; the window works without them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMenu

from vae_desktop.core.training_status import TrainingState, TrainingStatus
from vae_desktop.ui.accessibility import fill_status_tips, name_plots
from vae_desktop.ui.first_run import install_first_run_hint
from vae_desktop.ui.icons import action_icon
from vae_desktop.ui.keyboard import install_keyboard
from vae_desktop.ui.theme import DARK_NAME, LIGHT_NAME, SYSTEM, theme_manager

if TYPE_CHECKING:
    from vae_desktop.ui.inspector import InspectorPanel
    from vae_desktop.ui.latent_panel import LatentPanel
    from vae_desktop.ui.main_window import MainWindow

THEME_TITLES = {SYSTEM: "Follow the &system", LIGHT_NAME: "&Light", DARK_NAME: "&Dark"}


def add_theme_menu(window: MainWindow) -> QMenu:
    """View ▸ Theme: follow the system (default), or always light or dark; remembered in the settings."""
    manager = theme_manager()
    manager.restore(window.settings)
    menu = QMenu("&Theme", window)
    menu.setObjectName("themeMenu")
    group = QActionGroup(menu)
    group.setExclusive(True)
    for preference, title in THEME_TITLES.items():
        action = QAction(title, menu)
        action.setObjectName(f"theme_{preference}")
        action.setCheckable(True)
        action.setChecked(manager.preference == preference)
        action.setStatusTip(
            "Light or dark as the desktop is set, switching when it switches" if preference == SYSTEM
            else f"Always use the {preference} colours"
        )
        action.triggered.connect(lambda _checked=False, p=preference: _choose_theme(window, p))
        group.addAction(action)
        menu.addAction(action)
    view = window.menu_actions.view_menu
    view.addSeparator()
    view.addMenu(menu)
    return menu


def _choose_theme(window: MainWindow, preference: str) -> None:
    manager = theme_manager()
    manager.set_preference(preference)
    manager.save(window.settings)


def add_icons(window: MainWindow) -> None:
    """SVG icons on the training buttons and the file and training actions (crisp at any scale)."""
    window.start_button.setIcon(action_icon("start", "#ffffff"))  # white on the accent-coloured button
    window.stop_button.setIcon(action_icon("stop"))
    play, pause = action_icon("start"), action_icon("pause")
    window.pause_button.setIcon(pause)

    def show_pause_icon(status: TrainingStatus) -> None:  # "Resume" plays on
        wanted = play if status.state is TrainingState.PAUSED else pause
        if window.pause_button.icon().cacheKey() != wanted.cacheKey():  # the status changes every batch bundle
            window.pause_button.setIcon(wanted)

    window.statusChanged.connect(show_pause_icon)
    acts = window.menu_actions
    for action, name in ((acts.open, "open"), (acts.save, "save"), (acts.start, "start"), (acts.pause, "pause"),
                         (acts.stop, "stop")):
        action.setIcon(action_icon(name))


def polish_window(window: MainWindow) -> None:
    """Everything that needs no torch: theme menu, icons, Space, first-run hint, plot names, status tips."""
    add_theme_menu(window)
    add_icons(window)
    install_keyboard(window)
    install_first_run_hint(window)
    name_plots(window)
    fill_status_tips(window)


def polish_side_panels(window: MainWindow, latent: LatentPanel, inspector: InspectorPanel) -> None:
    """The Export menu, then names and tips of the panels' tabs and controls (once the panels are in)."""
    from vae_desktop.ui.export_menu import add_export_menu  # Pillow and the core: not needed for the first paint

    add_export_menu(window, latent)
    name_plots(window)
    fill_status_tips(window)
