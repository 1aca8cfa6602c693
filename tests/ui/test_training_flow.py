"""Start -> metrics arrive -> Pause (nothing arrives) -> Resume -> Stop; the plots hold the trainer's numbers."""

from __future__ import annotations

import numpy as np
import torch

from tests.ui.helpers import wait_for_batches, wait_for_state


def test_start_pause_resume_stop_and_the_plots_hold_the_trainers_numbers(qtbot, window):
    with qtbot.waitSignal(window.epochFinished, timeout=30_000) as first_epoch:
        window.start_button.click()
        assert window.state in ("loading", "training")
    assert first_epoch.args[0].epoch == 1
    wait_for_batches(qtbot, window, 25)
    qtbot.waitUntil(lambda: window.rate_label.text().endswith("images/s"), timeout=5_000)

    window.pause_button.click()
    wait_for_state(qtbot, window, "paused")
    assert window.pause_button.text() == "Resume"
    paused_count = len(window.plots.batch_data()["global_step"])
    paused_step = window.trainer.progress.global_step
    qtbot.wait(600)
    assert len(window.plots.batch_data()["global_step"]) == paused_count
    assert window.trainer.progress.global_step == paused_step

    window.pause_button.click()
    wait_for_state(qtbot, window, "training")
    wait_for_batches(qtbot, window, paused_count + 10)

    window.stop_button.click()
    wait_for_state(qtbot, window, "ready")
    assert window.start_button.text() == "Continue"

    history = window.trainer.history
    plotted = window.plots.batch_data()
    recorded = history.batch_arrays()
    assert len(plotted["global_step"]) == window.trainer.progress.global_step
    np.testing.assert_array_equal(plotted["global_step"], recorded["global_step"])
    np.testing.assert_array_equal(plotted["recon"], recorded["recon"])
    np.testing.assert_array_equal(plotted["kl"], recorded["kl"])
    assert window.plots.epoch_data() == history.epochs
    assert all(np.isfinite(plotted["recon"])) and plotted["recon"][-1] < plotted["recon"][0]

    # The GUI's model copy ends with exactly the trainer's final weights.
    mirror_state = window.mirror.model.state_dict()
    for name, tensor in window.trainer.model.state_dict().items():
        torch.testing.assert_close(mirror_state[name], tensor.cpu(), rtol=0, atol=0)


def test_stop_then_start_continues_the_same_run(qtbot, window):
    window.start_button.click()
    wait_for_batches(qtbot, window, 10)
    window.stop_button.click()
    wait_for_state(qtbot, window, "ready")
    steps_before = window.trainer.progress.global_step
    first_trainer = window.trainer

    window.start_button.click()
    wait_for_batches(qtbot, window, steps_before + 10)
    window.stop_button.click()
    wait_for_state(qtbot, window, "ready")
    steps = window.plots.batch_data()["global_step"]
    np.testing.assert_array_equal(steps, np.arange(1, len(steps) + 1))  # no gap, no restart
    assert window.trainer is not first_trainer and window.trainer.model is first_trainer.model


def test_progress_bars_and_labels_follow_training(qtbot, make_window, settings):
    window = make_window(settings, epochs=2)
    window.start_button.click()
    wait_for_state(qtbot, window, "ready", timeout=60_000)
    assert window.progress.run_progress.value() == 1000
    assert "40 of 40 steps" in window.progress.run_progress.format()
    assert window.progress.epoch_progress.format().startswith("Epoch 2 of 2")
    assert "Epoch 2" in window.progress.latest_label.text()
    assert window.banner.kind == "info" and "finished" in window.banner.message()
    assert window.progress.time_label.text().startswith("Elapsed 0:0")
