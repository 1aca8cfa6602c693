"""The latent map's context menus: on a handle, and on an empty spot of the map."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QMenu, QWidget

from vae_desktop.core.explorer import ExplorerState


def handle_menu(parent: QWidget, state: ExplorerState, name: str) -> QMenu:
    menu = QMenu(parent)
    menu.addAction(f"Delete handle {name}", lambda: state.remove_handle(name))
    snap = menu.addAction("Back onto the map plane", lambda: state.snap_to_plane(name))
    snap.setEnabled(name in state.handles and not state.on_plane(state.handles.get(name).z))
    menu.addSeparator()
    menu.addAction(f"Interpolate from {name}", lambda: state.set_pair_end(0, name))
    menu.addAction(f"Interpolate to {name}", lambda: state.set_pair_end(1, name))
    return menu


def map_menu(
    parent: QWidget, add_here: Callable[[], None], fit_view: Callable[[], None], open_image: Callable[[], None]
) -> QMenu:
    menu = QMenu(parent)
    menu.addAction("Add handle here", add_here)
    menu.addAction("Fit view", fit_view)
    menu.addAction("Open image…", open_image)
    return menu
