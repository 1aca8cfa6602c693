"""Bad input through the window: every bad checkpoint, image folder and typed hyperparameter gets a
clear message, and the run, model, plots and panels the user had are still there, untouched."""

from __future__ import annotations

import json
import os
import pickle
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog

from tests.ui.conftest import SMALL_MODEL
from tests.ui.helpers import wait_for_batches, wait_for_state
from tests.unprivileged import run_obeying_permissions
from vae_desktop.core.checkpoint import FORMAT_VERSION, Checkpoint, save_payload
from vae_desktop.core.config import ModelConfig, TrainConfig
from vae_desktop.core.datasets import folder as folder_module
from vae_desktop.core.inference import decode_images
from vae_desktop.core.model import VAE
from vae_desktop.core.trainer import Trainer
from vae_desktop.ui.hyperparameter_form import OPEN_FOLDER
from vae_desktop.ui.latent_panel import LatentPanel
from vae_desktop.ui.main_window import MainWindow


@dataclass
class Snapshot:
    """Everything a user would see change if a bad input clobbered their work."""

    title: str
    checkpoint_path: str | None
    global_step: int
    steps: np.ndarray
    recon: np.ndarray
    epochs: list
    weights: dict[str, np.ndarray]
    mirror_version: int
    dataset_name: str | None
    latent_image: np.ndarray | None
    form: tuple
    recent: list[str]


def snapshot(window: MainWindow) -> Snapshot:
    data = window.plots.batch_data()
    mirror = window.mirror
    form = window.form
    image = latent_panel(window).selected_image()
    return Snapshot(
        title=window.windowTitle(),
        checkpoint_path=window.controller.checkpoint_path,
        global_step=window.trainer.progress.global_step if window.trainer is not None else -1,
        steps=data["global_step"],
        recon=data["recon"],
        epochs=window.plots.epoch_data(),
        weights={k: v.detach().clone().numpy() for k, v in mirror.model.state_dict().items()},
        mirror_version=mirror.version,
        dataset_name=mirror.dataset.name if mirror.dataset is not None else None,
        latent_image=None if image is None else image.copy(),
        form=(form.dataset_name(), form.z_dim.value(), form.lr.text(), form.batch_size.value(), form.epochs.value()),
        recent=window.recent.paths(),
    )


def assert_unchanged(window: MainWindow, before: Snapshot) -> None:
    after = snapshot(window)
    assert after.title == before.title and after.checkpoint_path == before.checkpoint_path
    assert after.global_step == before.global_step
    np.testing.assert_array_equal(after.steps, before.steps)
    np.testing.assert_array_equal(after.recon, before.recon)
    assert after.epochs == before.epochs
    assert after.mirror_version == before.mirror_version
    for name, value in before.weights.items():
        np.testing.assert_array_equal(after.weights[name], value)
    assert after.dataset_name == before.dataset_name
    if before.latent_image is not None:
        np.testing.assert_array_equal(after.latent_image, before.latent_image)
    assert after.form == before.form and after.recent == before.recent


def latent_panel(window: MainWindow) -> LatentPanel:
    panels = [window.side_tabs.widget(i) for i in range(window.side_tabs.count())]
    return next(p for p in panels if isinstance(p, LatentPanel))


def train_a_little(qtbot, window: MainWindow, batches: int = 8) -> None:
    window.start_button.click()
    wait_for_batches(qtbot, window, batches)
    window.stop_button.click()
    wait_for_state(qtbot, window, "ready")
    panel = latent_panel(window)
    qtbot.waitUntil(lambda: panel.map_version == window.mirror.version, timeout=15_000)


def good_payload(dataset) -> dict:
    torch.manual_seed(0)
    trainer = Trainer(VAE(SMALL_MODEL), dataset, TrainConfig(epochs=50, batch_size=100, device="cpu"))
    for metrics in trainer.run():
        if getattr(metrics, "global_step", 0) == 3:
            break
    return Checkpoint.from_trainer(trainer, "shapes").to_payload()


