"""Experiments ▸ …: an experiment is a new run with one change, compared with the run it started from."""

from __future__ import annotations

from tests.ui.helpers import wait_for_batches, wait_for_state
from vae_desktop.ui.experiments_menu import EXPERIMENTS


def test_swap_the_halves_trains_a_new_run_compared_with_the_normal_one(qtbot, window):
    window.start_button.click()
    wait_for_batches(qtbot, window, 3)
    window.stop_button.click()
    wait_for_state(qtbot, window, "ready")
    normal_folder = window.controller.run_folder
    assert window.controller.trainer.model.config.layout == "mean-first"

    window.experiments.actions["swap"].trigger()
    wait_for_state(qtbot, window, "training")
    assert window.controller.run_folder != normal_folder
    assert window.controller.trainer.model.config.layout == "logstd-first"
    comparison = window.comparison.comparison
    qtbot.waitUntil(lambda: len(comparison) == 2, timeout=20_000)
    labels = comparison.labels()
    assert any("logstd-first" in label for label in labels.values()), labels
    assert any("mean-first" in label for label in labels.values()), labels
    window.stop_button.click()
    wait_for_state(qtbot, window, "ready")


def test_an_experiment_while_training_is_refused_with_a_message(qtbot, window):
    window.start_button.click()
    wait_for_batches(qtbot, window, 2)
    folder = window.controller.run_folder
    assert not window.experiments.run(EXPERIMENTS[0])
    assert "Stop training before starting an experiment" in window.banner.message()
    assert window.controller.run_folder == folder and window.controller.is_training
    window.stop_button.click()
    wait_for_state(qtbot, window, "ready")


def test_every_experiment_changes_exactly_its_setting(window):
    form = window.form
    before = form.settings()
    for experiment in EXPERIMENTS:
        experiment.apply(form)
        after = form.settings()
        changed = {name for name in ("beta", "kl_warmup_epochs", "free_bits") if
                   getattr(after.train, name) != getattr(before.train, name)}
        changed |= {name for name in ("layout", "stddev") if
                    getattr(after.architecture, name) != getattr(before.architecture, name)}
        assert len(changed) == 1, (experiment.key, changed)
        form.set_values(before.dataset, before.z_dim, before.train, before.architecture)
