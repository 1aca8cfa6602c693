"""The log file: where it goes, that it rotates, and that a crash in a worker thread lands in it."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.logging_state import preserved_logging
from vae_desktop import logging_setup
from vae_desktop.logging_setup import LOG_FILE_NAME, configure_logging


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    with preserved_logging():
        yield


def test_messages_go_to_the_log_file(tmp_path: Path) -> None:
    path = configure_logging(log_dir=tmp_path / "logs")
    assert path == tmp_path / "logs" / LOG_FILE_NAME
    logging.getLogger("vae_desktop.ui").info("opened %s", "/data/run.vaeckpt")
    logging.getLogger("vae_desktop.ui").debug("too chatty")
    text = path.read_text(encoding="utf-8")
    assert "VAE Desktop" in text and "starting" in text
    assert "INFO    vae_desktop.ui [MainThread] opened /data/run.vaeckpt" in text
    assert "too chatty" not in text


def test_configuring_twice_does_not_double_lines(tmp_path: Path) -> None:
    configure_logging(log_dir=tmp_path)
    path = configure_logging(log_dir=tmp_path)
    logging.getLogger("vae_desktop").warning("once")
    assert path.read_text(encoding="utf-8").count("once") == 1


def test_log_rotates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logging_setup, "MAX_BYTES", 2000)
    path = configure_logging(log_dir=tmp_path)
    for i in range(200):
        logging.getLogger("vae_desktop").info("line %d", i)
    assert (tmp_path / f"{LOG_FILE_NAME}.1").exists()
    assert not (tmp_path / f"{LOG_FILE_NAME}.{logging_setup.BACKUP_COUNT + 1}").exists()
    assert path.stat().st_size <= 2000


def test_unwritable_log_folder_is_not_fatal(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the log folder should be")
    assert configure_logging(log_dir=blocker / "logs") is None


def test_no_console_is_fine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stderr", None)  # what pythonw.exe and a windowed bundle give the app
    path = configure_logging(log_dir=tmp_path)
    logging.getLogger("vae_desktop").warning("still recorded")
    assert "still recorded" in path.read_text(encoding="utf-8")


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_uncaught_exception_in_a_thread_is_logged(tmp_path: Path) -> None:
    path = configure_logging(log_dir=tmp_path, console=False)

    def crash() -> None:
        raise RuntimeError("worker fell over")

    thread = threading.Thread(target=crash, name="training")
    thread.start()
    thread.join()
    text = path.read_text(encoding="utf-8")
    assert "Uncaught exception in thread training" in text and "RuntimeError: worker fell over" in text


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_each_uncaught_exception_is_logged_once_while_the_window_shows_it(tmp_path: Path) -> None:
    """One owner of the exception hooks: configuring the log again while the window reports errors
    must not stack a second hook (each exception would be logged twice, the thread's too)."""
    path = configure_logging(log_dir=tmp_path, console=False)
    shown: list[BaseException] = []
    restore = logging_setup.report_uncaught_exceptions(shown.append)  # what run_gui sets up for the window
    try:
        assert configure_logging(log_dir=tmp_path, console=False) == path
        try:
            raise ValueError("a slot fell over")
        except ValueError as exc:
            sys.excepthook(type(exc), exc, exc.__traceback__)  # what Qt does with a slot's exception
        thread = threading.Thread(target=_raise_in_thread, name="loader")
        thread.start()
        thread.join()
    finally:
        restore()
    text = path.read_text(encoding="utf-8")
    assert text.count("ValueError: a slot fell over") == 1 and "_raise_in_thread" in text
    assert text.count("RuntimeError: the loader fell over") == 1
    assert [str(exc) for exc in shown] == ["a slot fell over"]  # the thread's exception is not the window's


def _raise_in_thread() -> None:
    raise RuntimeError("the loader fell over")