class _RunsCode:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def write_bad_checkpoints(folder: Path, payload: dict, marker: Path) -> dict[str, str]:
    """Every kind of bad checkpoint, each with the words its message must contain."""
    good = folder / "good.vaeckpt"
    save_payload(payload, good)
    files: dict[str, str] = {}

    def add(name: str, expected: str) -> Path:
        files[name] = expected
        return folder / name

    add("empty.vaeckpt", "is empty").write_bytes(b"")
    add("truncated.vaeckpt", "damaged|not a VAE Desktop").write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    add("random.vaeckpt", "damaged|not a VAE Desktop").write_bytes(np.random.default_rng(0).bytes(4096))
    z_mismatch = {**payload, "model_config": {**payload["model_config"], "z_dim": 7}}
    save_payload(z_mismatch, add("other-zdim.vaeckpt", "do not match"))
    wider = VAE(ModelConfig(z_dim=2, base_width=16, hidden=64)).state_dict()
    save_payload({**payload, "model_state": wider}, add("other-architecture.vaeckpt", "do not match"))
    rgb = ModelConfig(z_dim=2, channels=3, height=32, width=32, base_width=8, hidden=64)
    rgb_payload = {**payload, "model_config": rgb.to_dict(), "model_state": VAE(rgb).state_dict(), "optimizer_state": None}
    save_payload(rgb_payload, add("wrong-image-shape.vaeckpt", "does not fit its dataset"))
    save_payload({**payload, "format_version": FORMAT_VERSION + 1}, add("future.vaeckpt", "newer VAE Desktop"))
    torch.save({"weights": torch.zeros(3)}, add("plain-torch.vaeckpt", "not a VAE Desktop checkpoint"))
    torch.save({**payload, "history": _RunsCode(marker)}, add("crafted-zip.vaeckpt", "could run code"))
    add("crafted-pickle.vaeckpt", "not a VAE Desktop|could run code").write_bytes(
        pickle.dumps({"format": "vae-desktop-checkpoint", "x": _RunsCode(marker)}, protocol=2)
    )
    add("a-folder.vaeckpt", "is a folder").mkdir()
    files["missing.vaeckpt"] = "does not exist"
    return files


def test_every_bad_checkpoint_is_refused_with_a_message_and_the_run_survives(qtbot, window, small_shapes, tmp_path):
    payload = good_payload(small_shapes)
    save_payload(payload, tmp_path / "mine.vaeckpt")
    assert window.open_checkpoint(str(tmp_path / "mine.vaeckpt"))
    train_a_little(qtbot, window)  # a live run on top of the opened file, autosaved into its own run folder
    marker = tmp_path / "code-ran"
    (tmp_path / "bad").mkdir()
    bad = write_bad_checkpoints(tmp_path / "bad", payload, marker)
    before = snapshot(window)
    assert before.global_step > 3 and not window.isWindowModified()

    for name, expected in bad.items():
        window.banner.dismiss()
        assert not window.open_checkpoint(str(tmp_path / "bad" / name)), name
        assert window.banner.kind == "error", name
        message = window.banner.message()
        assert name in message, message
        assert any(word in message for word in expected.split("|")), f"{name}: {message}"
        assert "Traceback" not in message and len(message) < 400, message
        assert_unchanged(window, before)
        assert not window.isWindowModified()
    assert not marker.exists(), "a crafted checkpoint ran code"

    # The run goes on from exactly where it was.
    window.start_button.click()
    wait_for_batches(qtbot, window, len(before.steps) + 3)
    window.stop_button.click()
    wait_for_state(qtbot, window, "ready")
    steps = window.plots.batch_data()["global_step"]
    np.testing.assert_array_equal(steps[: len(before.steps)], before.steps)
    assert steps[len(before.steps)] == before.global_step + 1


