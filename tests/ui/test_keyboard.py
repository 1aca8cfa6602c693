"""The keyboard drives the window: real key events for Space, the standard shortcuts and Tab."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QFileDialog, QWidget

from tests.ui.helpers import wait_for_batches, wait_for_state
from vae_desktop.ui.accessibility import user_controls
from vae_desktop.ui.keyboard import START_PAUSE_ACTION

CTRL = Qt.KeyboardModifier.ControlModifier


def focus(qtbot, widget: QWidget) -> None:
    widget.window().activateWindow()
    widget.setFocus(Qt.FocusReason.OtherFocusReason)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is widget, timeout=2000)


def test_space_starts_pauses_and_resumes_when_nothing_that_types_has_the_focus(qtbot, window):
    focus(qtbot, window.plots.canvas)  # the plots take the focus but do not use Space
    QTest.keyClick(window.plots.canvas, Qt.Key.Key_Space)
    wait_for_batches(qtbot, window, 3)
    QTest.keyClick(window.plots.canvas, Qt.Key.Key_Space)
    wait_for_state(qtbot, window, "paused")
    paused_at = len(window.plots.batch_data()["global_step"])
    QTest.keyClick(window.plots.canvas, Qt.Key.Key_Space)
    wait_for_state(qtbot, window, "training")
    wait_for_batches(qtbot, window, paused_at + 2)
    window.stop_training()
    wait_for_state(qtbot, window, "ready")


def test_space_types_into_a_field_and_presses_a_focused_button_instead(qtbot, window):
    qtbot.waitUntil(lambda: window.start_button.isEnabled(), timeout=5000)
    focus(qtbot, window.form.beta)
    window.form.beta.setText("1")
    window.form.beta.end(False)
    QTest.keyClick(window.form.beta, Qt.Key.Key_Space)
    assert window.form.beta.text() == "1 "
    window.form.beta.setText("1")

    log_scale = window.plots.log_scale
    focus(qtbot, log_scale)
    was = log_scale.isChecked()
    QTest.keyClick(log_scale, Qt.Key.Key_Space)
    assert log_scale.isChecked() is not was  # Space pressed the focused check box
    QTest.keyClick(window.form.seed, Qt.Key.Key_Space)  # a spin box's own field eats it too
    qtbot.wait(300)
    assert window.state == "idle" and window.controller.trainer is None  # nothing started


def test_standard_shortcuts_trigger_their_actions(qtbot, window, tmp_path, monkeypatch):
    window.activateWindow()
    qtbot.waitUntil(lambda: window.start_button.isEnabled(), timeout=5000)
    QTest.keyClick(window, Qt.Key.Key_Return, CTRL)  # Training ▸ Start
    wait_for_batches(qtbot, window, 3)
    QTest.keyClick(window, Qt.Key.Key_Period, CTRL)  # Training ▸ Stop
    wait_for_state(qtbot, window, "ready")

    with qtbot.waitSignal(window.controller.saved, timeout=10_000) as saved:
        QTest.keyClick(window, Qt.Key.Key_S, CTRL)  # File ▸ Save: the run folder is up to date
    assert saved.args == [window.controller.run_folder]
    target = tmp_path / "keyboard.vaeckpt"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    with qtbot.waitSignal(window.controller.saved, timeout=10_000):
        QTest.keyClick(window, Qt.Key.Key_S, CTRL | Qt.KeyboardModifier.ShiftModifier)  # File ▸ Save as a file
    assert target.stat().st_size > 0

    window.new_run()
    assert window.controller.trainer is None
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(target), ""))
    with qtbot.waitSignal(window.historyRestored, timeout=10_000):
        QTest.keyClick(window, Qt.Key.Key_O, CTRL)  # File ▸ Open
    assert window.controller.checkpoint_path == str(target) and window.mirror.model is not None

    QTest.keyClick(window, Qt.Key.Key_Q, CTRL)  # File ▸ Quit
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=5000)


def test_the_training_menu_names_space(window):
    action = window.findChild(QAction, START_PAUSE_ACTION)
    assert action is not None and action.text().endswith("\tSpace")
    assert action in window.menu_actions.training_menu.actions()


def test_tab_walks_the_settings_then_the_buttons_then_the_plots_then_the_panels(qtbot, window):
    qtbot.waitUntil(lambda: window.start_button.isEnabled(), timeout=5000)
    form = window.form
    focus(qtbot, form.dataset)
    order = []
    for _ in range(20):
        order.append(QApplication.focusWidget())
        QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
    expected = [form.dataset, form.z_dim, form.base_width, form.hidden, form.beta, form.lr, form.batch_size,
                form.epochs, form.seed, form.device, form.halves, form.stddev, form.kl_warmup_epochs, form.free_bits,
                window.start_button, window.plots.log_scale, window.plots.follow_latest, window.plots.canvas,
                window.side_tabs.tabBar(), form.dataset]
    got = [w.parentWidget() if w.parentWidget() in expected and w not in expected else w for w in order]
    assert got == expected  # (Pause and Stop are skipped while disabled; spin boxes focus their own field)


def test_every_control_has_a_tooltip_and_a_status_tip_and_every_plot_a_name(qtbot, window):
    with qtbot.waitSignal(window.epochFinished, timeout=30_000):
        window.start_button.click()
    window.stop_training()
    wait_for_state(qtbot, window, "ready")
    latent = window.side_tabs.widget(0)
    qtbot.waitUntil(lambda: len(latent.handles.names) == 2, timeout=10_000)

    controls = user_controls(window)
    assert len(controls) > 30  # the form, the buttons, the map's controls, the sliders, the inspector
    missing = [(type(c).__name__, c.accessibleName()) for c in controls if not c.toolTip()]
    assert not missing, f"controls without a tooltip: {missing}"
    no_status = [(type(c).__name__, c.toolTip()[:40]) for c in controls if not c.statusTip()]
    assert not no_status, f"controls without a status tip: {no_status}"

    plots = [w for w in window.findChildren(pg.GraphicsView)]
    assert len(plots) >= 8  # loss plots, latent map, six inspector charts
    assert all(p.accessibleName() and p.accessibleDescription() for p in plots)
    assert latent.map_view.accessibleName() == "Latent map"
    assert window.plots.canvas.accessibleName() == "Loss plots"

    actions = [a for a in window.findChildren(QAction) if a.text() and not a.isSeparator() and a.isVisible()]
    assert all(a.statusTip() for a in actions), [a.text() for a in actions if not a.statusTip()]

    # Hovering a control puts its status tip in the status bar.
    QTest.mouseMove(window.plots.log_scale)
    qtbot.waitUntil(lambda: window.statusBar().currentMessage() == window.plots.log_scale.statusTip(), timeout=2000)


def press_space_where_the_focus_is(window) -> None:
    QTest.keyClick(QApplication.focusWidget() or window, Qt.Key.Key_Space)


def test_space_after_clicking_pause_resumes_instead_of_stopping(qtbot, window):
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    QTest.mouseClick(window.start_button, Qt.MouseButton.LeftButton)
    wait_for_batches(qtbot, window, 3)
    QTest.mouseClick(window.pause_button, Qt.MouseButton.LeftButton)
    wait_for_state(qtbot, window, "paused")
    assert QApplication.focusWidget() not in (window.stop_button, window.pause_button)  # a click takes no focus
    press_space_where_the_focus_is(window)
    wait_for_state(qtbot, window, "training", "stopping")
    assert window.state == "training"  # resumed, as the README says; the run goes on
    press_space_where_the_focus_is(window)
    wait_for_state(qtbot, window, "paused", "stopping")
    assert window.state == "paused"
    window.stop_training()
    wait_for_state(qtbot, window, "ready")


def test_space_on_a_focused_run_button_is_the_run_toggle_never_stop(qtbot, window):
    QTest.keyClick(window, Qt.Key.Key_Return, CTRL)  # Training ▸ Start
    wait_for_batches(qtbot, window, 3)
    focus(qtbot, window.stop_button)  # reached with Tab, say, or moved there by Qt
    QTest.keyClick(window.stop_button, Qt.Key.Key_Space)
    wait_for_state(qtbot, window, "paused", "stopping")
    assert window.state == "paused"
    focus(qtbot, window.pause_button)  # now "Resume"
    QTest.keyClick(window.pause_button, Qt.Key.Key_Space)
    wait_for_state(qtbot, window, "training", "stopping")
    assert window.state == "training"
    window.stop_training()
    wait_for_state(qtbot, window, "ready")
