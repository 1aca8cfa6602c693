"""What the window records about a run is the run's: saved steps, elapsed time, the report's checkpoint."""

from __future__ import annotations

import json
import time
from pathlib import Path

from tests.ui.helpers import wait_for_batches, wait_for_state
from tests.ui.test_status_messages import ModalWatch
from vae_desktop.core.checkpoint import load_checkpoint
from vae_desktop.core.report import CONFIG_JSON
from vae_desktop.ui.export_menu import ExportController


def elapsed_seconds(window) -> int:
    """The 'Elapsed m:ss' the progress box shows, in seconds."""
    text = window.progress.time_label.text().split("Elapsed ")[1].split(" ·")[0]
    minutes, seconds = text.split(":")[-2:]
    return int(minutes) * 60 + int(seconds)


def test_continue_keeps_the_elapsed_time_of_the_run(qtbot, window):
    window.start_training()
    qtbot.waitUntil(lambda: window.state == "training" and elapsed_seconds(window) >= 2, timeout=30_000)
    window.stop_training()
    wait_for_state(qtbot, window, "ready")
    before = elapsed_seconds(window)
    assert before >= 2

    window.start_training()  # Continue
    wait_for_state(qtbot, window, "training")
    qtbot.wait(100)
    assert elapsed_seconds(window) >= before  # the run's clock goes on, it does not start at 0:00
    window.stop_training()
    wait_for_state(qtbot, window, "ready")


def test_a_save_made_while_training_is_recorded_at_the_step_it_wrote(qtbot, make_window, settings, tmp_path):
    window = make_window(settings, epochs=1)  # 20 steps
    window.start_training()
    wait_for_batches(qtbot, window, 2)
    path = tmp_path / "early.vaeckpt"
    window.save_checkpoint(str(path))  # served by the training thread at its next gap between steps
    trainer = window.controller.trainer
    deadline = time.monotonic() + 60
    while not trainer.finished and time.monotonic() < deadline:  # the GUI is busy meanwhile: the result waits
        time.sleep(0.02)
    wait_for_state(qtbot, window, "ready", timeout=30_000)

    written = load_checkpoint(path).progress.global_step
    assert written < trainer.progress.global_step == 20  # the copy holds the step it was written at
    latest = Path(window.controller.run_folder) / "checkpoints" / "latest.vaeckpt"
    assert load_checkpoint(latest).progress.global_step == 20  # the run folder holds all of it
    assert not window.controller.has_unsaved_progress and not window.isWindowModified()
    assert window.controller.saved_step == 20
    watch = ModalWatch()  # New run has nothing to ask about: the finished epoch is in the run folder
    try:
        window.new_run()
        qtbot.wait(100)
    finally:
        watch.stop()
    assert watch.seen == [] and not window.controller.has_run


def test_the_reports_config_names_the_checkpoint_only_when_it_holds_the_reported_state(
    qtbot, make_window, settings, tmp_path
):
    window = make_window(settings, epochs=1)
    window.start_training()
    wait_for_state(qtbot, window, "ready", timeout=30_000)
    path = tmp_path / "one-epoch.vaeckpt"
    assert window.save_checkpoint(str(path))
    window.form.epochs.setValue(2)
    window.start_training()
    qtbot.waitUntil(lambda: len(window.plots.epoch_data()) == 2 and window.state == "ready", timeout=30_000)
    exporter = window.findChild(ExportController)

    config = json.loads((exporter.export_report(tmp_path / "r1") / CONFIG_JSON).read_text())
    assert config["progress"]["global_step"] == 40
    latest = Path(window.controller.run_folder) / "checkpoints" / "latest.vaeckpt"
    assert config["checkpoint"] == str(latest)  # the run folder holds epoch 2, as the report does
    assert "older_checkpoint" not in config  # the copy saved after epoch 1 is not the run's file
    assert load_checkpoint(path).progress.global_step == 20