def test_an_unreadable_checkpoint_is_refused_and_the_run_survives(small_shapes, tmp_path):
    """In a child process that obeys permission bits (root included: see tests/unprivileged.py)."""
    good, locked = tmp_path / "mine.vaeckpt", tmp_path / "locked.vaeckpt"
    save_payload(good_payload(small_shapes), good)
    shutil.copy(good, locked)
    locked.chmod(0)
    result = run_obeying_permissions(f"""
        import json
        from PySide6.QtCore import QSettings
        from vae_desktop.core.config import ModelConfig
        from vae_desktop.core.datasets.shapes import load_shapes
        from vae_desktop.ui.app import build_main_window
        window = build_main_window(settings=QSettings({str(tmp_path / "settings.ini")!r}, QSettings.Format.IniFormat),
                                   model_template=ModelConfig(z_dim=2, base_width=8, hidden=64), training_threads=1)
        window.provide_dataset(load_shapes(num_train=2000, num_test=500), "shapes")
        def state():
            return [window.windowTitle(), window.plots.batch_data()["global_step"].tolist(), window.mirror.version,
                    window.controller.checkpoint_path, window.recent.paths()]
        assert window.open_checkpoint({str(good)!r})
        before = state()
        opened = window.open_checkpoint({str(locked)!r})
        print(json.dumps({{"opened": opened, "kind": window.banner.kind, "message": window.banner.message(),
                          "unchanged": state() == before, "steps": len(before[1])}}))
        window.close()
        assert window.join_background_work(30)
    """)
    assert result.returncode == 0, result.stderr[-3000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["opened"] is False and outcome["kind"] == "error"
    assert outcome["message"] == f"No permission to read {locked}."
    assert outcome["unchanged"] and outcome["steps"] == 3


# ---- image folders, through File-less "Open image folder…" in the dataset list -------------------

def pick_folder(qtbot, window: MainWindow, monkeypatch, folder: Path, before_return=None) -> None:
    """What the user does: choose "Open image folder…" in the dataset list and pick `folder` in the dialog."""

    def dialog(*_args, **_kwargs) -> str:
        if before_return is not None:
            before_return()
        return str(folder)

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(dialog))
    combo = window.form.dataset
    index = combo.findData(OPEN_FOLDER)
    combo.setCurrentIndex(index)
    combo.activated.emit(index)


