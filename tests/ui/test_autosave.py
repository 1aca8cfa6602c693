"""The window's own runs are run folders: trained runs are recorded as they train, a kill -9 loses
at most the epoch in progress and the next start offers the run back, and Save as copies a run
that opens again. Real windows, real processes, real files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QSettings

from tests.ui.helpers import wait_for_batches, wait_for_state
from vae_desktop.core.checkpoint import load_checkpoint
from vae_desktop.ui import file_dialogs
from vae_desktop.ui.window_settings import RUNS_FOLDER_KEY

ROOT = Path(__file__).resolve().parents[2]


def lines_of(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]


def test_a_window_run_is_recorded_in_its_run_folder(qtbot, make_window, settings, tmp_path):
    window = make_window(settings, epochs=2)
    window.start_training()
    wait_for_state(qtbot, window, "ready", timeout=60_000)
    folder = Path(window.controller.run_folder)
    assert folder.parent == tmp_path / "runs"  # the runs folder setting
    assert folder.name == f"{datetime.now():%Y-%m-%d}-shapes-z2"
    info = json.loads((folder / "run.json").read_text())
    assert info["status"] == "finished" and info["kind"] == "window"
    rows = lines_of(folder)
    batches = [r for r in rows if r.get("type") == "batch"]
    epochs = [r for r in rows if r.get("type") == "epoch"]
    assert [e["epoch"] for e in epochs] == [1, 2]
    assert batches and batches[-1]["global_step"] == 40  # 20 steps per epoch
    latest = load_checkpoint(folder / "checkpoints" / "latest.vaeckpt")
    assert latest.progress.epoch == 2 and latest.progress.global_step == 40
    assert (folder / "checkpoints" / "best.vaeckpt").is_file()
    assert not window.isWindowModified()  # nothing unsaved: the folder holds it all
    assert window.windowTitle().startswith(folder.name)


def test_a_runs_folder_that_cannot_be_made_stops_start_with_the_reason(qtbot, make_window, settings, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    settings.setValue(RUNS_FOLDER_KEY, str(blocker / "runs"))
    window = make_window(settings)
    window.start_training()
    qtbot.waitUntil(lambda: window.banner.kind == "error", timeout=20_000)
    assert "could not make a run folder" in window.banner.message() and "Runs folder" in window.banner.message()
    wait_for_state(qtbot, window, "idle", "ready")
    assert not window.is_training


DRIVER = textwrap.dedent("""
    from PySide6.QtCore import QTimer
    from vae_desktop.core.config import ModelConfig
    from vae_desktop.core.datasets.shapes import load_shapes
    from vae_desktop.ui.app import build_main_window, create_application

    app = create_application()
    window = build_main_window(model_template=ModelConfig(z_dim=2, base_width=8, hidden=64), training_threads=1)
    window.provide_dataset(load_shapes(num_train=2000, num_test=500), "shapes")
    window.form.epochs.setValue(500)
    window.form.batch_size.setValue(100)
    window.form.z_dim.setValue(2)
    window.show()
    window.epochFinished.connect(lambda m: print("EPOCH", m.epoch, flush=True))
    QTimer.singleShot(0, window.start_training)
    app.exec()
