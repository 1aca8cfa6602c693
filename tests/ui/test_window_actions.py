"""The window's menus and actions are reached by reference (`window.menu_actions`), never by their
words: a translated or re-worded menu bar still gets its Theme and Export menus and Space."""

from __future__ import annotations

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from vae_desktop.ui.keyboard import START_PAUSE_ACTION
from vae_desktop.ui.main_window import MainWindow
from vae_desktop.ui.window_polish import polish_window


def test_every_action_of_the_registry_is_in_its_menu(window):
    acts = window.menu_actions
    bar = window.menuBar().actions()
    for menu in (acts.file_menu, acts.training_menu, acts.view_menu, acts.help_menu):
        assert menu.menuAction() in bar
    assert {acts.new_run, acts.open, acts.save, acts.save_as, acts.quit} <= set(acts.file_menu.actions())
    assert acts.recent_menu.menuAction() in acts.file_menu.actions()
    assert {acts.start, acts.pause, acts.stop} <= set(acts.training_menu.actions())
    assert {acts.log_scale, acts.follow_latest} <= set(acts.view_menu.actions())
    assert acts.about in acts.help_menu.actions()
    # The Export menu took the metrics action over, and sits before Help.
    assert acts.export_metrics not in acts.file_menu.actions()


def test_the_view_menu_and_the_plot_toggles_are_one_setting(window):
    acts = window.menu_actions
    acts.log_scale.trigger()
    assert window.plots.log_scale.isChecked() and acts.log_scale.isChecked()
    window.plots.follow_latest.click()
    assert acts.follow_latest.isChecked()


def test_renamed_menus_still_get_the_theme_menu_and_space(qtbot, settings):
    window = MainWindow(settings=settings)
    qtbot.addWidget(window)
    acts = window.menu_actions
    for menu, title in ((acts.file_menu, "&Datei"), (acts.training_menu, "T&raining"), (acts.view_menu, "&Ansicht"),
                        (acts.help_menu, "&Hilfe")):
        menu.setTitle(title)  # as a translation would
    acts.about.setText("Über VAE Desktop")
    polish_window(window)
    theme = window.findChild(QMenu, "themeMenu")
    assert theme is not None and theme.menuAction() in acts.view_menu.actions()
    space = window.findChild(QAction, START_PAUSE_ACTION)
    assert space in acts.training_menu.actions()
    assert acts.about.objectName() == "aboutAction" and acts.about.statusTip()

