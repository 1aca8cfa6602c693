"""Fixtures for UI tests: the real main window on a small dataset and model, with isolated settings."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from tests.logging_state import preserved_logging
from vae_desktop.core.config import ModelConfig
from vae_desktop.core.datasets.base import ImageDataset
from vae_desktop.core.datasets.shapes import load_shapes
from vae_desktop.logging_setup import configure_logging
from vae_desktop.ui.app import build_main_window
from vae_desktop.ui.main_window import MainWindow
from vae_desktop.ui.window_settings import RUNS_FOLDER_KEY

SMALL_MODEL = ModelConfig(z_dim=2, base_width=8, hidden=64)


@pytest.fixture(scope="session")
def small_shapes() -> ImageDataset:
    """2,000 train / 500 test images of the real built-in dataset (20 steps per epoch at batch 100)."""
    return load_shapes(num_train=2000, num_test=500)


@pytest.fixture
def settings(tmp_path) -> QSettings:
    """A settings file of this test's own: nothing leaks between tests or into the user's settings;
    the window's runs are recorded in this test's own runs folder."""
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue(RUNS_FOLDER_KEY, str(tmp_path / "runs"))
    return settings


@pytest.fixture
def make_window(qtbot, small_shapes) -> Iterator[Callable[..., MainWindow]]:
    """Build real main windows (core attached, small model, one training thread); stopped and closed after."""
    windows: list[MainWindow] = []

    def make(
        settings: QSettings, epochs: int = 200, batch_size: int = 100, show: bool = True, set_form: bool = True
    ) -> MainWindow:
        window = build_main_window(settings=settings, model_template=SMALL_MODEL, training_threads=1)
        window.provide_dataset(small_shapes, "shapes")
        if set_form:
            window.form.epochs.setValue(epochs)
            window.form.batch_size.setValue(batch_size)
            window.form.z_dim.setValue(SMALL_MODEL.z_dim)
        # pytest-qt closes the window before this fixture's teardown: the test is over by then, so
        # close without asking to save the run (a question would wait for an answer forever).
        qtbot.addWidget(window, before_close_func=lambda w: w.setWindowModified(False))
        if show:
            window.show()
        windows.append(window)
        return window

    yield make
    for window in windows:
        if window.controller is not None:
            assert window.controller.shutdown(10_000), "training thread did not stop"
        window.setWindowModified(False)  # (as above)
        window.close()
    # A background dataset load left running would abort the interpreter at exit.
    assert all(w.join_background_work(60) for w in windows), "a background thread did not finish"


@pytest.fixture
def window(make_window, settings) -> MainWindow:
    return make_window(settings)


@pytest.fixture
def app_log(tmp_path, monkeypatch) -> Iterator[Path]:
    """The app's log file, as `run_gui` sets it up, in this test's own folder; logging restored after."""
    with preserved_logging():
        monkeypatch.setenv("VAE_DESKTOP_LOG_DIR", str(tmp_path / "logs"))
        path = configure_logging(console=False)
        assert path is not None
        yield path
