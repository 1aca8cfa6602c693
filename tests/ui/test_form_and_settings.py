"""The settings form validates as you type; window layout and last-used settings persist."""

from __future__ import annotations

from PySide6.QtCore import QSettings

from tests.ui.helpers import wait_for_batches, wait_for_state


def test_bad_hyperparameters_disable_start_and_say_what_is_wrong(window):
    form = window.form
    assert window.start_button.isEnabled()

    form.lr.setText("fast")
    assert not window.start_button.isEnabled()
    assert form.error.isVisibleTo(window) and "Learning rate must be a number" in form.error.text()
    assert form.lr.property("invalid") is True

    form.lr.setText("0")
    assert "Learning rate must be a number greater than 0" in form.error.text()
    form.beta.setText("-1")
    assert "β (KL weight)" in form.error.text() and not window.start_button.isEnabled()

    form.lr.setText("2e-3")
    form.beta.setText("0.5")
    assert window.start_button.isEnabled() and not form.error.isVisibleTo(window)
    assert form.settings().train.lr == 2e-3 and form.settings().train.beta == 0.5


def test_every_field_explains_itself(window):
    form = window.form
    for field in (form.dataset, form.z_dim, form.beta, form.lr, form.batch_size, form.epochs, form.seed, form.device):
        assert len(field.toolTip()) > 30


def test_the_dataset_list_offers_builtin_torchvision_and_folder_choices(window, tmp_path):
    form = window.form
    names = [form.dataset.itemData(i) for i in range(form.dataset.count())]
    assert names[0] == "shapes" and form.dataset_name() == "shapes"
    assert {"mnist", "fashion-mnist", "kmnist", "cifar10"} <= set(names)
    assert form.dataset.itemText(form.dataset.count() - 1) == "Open image folder…"
    form.add_folder(str(tmp_path))
    assert form.dataset_name() == f"folder:{tmp_path}"


def test_a_batch_larger_than_the_dataset_is_a_clear_error(qtbot, make_window, settings):
    window = make_window(settings, batch_size=5000)
    window.start_button.click()
    wait_for_state(qtbot, window, "idle")
    assert window.banner.kind == "error" and "larger than the training set" in window.banner.message()
    window.form.batch_size.setValue(100)
    window.start_button.click()
    wait_for_batches(qtbot, window, 3)


def test_run_defining_fields_lock_during_a_run_and_unlock_for_a_new_one(qtbot, window):
    window.start_button.click()
    wait_for_batches(qtbot, window, 3)
    assert not window.form.z_dim.isEnabled() and not window.form.lr.isEnabled()
    window.stop_button.click()
    wait_for_state(qtbot, window, "ready")
    assert window.form.lr.isEnabled() and not window.form.z_dim.isEnabled()
    assert "New run" in window.form.z_dim.toolTip()
    window.controller.new_run()
    assert window.form.z_dim.isEnabled() and window.state == "idle"
    assert len(window.plots.batch_data()["global_step"]) == 0 and window.mirror.model is None


def test_geometry_splitters_and_last_settings_persist(qtbot, make_window, tmp_path):
    path = str(tmp_path / "persist.ini")
    first = make_window(QSettings(path, QSettings.Format.IniFormat))
    first.resize(790, 700)  # the offscreen screen is 800 x 800
    first.main_splitter.setSizes([250, 300, 240])
    qtbot.wait(10)
    saved_sizes = first.main_splitter.sizes()
    first.form.lr.setText("3e-4")
    first.form.beta.setText("4")
    first.form.z_dim.setValue(7)
    first.form.epochs.setValue(42)
    first.plots.log_scale.setChecked(True)
    first.close()

    second = make_window(QSettings(path, QSettings.Format.IniFormat), set_form=False)
    assert (second.width(), second.height()) == (790, 700)
    second.show()
    qtbot.wait(10)
    assert second.main_splitter.sizes() == saved_sizes
    assert second.form.lr.text() == "3e-4" and second.form.beta.text() == "4"
    assert second.form.z_dim.value() == 7 and second.form.epochs.value() == 42
    assert second.plots.log_scale.isChecked() and second.menu_actions.log_scale.isChecked()


def test_a_refused_number_that_snaps_back_on_tab_clears_its_error(qtbot, window):
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from tests.ui.test_bad_input import type_into

    qtbot.waitUntil(window.start_button.isEnabled, timeout=5000)
    window.activateWindow()
    for spin in (window.form.z_dim, window.form.epochs):
        good = spin.text()
        type_into(spin, "0")
        assert window.form.error.isVisibleTo(window) and not window.start_button.isEnabled()
        QTest.keyClick(spin.lineEdit(), Qt.Key.Key_Tab)  # the box puts its last good number back
        assert spin.text() == good
        assert not window.form.error.isVisibleTo(window) and spin.property("invalid") is False
        assert window.start_button.isEnabled()
