"""First run: the window opens on shapes ready to train with a hint; About names the versions and device."""

from __future__ import annotations

import importlib.metadata
import platform

from PySide6.QtCore import qVersion
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QLabel

from tests.ui.helpers import wait_for_state
from vae_desktop import __version__
from vae_desktop.ui.about_dialog import AboutDialog


def hint(window) -> QLabel:
    label = window.findChild(QLabel, "firstRunHint")
    assert label is not None
    return label


def test_a_first_start_is_ready_to_train_on_shapes_with_a_hint_where_to_click(qtbot, make_window, settings):
    window = make_window(settings, set_form=False)  # nothing chosen: what a new user gets
    assert window.form.dataset_name() == "shapes"
    qtbot.waitUntil(lambda: window.start_button.isEnabled(), timeout=5000)
    label = hint(window)
    assert label.isVisible()
    assert "Start" in label.text() and "Space" in label.text() and "Shapes" in label.text()
    canvas = window.plots.canvas.geometry()
    assert label.geometry().width() <= canvas.width() and label.y() >= 0  # on the plots, not cut off

    window.form.epochs.setValue(1)
    window.form.batch_size.setValue(100)
    window.start_button.click()
    qtbot.waitUntil(lambda: not label.isVisible(), timeout=5000)
    wait_for_state(qtbot, window, "ready", timeout=60_000)
    assert not label.isVisible()  # it does not come back once there is something to look at


def test_no_hint_over_a_history_from_a_checkpoint(qtbot, make_window, settings, tmp_path):
    first = make_window(settings, epochs=1)
    first.start_button.click()
    wait_for_state(qtbot, first, "ready", timeout=60_000)
    path = tmp_path / "run.vaeckpt"
    assert first.save_checkpoint(str(path))
    qtbot.waitUntil(path.exists, timeout=10_000)

    second = make_window(settings)
    with qtbot.waitSignal(second.historyRestored, timeout=10_000):
        second.open_checkpoint(str(path))
    assert not hint(second).isVisible()


def test_about_names_the_app_python_torch_qt_pyqtgraph_and_the_device(qtbot, window):
    window.menu_actions.about.trigger()
    dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, AboutDialog) and w.isVisible())
    qtbot.addWidget(dialog)
    values = {name: label.text() for name, label in dialog.value_labels.items()}
    assert values["VAE Desktop"] == __version__
    assert values["Python"].startswith(platform.python_version())
    assert values["PyTorch"].startswith(importlib.metadata.version("torch").split("+")[0])
    assert values["Qt"] == qVersion()
    assert values["pyqtgraph"] == importlib.metadata.version("pyqtgraph")
    assert values["Device in use"] == window.device_label.text() == window.controller.status.device
    assert values["Device in use"].startswith("CPU")

    dialog.copy_button.click()
    copied = QGuiApplication.clipboard().text()
    assert f"VAE Desktop: {__version__}" in copied and f"Device: {window.device_label.text()}" in copied
    dialog.close()