def _png(path: Path, array: np.ndarray, mode: str | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    (Image.fromarray(array, mode=mode) if mode else Image.fromarray(array)).save(path)


def make_folders(root: Path) -> dict[str, tuple[Path, str]]:
    """Folders no dataset can come from, each with the words its message must contain."""
    rng = np.random.default_rng(0)
    empty = root / "empty"
    empty.mkdir(parents=True)
    text_only = root / "text-only"
    text_only.mkdir()
    (text_only / "notes.txt").write_text("not an image")
    (text_only / "table.csv").write_text("a,b\n1,2\n")
    corrupt = root / "corrupt"
    corrupt.mkdir()
    for i in range(3):
        (corrupt / f"{i}.png").write_bytes(b"\x89PNG\r\n\x1a\n" + rng.bytes(200))
    (corrupt / "cut.jpg").write_bytes(b"\xff\xd8\xff\xe0" + rng.bytes(50))
    vanished = root / "vanished"
    _png(vanished / "0.png", np.zeros((8, 8), np.uint8))
    return {
        "empty": (empty, "No image files found"),
        "only non-images": (text_only, "No image files found"),
        "corrupt images": (corrupt, "could be read"),
        "a path that disappears": (vanished, "does not exist"),
    }


def test_unusable_image_folders_say_why_and_the_current_dataset_stays(qtbot, window, monkeypatch, tmp_path):
    panel = latent_panel(window)
    qtbot.waitUntil(lambda: window.mirror.dataset is not None and window.recon_strip.originals() is not None)
    shapes = window.mirror.dataset
    strip_before = window.recon_strip.originals().copy()
    folders = make_folders(tmp_path)

    for case, (folder, expected) in folders.items():
        window.banner.dismiss()
        remove = (lambda f=folder: shutil.rmtree(f)) if case == "a path that disappears" else None
        pick_folder(qtbot, window, monkeypatch, folder, before_return=remove)
        qtbot.waitUntil(lambda: window.banner.kind == "error", timeout=20_000)
        message = window.banner.message()
        assert expected in message and str(folder) in message, f"{case}: {message}"
        assert window.mirror.dataset is shapes, case  # the dataset shown so far stays
        np.testing.assert_array_equal(window.recon_strip.originals(), strip_before)
        assert not window.controller.has_run

    # Start with the unusable folder still selected says so again, and starts nothing.
    window.banner.dismiss()
    window.start_button.click()
    qtbot.waitUntil(lambda: window.banner.kind == "error", timeout=20_000)
    wait_for_state(qtbot, window, "idle")
    assert "does not exist" in window.banner.message() and not window.controller.has_run

    # Back to the built-in set: everything works as before.
    window.form.select_dataset("shapes")
    window.start_button.click()
    wait_for_batches(qtbot, window, 3)
    qtbot.waitUntil(lambda: panel.map_version == window.mirror.version, timeout=15_000)


def test_a_folder_that_disappears_while_being_read_is_a_clear_error(qtbot, window, monkeypatch, tmp_path):
    folder = tmp_path / "pictures"
    for i in range(30):
        _png(folder / f"{i:02d}.png", np.full((8, 8), 8 * i, np.uint8))
    qtbot.waitUntil(lambda: window.mirror.dataset is not None)
    original = folder_module._read_image

    def read_then_vanish(path, *args, **kwargs):
        if folder.exists() and path.name == "05.png":
            shutil.rmtree(folder)  # the user (or a sync tool) moves the folder away mid-load
        return original(path, *args, **kwargs)

    monkeypatch.setattr(folder_module, "_read_image", read_then_vanish)
    pick_folder(qtbot, window, monkeypatch, folder)
    qtbot.waitUntil(lambda: window.banner.kind == "error", timeout=20_000)
    assert window.banner.message() == f"The image folder {folder} disappeared while it was being read."
    assert window.mirror.dataset.name == "shapes"


def test_mixed_sizes_modes_16_bit_and_junk_load_and_train(qtbot, window, monkeypatch, tmp_path):
    rng = np.random.default_rng(1)
    folder = tmp_path / "mixed"
    for i in range(4):
        _png(folder / "rgb" / f"{i}.png", rng.integers(0, 256, (40, 50, 3), dtype=np.uint8))
        _png(folder / "rgba" / f"{i}.png", rng.integers(0, 256, (20, 20, 4), dtype=np.uint8))
        _png(folder / "grey" / f"{i}.png", rng.integers(0, 256, (33, 17), dtype=np.uint8))
        Image.fromarray(rng.integers(0, 65535, (30, 30)).astype(np.uint16)).save(folder / "grey" / f"deep{i}.png")
        Image.fromarray(rng.integers(0, 256, (12, 12), dtype=np.uint8)).convert("P").save(folder / "rgb" / f"p{i}.gif")
    (folder / "rgb" / "broken.png").write_bytes(b"\x89PNG not really")
    (folder / "grey" / "readme.txt").write_text("hello")

    pick_folder(qtbot, window, monkeypatch, folder)
    qtbot.waitUntil(lambda: window.mirror.dataset is not None and window.mirror.dataset.name == f"folder:{folder}",
                    timeout=20_000)
    dataset = window.mirror.dataset
    assert dataset.image_shape == (3, 32, 32) and dataset.num_train + dataset.num_test == 20
    assert window.banner.kind == "info"  # the user learns what was left out
    assert window.banner.message() == (f"Loaded 20 images from {folder} (18 to train on, 2 to test with); "
                                       "skipped 1 unreadable file.")

    # A batch larger than this small set: a clear message, no run created, the form still editable.
    window.start_button.click()
    qtbot.waitUntil(lambda: window.banner.kind == "error", timeout=20_000)
    wait_for_state(qtbot, window, "idle")
    assert "Batch size 100 is larger than the training set (18 images)" in window.banner.message()
    assert not window.controller.has_run and window.form.batch_size.isEnabled()

    window.form.batch_size.setValue(6)
    window.start_button.click()
    wait_for_batches(qtbot, window, 6)
    window.stop_button.click()
    wait_for_state(qtbot, window, "ready")
    assert window.mirror.model.config.image_shape == (3, 32, 32)
    assert np.isfinite(window.plots.batch_data()["recon"]).all()


def test_thousands_of_tiny_files_load_through_the_window(qtbot, window, monkeypatch, tmp_path):
    folder = tmp_path / "tiny"
    folder.mkdir()
    rng = np.random.default_rng(2)
    for i in range(1500):
        Image.fromarray(rng.integers(0, 256, (4, 4), dtype=np.uint8)).save(folder / f"{i:04d}.png")
    pick_folder(qtbot, window, monkeypatch, folder)
    qtbot.waitUntil(lambda: window.mirror.dataset is not None and window.mirror.dataset.name == f"folder:{folder}",
                    timeout=60_000)
    assert window.mirror.dataset.num_train + window.mirror.dataset.num_test == 1500
    assert window.mirror.dataset.image_shape == (1, 28, 28)


def usable(window: MainWindow) -> bool:
    """What a wedged window lost: Start, Open, New and the form."""
    return (window.state in ("idle", "ready") and window.start_button.isEnabled() and window.menu_actions.open.isEnabled()
            and window.menu_actions.new_run.isEnabled() and window.form.isEnabled())


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_pipe_named_png_in_a_subfolder_neither_hangs_nor_wedges_the_window(qtbot, window, monkeypatch, tmp_path):
    from tests.helpers_hostile_files import make_fifo, release_fifo_readers, save_grey

    folder = tmp_path / "pictures"
    for i in range(12):
        save_grey(folder / "sub" / f"{i}.png", 20 * i)
    pipe = make_fifo(folder / "sub" / "deeper" / "pipe.png")
    try:
        pick_folder(qtbot, window, monkeypatch, folder)
        qtbot.waitUntil(lambda: window.mirror.dataset is not None and window.mirror.dataset.name == f"folder:{folder}",
                        timeout=20_000)  # on main the load waits on the pipe forever
        assert window.banner.kind == "info"
        assert window.banner.message() == (
            f"Loaded 12 images from {folder} (11 to train on, 1 to test with); skipped 1 entry that is not a regular "
            "file (a pipe, device, socket or broken link).")
        window.form.batch_size.setValue(4)
        window.start_button.click()
        wait_for_batches(qtbot, window, 3)
        window.stop_button.click()
        wait_for_state(qtbot, window, "ready")
    finally:
        release_fifo_readers(pipe)


def test_a_one_image_folder_says_it_needs_two(qtbot, window, monkeypatch, tmp_path):
    from tests.helpers_hostile_files import save_grey

    qtbot.waitUntil(lambda: window.mirror.dataset is not None)
    save_grey(tmp_path / "one" / "only.png")
    pick_folder(qtbot, window, monkeypatch, tmp_path / "one")
    qtbot.waitUntil(lambda: window.banner.kind == "error", timeout=20_000)
    assert window.banner.message() == (f"Only 1 image in {tmp_path / 'one'} could be used; an image folder needs at "
                                       "least 2: some to train on and at least one other to test with.")
    assert window.mirror.dataset.name == "shapes" and usable(window)


@pytest.mark.parametrize("saved", ["folder:", "folder:  ", ""])
def test_a_saved_empty_dataset_name_is_not_restored_as_the_current_folder(qtbot, make_window, settings, saved):
    settings.setValue("form/dataset", saved)  # e.g. hand-edited, or written by a version that allowed it
    settings.setValue("form/datasetTitle", "Folder: ")
    settings.sync()
    window = make_window(settings)
    assert window.form.dataset_name() == "shapes"
    combo = window.form.dataset
    names = [combo.itemData(i) for i in range(combo.count()) if combo.itemData(i) is not None]  # None: the separator
    assert [name for name in names if name.removeprefix("folder:").strip() == ""] == []


def test_stop_cancels_a_start_that_waits_for_a_slow_dataset_load(qtbot, window, monkeypatch, tmp_path):
    folder = tmp_path / "many"
    folder.mkdir()
    rng = np.random.default_rng(4)
    for i in range(1500):  # seconds to load: Start waits for it
        Image.fromarray(rng.integers(0, 256, (16, 16), dtype=np.uint8)).save(folder / f"{i:04d}.png")
    qtbot.waitUntil(lambda: window.mirror.dataset is not None)
    pick_folder(qtbot, window, monkeypatch, folder)
    window.start_button.click()
    assert window.state == "loading" and not window.form.isEnabled()
    assert window.stop_button.isEnabled() and window.menu_actions.stop.isEnabled()
    window.stop_button.click()
    assert usable(window) and window.state == "idle"  # at once, while the load goes on
    assert window.banner.kind == "info" and window.banner.message().startswith("Start cancelled.")
    # The load finishes in the background: its images are shown, but nothing starts training.
    qtbot.waitUntil(lambda: window.mirror.dataset.name == f"folder:{folder}", timeout=60_000)
    assert not window.controller.has_run and window.state == "idle" and len(window.plots.batch_data()["global_step"]) == 0
    window.start_button.click()  # and the next Start uses the loaded set at once
    wait_for_batches(qtbot, window, 2)


def test_a_start_that_fails_unexpectedly_leaves_the_window_usable_with_a_message(qtbot, window, small_shapes, tmp_path):
    """An error no check foresaw (here a checkpoint whose optimizer state is a list) must not leave the
    window in "Loading dataset..." with Start, Open, New and the form disabled."""
    payload = good_payload(small_shapes)
    torch.save({**payload, "optimizer_state": ["not", "a", "state"]}, tmp_path / "odd.vaeckpt")
    opened = window.open_checkpoint(str(tmp_path / "odd.vaeckpt"))
    if opened:  # a later check may refuse it already when opening: that is fine too
        window.banner.dismiss()
        window.start_button.click()
    qtbot.waitUntil(lambda: window.banner.kind == "error", timeout=20_000)
    wait_for_state(qtbot, window, "idle", "ready")
    assert usable(window), window.state
    message = window.banner.message()
    assert "Traceback" not in message and len(message) < 400


# ---- typed-in hyperparameters ---------------------------------------------------------------------

def type_into(widget, text: str) -> None:
    """Select all and type, as a user does (spin boxes filter keys through their validator)."""
    line = widget.lineEdit() if hasattr(widget, "lineEdit") else widget
    line.setFocus()
    line.selectAll()
    QTest.keyClick(line, Qt.Key.Key_Backspace)
    if text:
        QTest.keyClicks(line, text)


RUN_FIELD_CASES = [  # fields that stay editable once a run exists
    ("lr", "0", "Learning rate must be a number greater than 0 and at most 1e+09 (got '0')"),
    ("lr", "-0.01", "Learning rate must be a number greater than 0"),
    ("lr", "1e300", "at most 1e+09"),
    ("lr", "fast", "Learning rate must be a number (got 'fast')"),
    ("lr", "nan", "Learning rate must be a finite number"),
    ("lr", "", "Learning rate must be a number (got '')"),
    ("beta", "-1", "β (KL weight) must be a number from 0 to 1e+06 (got '-1')"),
    ("beta", "1" * 400, "β (KL weight) must be a finite number (got '" + "1" * 23 + "…')"),
    ("epochs", "0", "Epochs must be a whole number from 1 to 100,000 (got '0')"),
    ("epochs", "", "Epochs must be a whole number from 1 to 100,000 (got '')"),
]
NEW_RUN_FIELD_CASES = [  # fields that define a run: editable before the first Start
    ("batch_size", "0", "Batch size must be a whole number from 1 to 65,536 (got '0')"),
    ("batch_size", "", "Batch size must be a whole number from 1 to 65,536 (got '')"),
    ("z_dim", "0", "Latent dims (z) must be a whole number from 1 to 256 (got '0')"),
    ("seed", "", "Seed must be a whole number from 0 to 2,147,483,647 (got '')"),
]


def check_refused(window: MainWindow, field: str, text: str, expected: str) -> None:
    widget = getattr(window.form, field)
    good = widget.text()
    before_run = window.controller.has_run
    before_step = window.trainer.progress.global_step if window.trainer is not None else None
    type_into(widget, text)
    assert expected in window.form.error.text(), window.form.error.text()
    assert window.form.error.isVisibleTo(window) and widget.property("invalid") is True
    assert not window.start_button.isEnabled() and not window.menu_actions.start.isEnabled()
    window.banner.dismiss()
    window.start_training()  # even when asked directly: the same clear message, nothing started
    assert window.banner.kind == "error" and expected in window.banner.message()
    assert window.state in ("idle", "ready") and window.controller.has_run == before_run
    if before_step is not None:
        assert window.trainer.progress.global_step == before_step
    type_into(widget, good)
    assert window.start_button.isEnabled() and widget.property("invalid") is False


def test_typed_hyperparameters_explain_themselves_and_the_run_goes_on(qtbot, window):
    train_a_little(qtbot, window, batches=4)
    before = snapshot(window)
    for field, text, expected in RUN_FIELD_CASES:
        check_refused(window, field, text, expected)
    assert_unchanged(window, before)
    window.start_button.click()  # and Continue picks up where the run was
    wait_for_batches(qtbot, window, len(before.steps) + 2)
    assert window.plots.batch_data()["global_step"][len(before.steps)] == before.global_step + 1


def test_typed_run_settings_explain_themselves_before_the_first_start(qtbot, window):
    for field, text, expected in NEW_RUN_FIELD_CASES:
        check_refused(window, field, text, expected)
    assert not window.controller.has_run
    window.start_button.click()
    wait_for_batches(qtbot, window, 2)


def test_a_spin_box_never_trains_with_a_number_it_does_not_show(qtbot, window):
    type_into(window.form.batch_size, "0")
    assert window.form.batch_size.text() == "0" and window.form.batch_size.value() == 100  # Qt keeps the old value
    assert not window.start_button.isEnabled()
    type_into(window.form.batch_size, "abc")  # letters never get in
    assert window.form.batch_size.text() == ""
    type_into(window.form.batch_size, "50")
    assert window.start_button.isEnabled() and window.form.settings().train.batch_size == 50


def test_a_learning_rate_that_makes_the_loss_nan_stops_at_a_named_step_and_keeps_good_weights(qtbot, window):
    panel = latent_panel(window)
    window.form.lr.setText("1e6")
    window.start_button.click()
    wait_for_state(qtbot, window, "ready", timeout=30_000)

    message = window.banner.message()
    assert window.banner.kind == "error" and "at epoch 1, step " in message, message
    failed_step = int(message.split("step ")[1].split(".")[0])
    assert failed_step >= 1
    # The GUI's copy holds the trainer's (rolled-back, finite) weights...
    trainer_state = window.trainer.model.state_dict()
    for name, value in window.mirror.model.state_dict().items():
        assert torch.isfinite(value).all(), name
        torch.testing.assert_close(value, trainer_state[name].cpu())
    assert window.trainer.progress.global_step < failed_step
    # ...and the latent map decodes with them.
    qtbot.waitUntil(lambda: panel.map_version == window.mirror.version, timeout=15_000)
    image = panel.selected_image()
    assert image is not None and np.isfinite(image).all()
    expected = decode_images(window.mirror.model, panel.handles.selected.z[None])[0]
    np.testing.assert_allclose(image, expected, atol=1e-6)
    indices, positions = panel.scatter()
    assert len(indices) > 0 and np.isfinite(positions).all()


def test_an_offline_download_says_where_to_put_the_files_and_leaves_no_partial_cache(
    qtbot, window, monkeypatch, tmp_path
):
    import socket

    from vae_desktop.core.datasets.torchvision_sets import MIRROR_ENV

    with socket.socket() as probe:  # a port nobody listens on: the connection is refused, as offline
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv(MIRROR_ENV, f"http://127.0.0.1:{port}/")
    data = tmp_path / "user-data"
    monkeypatch.setenv("VAE_DESKTOP_DATA_DIR", str(data))
    qtbot.waitUntil(lambda: window.mirror.dataset is not None)
    shown = window.mirror.dataset
    window.form.select_dataset("kmnist")
    window.start_button.click()
    qtbot.waitUntil(lambda: window.banner.kind == "error", timeout=60_000)
    wait_for_state(qtbot, window, "idle")
    message = window.banner.message()
    assert message.startswith("Could not download kmnist") and "not available offline: put the four IDX files" in message
    assert str(data) in message
    left = list(data.iterdir()) if data.exists() else []
    assert left == [], left  # no half-written download that would break the next start
    assert not window.controller.has_run and window.form.dataset.isEnabled()
    assert window.mirror.dataset is shown  # the images shown so far stay