""")


def test_kill_9_during_training_then_the_next_start_offers_the_run_back(qtbot, make_window, tmp_path):
    """A real window process trains, is killed with SIGKILL mid-run; a new window on the same user
    folders offers the interrupted run (and Recent runs marks it) and reopens it at its last epoch."""
    env = dict(os.environ, VAE_DESKTOP_DATA_DIR=str(tmp_path / "data"), XDG_CONFIG_HOME=str(tmp_path / "config"),
               QT_QPA_PLATFORM="offscreen", OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-c", DRIVER], env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        deadline = time.monotonic() + 180
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.strip() == "EPOCH 2" or time.monotonic() > deadline:
                break
        assert line.strip() == "EPOCH 2", "the window process did not train two epochs"
        time.sleep(0.5)  # into epoch 3: that one is lost
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    runs = tmp_path / "data" / "runs"
    (folder,) = list(runs.iterdir())
    assert json.loads((folder / "run.json").read_text())["status"] == "running"  # nobody said how it ended
    saved = load_checkpoint(folder / "checkpoints" / "latest.vaeckpt").progress.epoch
    assert saved >= 2

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue(RUNS_FOLDER_KEY, str(runs))
    window = make_window(settings, set_form=False)
    window.run_folders.offer_interrupted()  # what start-up does (build_main_window did it too)
    offer = window.run_folders.offer
    qtbot.waitUntil(lambda: offer.folder == str(folder), timeout=20_000)
    assert folder.name in offer.text.text() and "interrupted" in offer.text.text()
    qtbot.waitUntil(lambda: any(r.interrupted for r in window.run_folders.runs), timeout=20_000)
    labels = [a.text() for a in window.menu_actions.recent_runs_menu.actions()]
    assert any(folder.name in text and "interrupted" in text for text in labels)

    offer.reopen_button.click()
    qtbot.waitUntil(lambda: window.controller.has_run, timeout=30_000)
    assert window.controller.run_folder == str(folder)
    assert window.controller.saved_step == saved * 20  # its last epoch, every step of it
    assert window.form.epochs.value() == 500  # its settings
    assert not offer.isVisible()
    qtbot.waitUntil(lambda: not any(r.interrupted for r in window.run_folders.runs), timeout=20_000)

    window.form.epochs.setValue(saved + 1)  # continue it here, in its own folder
    window.start_training()
    wait_for_state(qtbot, window, "ready", timeout=60_000)
    info = json.loads((folder / "run.json").read_text())
    assert info["status"] == "finished" and info["checkpoints"]["epochs_completed"] == saved + 1
    epochs = [r["epoch"] for r in lines_of(folder) if r.get("type") == "epoch"]
    assert epochs[-1] == saved + 1


def test_save_as_copies_a_run_folder_that_opens_with_its_history(qtbot, make_window, settings, tmp_path):
    window = make_window(settings, epochs=1)
    window.start_training()
    wait_for_state(qtbot, window, "ready", timeout=60_000)
    copy = tmp_path / "elsewhere" / "my-run"
    assert file_dialogs.save_run_as(window, str(copy))
    qtbot.waitUntil(lambda: (copy / "run.json").is_file(), timeout=20_000)
    assert window.controller.run_folder != str(copy)  # the run stays in its own folder

    other = make_window(settings)
    with qtbot.waitSignal(other.controller.runFolderOpened, timeout=30_000):
        assert other.open_checkpoint(str(copy))
    assert other.controller.run_folder == str(copy)
    assert other.controller.saved_step == 20
    assert len(other.plots.batch_data()["global_step"]) == 20  # the batch curves came along
    assert [e.epoch for e in other.plots.epoch_data()] == [1]
    as_file = tmp_path / "one.vaeckpt"
    assert file_dialogs.save_run_as(window, str(as_file))
    qtbot.waitUntil(as_file.is_file, timeout=20_000)
    assert load_checkpoint(as_file).progress.global_step == 20
    assert window.controller.run_folder is not None and Path(window.controller.checkpoint_path).name == "latest.vaeckpt"


def test_a_checkpoint_file_continued_in_the_window_gets_a_run_folder_with_its_history(
    qtbot, make_window, settings, tmp_path
):
    window = make_window(settings, epochs=1)
    window.start_training()
    wait_for_state(qtbot, window, "ready", timeout=60_000)
    checkpoint = tmp_path / "one.vaeckpt"
    assert file_dialogs.save_run_as(window, str(checkpoint))
    qtbot.waitUntil(checkpoint.is_file, timeout=20_000)
    first = window.controller.run_folder

    other = make_window(settings)
    assert other.open_checkpoint(str(checkpoint))
    other.form.epochs.setValue(2)
    other.start_training()
    wait_for_batches(qtbot, other, 1)
    wait_for_state(qtbot, other, "ready", timeout=60_000)
    folder = Path(other.controller.run_folder)
    assert str(folder) != first and folder.parent == tmp_path / "runs"
    epochs = [r["epoch"] for r in lines_of(folder) if r.get("type") == "epoch"]
    assert epochs == [1, 2]  # the checkpoint's own epoch first: the folder holds the whole run
    assert load_checkpoint(checkpoint).progress.epoch == 1  # the file itself was not written again
