"""Faults: saves that cannot be written (a full disk, a read-only disk, a folder that is a file), and
exceptions inside a slot or the training thread. Each is shown, logged, and costs the user nothing."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.ui.helpers import wait_for_batches, wait_for_state
from vae_desktop.core import trainer as trainer_module
from vae_desktop.core.checkpoint import load_checkpoint
from vae_desktop.ui.logging_setup import show_uncaught_exceptions
from vae_desktop.ui.main_window import MainWindow

TINY_DISK = "64k"  # smaller than any checkpoint of the test model (~200 KB with its optimizer state)


def _mount(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mount", *args], capture_output=True, text=True)


@pytest.fixture
def disk(tmp_path) -> Iterator[Callable[[str], Path]]:
    """Real small disks (tmpfs): `disk("64k")` fills up like a full disk, `disk("ro")` is read-only.

    Root ignores permission bits but not a full or read-only file system. Mounting needs root with
    CAP_SYS_ADMIN; elsewhere these tests are skipped (the faults without a mount still run)."""
    mounted: list[Path] = []

    def make(options: str) -> Path:
        if shutil.which("mount") is None:
            pytest.skip("no mount command")
        point = tmp_path / f"disk{len(mounted)}"
        point.mkdir()
        size = "size=1m,ro" if options == "ro" else f"size={options}"
        result = _mount("-t", "tmpfs", "-o", size, "tmpfs", str(point))
        if result.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here ({result.stderr.strip()})")
        mounted.append(point)
        return point

    yield make
    for point in mounted:
        subprocess.run(["umount", "-l", str(point)], capture_output=True)


def _files(folder: Path) -> list[Path]:
    """What is in `folder` besides a run lock's files: `.NAME.lock` (stays once saved to) and `.NAME.lock.json`
    (who holds it, while the window keeps that file)."""
    return [p for p in folder.iterdir() if not p.name.endswith((".lock", ".lock.json"))]


def _run_with_progress(qtbot, window: MainWindow) -> int:
    window.start_button.click()
    wait_for_batches(qtbot, window, 6)
    window.stop_button.click()
    wait_for_state(qtbot, window, "ready")
    return window.trainer.progress.global_step


def _state(window: MainWindow) -> tuple:
    weights = {k: v.detach().clone() for k, v in window.trainer.model.state_dict().items()}
    return window.trainer.progress, weights, window.plots.batch_data()["global_step"].copy(), window.windowTitle()


def _assert_state(window: MainWindow, before: tuple) -> None:
    progress, weights, steps, title = before
    assert window.trainer.progress == progress
    for name, value in window.trainer.model.state_dict().items():
        assert (value == weights[name]).all(), name
    np.testing.assert_array_equal(window.plots.batch_data()["global_step"], steps)
    assert window.windowTitle() == title and not window.isWindowModified()  # the run folder holds it all


def _save_fails(window: MainWindow, target: Path, expected: str) -> None:
    window.banner.dismiss()
    assert not window.save_checkpoint(str(target))
    message = window.banner.message()
    assert window.banner.kind == "error" and str(target) in message and expected in message, message
    assert "Nothing was lost" in message
    assert Path(window.controller.checkpoint_path).name == "latest.vaeckpt"  # the run's file is still its folder's


def test_a_full_disk_keeps_the_run_and_the_same_save_works_once_there_is_room(qtbot, window, disk):
    full = disk(TINY_DISK)
    step = _run_with_progress(qtbot, window)
    before = _state(window)
    target = full / "run.vaeckpt"

    _save_fails(window, target, "the disk is full")
    assert _files(full) == []  # no half-written or temporary file left behind
    _assert_state(window, before)

    assert _mount("-o", "remount,size=16m", str(full)).returncode == 0  # the user makes room
    assert window.save_checkpoint(str(target))
    saved = load_checkpoint(target)
    assert saved.progress.global_step == step and _files(full) == [target]
    assert not window.isWindowModified() and Path(window.controller.run_folder).name in window.windowTitle()


@pytest.mark.parametrize("where, expected", [
    ("read-only disk", "that disk is read-only"),
    ("under a file", "is not a folder"),
    ("inside /proc", "No such file or directory"),
])
def test_unwritable_targets_keep_the_run_and_saving_elsewhere_works(qtbot, window, disk, tmp_path, where, expected):
    if where == "read-only disk":
        target = disk("ro") / "run.vaeckpt"
    elif where == "under a file":
        (tmp_path / "notes.txt").write_text("a file, not a folder")
        target = tmp_path / "notes.txt" / "run.vaeckpt"
    else:
        target = Path("/proc/vae-desktop-test.vaeckpt")
    step = _run_with_progress(qtbot, window)
    before = _state(window)

    _save_fails(window, target, expected)
    _assert_state(window, before)

    good = tmp_path / "elsewhere.vaeckpt"
    assert window.save_checkpoint(str(good))
    assert load_checkpoint(good).progress.global_step == step
    window.start_button.click()  # and the run continues where it was
    wait_for_batches(qtbot, window, len(before[2]) + 2)
    assert window.plots.batch_data()["global_step"][len(before[2])] == step + 1


def test_a_save_that_fails_during_training_does_not_stop_training(qtbot, window, disk, tmp_path):
    full = disk(TINY_DISK)
    window.start_button.click()
    wait_for_batches(qtbot, window, 5)

    window.save_checkpoint(str(full / "live.vaeckpt"))
    qtbot.waitUntil(lambda: window.banner.kind == "error", timeout=10_000)
    assert "the disk is full" in window.banner.message()
    seen = len(window.plots.batch_data()["global_step"])
    wait_for_batches(qtbot, window, seen + 5)  # training went on
    assert window.state == "training" and _files(full) == []

    with qtbot.waitSignal(window.controller.saved, timeout=10_000):
        window.save_checkpoint(str(tmp_path / "live.vaeckpt"))
    assert load_checkpoint(tmp_path / "live.vaeckpt").progress.global_step >= seen + 5


# ---- exceptions in the training thread and in slots -------------------------------------------------

def test_an_exception_in_the_training_thread_is_shown_logged_and_the_run_continues(
    qtbot, window, app_log, monkeypatch
):
    original = trainer_module.vae_loss
    calls = {"n": 0}

    def failing_loss(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 12:
            raise RuntimeError("simulated fault in a training step")
        return original(*args, **kwargs)

    monkeypatch.setattr(trainer_module, "vae_loss", failing_loss)
    window.start_button.click()
    wait_for_state(qtbot, window, "ready", timeout=30_000)

    message = window.banner.message()
    assert window.banner.kind == "error"
    assert "unexpected error: simulated fault in a training step" in message and str(app_log) in message
    log_text = app_log.read_text(encoding="utf-8")
    assert "Unexpected error in the training thread" in log_text and "Traceback" in log_text
    assert "RuntimeError: simulated fault in a training step" in log_text
    assert window.controller.session is None  # the thread ended and was cleaned up, not left dangling
    step = window.trainer.progress.global_step
    assert step == 11

    monkeypatch.setattr(trainer_module, "vae_loss", original)
    window.start_button.click()
    wait_for_batches(qtbot, window, step + 3)
    assert window.plots.batch_data()["global_step"][step] == step + 1


@pytest.mark.qt_no_exception_capture
def test_an_exception_in_a_slot_is_shown_and_logged_and_the_app_keeps_going(qtbot, window, app_log, monkeypatch):
    restore = show_uncaught_exceptions(window.show_error)  # what run_gui installs
    try:
        original = window.plots.append_batches
        calls = {"n": 0}

        def failing_append(batches):
            calls["n"] += 1
            if calls["n"] == 2:
                raise ValueError("simulated fault in a slot")
            return original(batches)

        monkeypatch.setattr(window.plots, "append_batches", failing_append)
        window.start_button.click()
        qtbot.waitUntil(lambda: window.banner.kind == "error", timeout=20_000)
        message = window.banner.message()
        assert "Unexpected error: simulated fault in a slot" in message and str(app_log) in message
        seen = calls["n"]
        qtbot.waitUntil(lambda: calls["n"] >= seen + 3, timeout=20_000)  # the GUI keeps receiving batches
        assert window.state == "training"
        window.stop_button.click()
        wait_for_state(qtbot, window, "ready")
    finally:
        restore()
    log_text = app_log.read_text(encoding="utf-8")
    assert "Uncaught exception" in log_text and "ValueError: simulated fault in a slot" in log_text
    assert "failing_append" in log_text  # with its traceback


def test_a_failure_in_the_latent_map_worker_is_shown_in_the_panel_and_logged(qtbot, window, app_log, monkeypatch):
    from PySide6.QtWidgets import QLabel

    from tests.ui.test_bad_input import latent_panel
    from vae_desktop.core import latent_map

    def failing_run(self, job):
        raise RuntimeError("simulated fault in the map worker")

    monkeypatch.setattr(latent_map.MapComputer, "run", failing_run)
    panel = latent_panel(window)
    window.start_button.click()
    def shown() -> list[str]:  # what the panel's labels say
        return [label.text() for label in panel.findChildren(QLabel) if "simulated fault" in label.text()]

    qtbot.waitUntil(lambda: bool(shown()), timeout=20_000)
    assert shown()[0] == "Updating the latent map failed: simulated fault in the map worker"
    wait_for_batches(qtbot, window, 5)  # training is not disturbed
    window.stop_button.click()
    wait_for_state(qtbot, window, "ready")
    log_text = app_log.read_text(encoding="utf-8")
    assert "Updating the latent map failed" in log_text and "RuntimeError: simulated fault in the map worker" in log_text


def test_the_map_worker_never_gets_a_job_for_another_models_plane(qtbot, monkeypatch, small_shapes):
    """The first model (or one with another z_dim) used to send, as the map page appeared and resized the
    view, a manifold job with the previous plane: under load the worker ran it and the panel showed
    "Updating the latent map failed: mat1 and mat2 shapes cannot be multiplied"."""
    from vae_desktop.core.config import ModelConfig
    from vae_desktop.core.model import VAE
    from vae_desktop.ui.latent.map_worker import MapWorker
    from vae_desktop.ui.latent_panel import LatentPanel
    from vae_desktop.ui.model_mirror import ModelMirror, state_to_numpy

    jobs = []
    original = MapWorker.submit

    def recording_submit(self, job):
        jobs.append(job)
        return original(self, job)

    monkeypatch.setattr(MapWorker, "submit", recording_submit)
    mirror = ModelMirror()
    mirror.set_dataset(small_shapes)
    panel = LatentPanel(mirror)
    qtbot.addWidget(panel, before_close_func=LatentPanel.shutdown)
    panel.resize(1100, 720)
    panel.show()
    qtbot.waitExposed(panel)
    for z_dim in (16, 5, 2, 16):
        model = VAE(ModelConfig(z_dim=z_dim, base_width=8, hidden=64))
        mirror.set_model(model.config, state_to_numpy(model))
        qtbot.waitUntil(lambda: panel.map_version == mirror.version, timeout=15_000)
    assert jobs and all(job.plane.z_dim == job.config.z_dim for job in jobs)
    panel.shutdown()
