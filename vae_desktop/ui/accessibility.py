"""Tooltips, status-bar tips and accessible names: every control says what it does, every plot what it shows.

Each control gets its tooltip where it is built; `fill_status_tips` then gives every control (and
menu action) without a status tip the first sentence of its tooltip, so hovering anything in the
window also explains it in the status bar. Plots and the latent map are custom-drawn, so a screen
reader has nothing to read unless they carry an accessible name and description: `name_plots`
sets those on the main window's plots (the panels name their own).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSlider,
    QAbstractSpinBox,
    QComboBox,
    QHeaderView,
    QLineEdit,
    QMenuBar,
    QScrollBar,
    QTabBar,
    QWidget,
)

if TYPE_CHECKING:
    from vae_desktop.ui.main_window import MainWindow

CONTROL_TYPES = (QAbstractButton, QComboBox, QAbstractSpinBox, QLineEdit, QAbstractSlider, QTabBar, QAbstractItemView)
_QT_INTERNAL = ("qt_", "ScrollLeftButton", "ScrollRightButton")


def is_user_control(widget: QWidget) -> bool:
    """A control the user operates, not a part Qt builds inside another control (a spin box's line
    edit, a combo box's popup list, scroll bars, table headers, tab-bar scroll arrows)."""
    if not isinstance(widget, CONTROL_TYPES) or isinstance(widget, (QScrollBar, QHeaderView)):
        return False
    if widget.objectName().startswith(_QT_INTERNAL) and not isinstance(widget, QTabBar):
        return False  # a tab widget's bar is named qt_tabwidget_tabbar but is the user's way to switch tabs
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, (QComboBox, QAbstractSpinBox, QMenuBar)) or parent.inherits("QComboBoxPrivateContainer"):
            return False
        parent = parent.parentWidget()
    return True


def user_controls(root: QWidget) -> list[QWidget]:
    return [w for w in root.findChildren(QWidget) if is_user_control(w)]


def first_sentence(text: str) -> str:
    """The tooltip's first sentence on one line, for the status bar."""
    plain = re.sub(r"<[^>]+>", "", text).replace("\n", " ").strip()
    match = re.match(r"(.+?[.:;!?])(\s|$)", plain)
    return (match.group(1) if match else plain).rstrip(":;")


def fill_status_tips(root: QWidget) -> None:
    """Give every control and action under `root` that has a tooltip but no status tip one."""
    for widget in user_controls(root):
        if not widget.statusTip() and widget.toolTip():
            widget.setStatusTip(first_sentence(widget.toolTip()))
    for action in root.findChildren(QAction):
        if not action.statusTip() and action.text() and not action.isSeparator():
            text = action.toolTip() if action.toolTip() != action.text().replace("&", "") else action.text()
            action.setStatusTip(first_sentence(text.split("\t")[0].replace("&", "").rstrip("…")))


def describe(widget: QWidget, name: str, description: str, status: str | None = None) -> None:
    """Accessible name and description (read by screen readers) and, if given, the status-bar tip.

    Plots get a status tip rather than a tooltip: a tooltip would cover what the mouse points at."""
    widget.setAccessibleName(name)
    widget.setAccessibleDescription(description)
    if status is not None:
        widget.setStatusTip(status)


def name_plots(window: MainWindow) -> None:
    """The main window's own plots and controls that have no visible label."""
    describe(
        window.plots.canvas, "Loss plots",
        "Reconstruction loss and KL divergence in nats per image over the epochs: per batch, smoothed, "
        "and train and test values at the end of each epoch.",
        "Loss per image over the epochs: drag to pan, wheel to zoom, hover to read the values.",
    )
    describe(
        window.recon_strip, "Test images and reconstructions",
        "Ten test images above their reconstructions by the current model; click one to inspect it.",
        "Test images above their reconstructions: click one to inspect it.",
    )
    describe(window.progress.epoch_progress, "Epoch progress", "Steps done in the current epoch.")
    describe(window.progress.run_progress, "Run progress", "Steps done in the whole run.")
    window.progress.epoch_progress.setToolTip("Steps done in the current epoch")
    window.progress.run_progress.setToolTip("Steps done of all the epochs of this run")
    window.banner.close_button.setAccessibleName("Dismiss message")
    tips = {
        "Latent map": "The encoded test set on a plane through latent space, with handles you can drag to decode",
        "Encoder inspector": "How the encoder's 2·z_dim outputs become a mean, a stddev and a sample, step by step",
    }
    tabs = window.side_tabs
    for index in range(tabs.count()):
        tip = tips.get(tabs.tabText(index))
        if tip:
            tabs.setTabToolTip(index, tip)
    tabs.tabBar().setToolTip("Side panels: the latent map and the encoder inspector")
