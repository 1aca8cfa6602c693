"""The app's log file, and routing of otherwise-silent failures (slot exceptions, Qt warnings) into it.

On Windows a GUI app has no console, so an exception in a slot would vanish; here it is written to
`user_log_dir()/vae-desktop.log` and shown in the window by whoever installs `install_excepthook`.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from vae_desktop.core.paths import user_log_dir

LOGGER_NAME = "vae_desktop"
LOG_FILE_NAME = "vae-desktop.log"


def log_file_path() -> Path:
    return user_log_dir() / LOG_FILE_NAME


def configure_logging() -> Path:
    """Attach a rotating file handler to the app logger once; return the log file's path."""
    path = log_file_path()
    logger = logging.getLogger(LOGGER_NAME)
    logger.setLevel(logging.INFO)
    if not any(getattr(h, "baseFilename", None) == str(path) for h in logger.handlers):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handler = logging.handlers.RotatingFileHandler(path, maxBytes=2_000_000, backupCount=2, encoding="utf-8")
        except OSError:
            return path  # an unwritable log folder must not stop the app from starting
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"))
        logger.addHandler(handler)
    return path


def install_excepthook(report: Callable[[str], None]) -> Callable[[], None]:
    """Log uncaught exceptions (Qt slots end up here) and pass a one-line summary to `report`.

    Returns a function that restores the previous hook.
    """
    previous = sys.excepthook
    logger = logging.getLogger(LOGGER_NAME)

    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            previous(kind, value, tb)
            return
        logger.error("Uncaught exception:\n%s", "".join(traceback.format_exception(kind, value, tb)))
        try:
            report(f"Unexpected error: {value or kind.__name__}. Details are in {log_file_path()}.")
        except Exception:  # the reporter itself failing must not recurse into this hook
            logger.exception("Could not show the error in the window")

    sys.excepthook = hook

    def restore() -> None:
        sys.excepthook = previous

    return restore
