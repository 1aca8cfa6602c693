"""Light and dark: a system colour-scheme switch recolours the palette and every plot, live."""

from __future__ import annotations

from collections.abc import Iterator

import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette

from tests.ui.helpers import wait_for_state
from vae_desktop.ui.theme import DARK, LIGHT, SYSTEM, Theme, palette_for, theme_manager


def system_switches_to(scheme: Qt.ColorScheme) -> None:
    """What Qt emits when the desktop's colour scheme changes."""
    QGuiApplication.styleHints().colorSchemeChanged.emit(scheme)


@pytest.fixture
def system_light(qapp) -> Iterator[None]:
    manager = theme_manager()
    manager.set_preference(SYSTEM)
    system_switches_to(Qt.ColorScheme.Light)
    yield
    manager.set_preference(SYSTEM)
    system_switches_to(Qt.ColorScheme.Light)


def background(view: pg.GraphicsView) -> str:
    return view.backgroundBrush().color().name()


def pixel(widget, x: int, y: int) -> str:
    return widget.grab().toImage().pixelColor(x, y).name()


def assert_window_in(qtbot, window, theme: Theme) -> None:
    app_palette = QGuiApplication.palette()
    assert app_palette.color(QPalette.ColorRole.Window).name() == theme.window
    # Widgets take the new application palette from an event the loop delivers.
    qtbot.waitUntil(lambda: window.palette().color(QPalette.ColorRole.Base).name() == theme.base, timeout=2000)

    plots = window.plots
    assert background(plots.canvas) == theme.plot_background
    assert pixel(plots.canvas, 2, 2) == theme.plot_background
    for loss_plot, color in ((plots.recon, theme.recon), (plots.kl, theme.kl)):
        assert loss_plot.smooth.opts["pen"].color().name() == color
        assert loss_plot.train.opts["symbolBrush"].color().name() == theme.train
        assert loss_plot.plot.getAxis("left").textPen().color().name() == theme.plot_axis
        assert theme.plot_axis in loss_plot.plot.titleLabel.text  # the inline legend was rewritten

    latent = window.side_tabs.widget(0)
    map_view = latent.map_view
    assert background(map_view) == theme.map_background
    assert map_view.getPlotItem().getAxis("bottom").textPen().color().name() == theme.map_axis_text
    names = latent.handles.names
    assert names, "the map places two handles once the test set is encoded"
    selected = latent.handles.selected.name
    for name in names:
        expected = theme.handle_selected if name == selected else theme.handle
        assert map_view.handle_item(name).pen.color().name() == expected

    inspector = window.side_tabs.widget(1)
    charts = [inspector.raw_chart, inspector.exp_step_chart, inspector.exp_curve_chart, inspector.sample_chart,
              inspector.kl_chart, inspector.heatmap]
    for chart in charts:
        assert background(chart.plot) == theme.plot_background
        assert chart.plot.getPlotItem().getAxis("bottom").textPen().color().name() == theme.text
    assert inspector.kl_chart.test_mean.opts["pen"].color().name() == theme.plot_ink

    strip = window.recon_strip
    assert pixel(strip, 2, 2) == theme.base  # the strip's background is the palette's base colour


def test_a_system_switch_to_dark_and_back_recolours_everything_live(qtbot, window, system_light):
    with qtbot.waitSignal(window.epochFinished, timeout=30_000):
        window.start_button.click()
    window.stop_training()
    wait_for_state(qtbot, window, "ready")
    latent = window.side_tabs.widget(0)
    qtbot.waitUntil(lambda: len(latent.handles.names) == 2, timeout=10_000)
    window.side_tabs.setCurrentIndex(1)
    window.recon_strip.testImageSelected.emit(3)  # the inspector shows an image: all its charts are drawn
    assert_window_in(qtbot, window, LIGHT)

    with qtbot.waitSignal(theme_manager().changed, timeout=1000) as switched:
        system_switches_to(Qt.ColorScheme.Dark)
    assert switched.args == [DARK]
    assert_window_in(qtbot, window, DARK)

    system_switches_to(Qt.ColorScheme.Light)
    assert_window_in(qtbot, window, LIGHT)


def test_the_users_choice_overrides_the_system_and_is_remembered(qtbot, window, settings, system_light):
    manager = theme_manager()
    manager.set_preference("dark")
    assert background(window.plots.canvas) == DARK.plot_background
    system_switches_to(Qt.ColorScheme.Light)  # the desktop switching does not undo the user's choice
    assert manager.theme is DARK
    manager.save(settings)
    manager.set_preference(SYSTEM)
    assert manager.theme is LIGHT
    manager.restore(settings)
    assert manager.theme is DARK and manager.preference == "dark"


def test_every_palette_role_differs_between_light_and_dark_where_it_should():
    light, dark = palette_for(LIGHT), palette_for(DARK)
    role = QPalette.ColorRole
    for color_role in (role.Window, role.WindowText, role.Base, role.Text, role.Button, role.ButtonText):
        assert light.color(color_role) != dark.color(color_role)
    # Text must stay readable: a large lightness gap between text and its background in both themes.
    for palette in (light, dark):
        gap = abs(palette.color(role.Text).lightness() - palette.color(role.Base).lightness())
        assert gap > 150
    assert QColor(DARK.plot_background).lightness() < 60 < 200 < QColor(LIGHT.plot_background).lightness()


def test_view_theme_menu_switches_and_remembers(qtbot, window, settings, system_light):
    from PySide6.QtGui import QAction

    dark = window.findChild(QAction, "theme_dark")
    dark.trigger()
    assert theme_manager().theme is DARK and dark.isChecked()
    assert background(window.plots.canvas) == DARK.plot_background
    assert settings.value("view/theme") == "dark"
    window.findChild(QAction, "theme_system").trigger()
    assert theme_manager().theme is LIGHT and settings.value("view/theme") == "system"
