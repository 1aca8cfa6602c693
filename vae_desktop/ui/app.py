"""Start the GUI: paint the window first, load torch in the background, then enable training.

`run_gui` is what `vae-desktop` calls. `build_main_window` builds the very same window without an
event loop, with the core attached, for tests and benchmarks. Importing this module (and the
window) does not import torch: it takes about 2 s, and the first paint must come sooner.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence

from PySide6.QtCore import QSettings, QTimer, QtMsgType, qInstallMessageHandler
from PySide6.QtWidgets import QApplication

from vae_desktop import __version__
from vae_desktop.core.config import ModelConfig
from vae_desktop.ui.background import BackgroundCall, wait_for_background_threads
from vae_desktop.ui.logging_setup import LOGGER_NAME, configure_logging, install_excepthook
from vae_desktop.ui.main_window import MainWindow

log = logging.getLogger(LOGGER_NAME)

ORGANIZATION = "VAE Desktop"
APPLICATION = "VAE Desktop"
# A short GIL switch interval lets the GUI thread take the GIL back quickly from the training thread.
SWITCH_INTERVAL_S = 0.001
EXIT_WAIT_S = 0.5


def create_application(argv: Sequence[str] | None = None) -> QApplication:
    """The QApplication (reused if one exists), with names that place QSettings and a consistent style."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(list(argv) if argv is not None else sys.argv[:1])
    QApplication.setOrganizationName(ORGANIZATION)
    QApplication.setApplicationName(APPLICATION)
    QApplication.setApplicationVersion(__version__)
    QApplication.setDesktopFileName("vae-desktop")
    app.setStyle("Fusion")
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    return app  # type: ignore[return-value]


def create_main_window(
    settings: QSettings | None = None, model_template: ModelConfig | None = None, training_threads: int | None = None
) -> MainWindow:
    """The window without the core: it paints at once; Start is enabled by `finish_main_window`."""
    return MainWindow(settings=settings, model_template=model_template, training_threads=training_threads)


def finish_main_window(window: MainWindow, checkpoint_path: str | None = None) -> None:
    """Attach the core (torch) and the side panels, then open `checkpoint_path` if given."""
    window.attach_core()
    if checkpoint_path:
        window.open_checkpoint(checkpoint_path)


def build_main_window(
    checkpoint_path: str | None = None,
    settings: QSettings | None = None,
    model_template: ModelConfig | None = None,
    training_threads: int | None = None,
) -> MainWindow:
    """The complete window, core attached, without entering the event loop (tests, benchmarks)."""
    create_application()
    window = create_main_window(settings, model_template, training_threads)
    finish_main_window(window, checkpoint_path)
    return window


def import_core() -> None:
    """Everything `finish_main_window` needs, imported off the GUI thread while the window paints."""
    import torch  # noqa: F401

    import vae_desktop.ui.run_controller  # noqa: F401  (core trainer, checkpoints, datasets, model mirror)


def launch(checkpoint_path: str | None = None) -> MainWindow:
    """Show the window now; load the core in the background and finish the window when it is in."""
    window = create_main_window()
    window.show()

    def core_loaded(_: object) -> None:
        finish_main_window(window, checkpoint_path)

    def core_failed(exc: BaseException) -> None:
        log.error("Could not load the core", exc_info=exc)
        window.show_error(f"PyTorch could not be loaded, so training is unavailable: {exc}")

    loader = BackgroundCall(import_core, core_loaded, core_failed, name="import core", parent=window)
    QTimer.singleShot(0, loader.start)  # after the first paint has been queued
    return window


def run_gui(checkpoint_path: str | None = None) -> int:
    """Open the main window (optionally with a checkpoint) and run until it is closed."""
    app = create_application()
    log_path = configure_logging()
    log.info("VAE Desktop %s starting (log file %s)", __version__, log_path)
    previous_handler = qInstallMessageHandler(_log_qt_message)
    window = launch(checkpoint_path)
    restore_hook = install_excepthook(window.show_error)
    try:
        code = app.exec()
    finally:
        restore_hook()
        qInstallMessageHandler(previous_handler)
    if not wait_for_background_threads(EXIT_WAIT_S):
        # A dataset download or generation is still running in native code; interpreter shutdown
        # would abort the process under it. Everything the user saved is on disk: leave directly.
        log.info("VAE Desktop closed (background work abandoned)")
        logging.shutdown()
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
        os._exit(code)
    log.info("VAE Desktop closed")
    return code


def _log_qt_message(kind: QtMsgType, context: object, message: str) -> None:
    """Qt's own warnings (e.g. about threads) go to the log file, where a user can send them to us."""
    level = {
        QtMsgType.QtDebugMsg: logging.DEBUG,
        QtMsgType.QtInfoMsg: logging.INFO,
        QtMsgType.QtWarningMsg: logging.WARNING,
    }.get(kind, logging.ERROR)
    logging.getLogger(f"{LOGGER_NAME}.qt").log(level, "%s", message)
    if level >= logging.WARNING:
        print(message, file=sys.stderr)
