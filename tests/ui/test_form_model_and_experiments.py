"""The form's Model and Experiments fields reach the run: base width, hidden units, which half is μ,
how σ is made, KL warm-up and free bits (the same limits and words as the CLI's flags)."""

from __future__ import annotations

from PySide6.QtCore import QSettings

from tests.ui.conftest import SMALL_MODEL
from tests.ui.helpers import wait_for_batches, wait_for_state
from vae_desktop.core.checkpoint import load_checkpoint


def test_model_and_experiment_fields_train_that_model_and_lock_with_the_run(qtbot, window):
    form = window.form
    assert form.base_width.value() == SMALL_MODEL.base_width  # the window's model template is shown
    form.base_width.setValue(8)
    form.hidden.setValue(24)
    form.halves.setCurrentIndex(form.halves.findData("logstd-first"))
    form.stddev.setCurrentIndex(form.stddev.findData("softplus"))
    form.kl_warmup_epochs.setValue(3)
    form.free_bits.setText("0.25")
    window.start_button.click()
    wait_for_batches(qtbot, window, 3)
    model = window.controller.trainer.model.config
    assert (model.base_width, model.hidden, model.layout, model.stddev) == (8, 24, "logstd-first", "softplus")
    train = window.controller.trainer.config
    assert (train.kl_warmup_epochs, train.free_bits) == (3, 0.25)
    for field in (form.base_width, form.hidden, form.halves, form.stddev, form.kl_warmup_epochs, form.free_bits):
        assert not field.isEnabled()
    window.stop_button.click()
    wait_for_state(qtbot, window, "ready")
    saved = load_checkpoint(window.controller.checkpoint_path)
    assert (saved.model_config.layout, saved.model_config.stddev, saved.train_config.free_bits) == (
        "logstd-first", "softplus", 0.25)
    window.controller.new_run()
    assert form.halves.isEnabled() and form.halves.currentData() == "logstd-first"  # kept for the next run


def test_an_opened_run_shows_its_model(qtbot, window, make_window, tmp_path):
    form = window.form
    form.base_width.setValue(6)
    form.stddev.setCurrentIndex(form.stddev.findData("softplus"))
    window.start_button.click()
    wait_for_batches(qtbot, window, 2)
    window.stop_button.click()
    wait_for_state(qtbot, window, "ready")
    path = window.controller.checkpoint_path
    other = make_window(QSettings(str(tmp_path / "other.ini"), QSettings.Format.IniFormat))
    assert other.form.base_width.value() == SMALL_MODEL.base_width
    assert other.open_over_run(path)
    qtbot.waitUntil(lambda: other.form.base_width.value() == 6, timeout=20_000)
    assert other.form.stddev.currentData() == "softplus"


def test_a_bad_free_bits_value_disables_start_with_the_clis_words(window):
    form = window.form
    form.free_bits.setText("-1")
    assert not window.start_button.isEnabled()
    assert "Free bits" in form.error.text() and "-1" in form.error.text()
    form.free_bits.setText("0.5")
    assert window.start_button.isEnabled()
