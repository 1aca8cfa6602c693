"""Routing of otherwise-silent GUI failures (slot exceptions) into the log file and the window.

The file itself is set up by `vae_desktop.logging_setup.configure_logging`.

On Windows a GUI app has no console, so an exception in a slot would vanish; here it is written to
`user_log_dir()/vae-desktop.log` and shown in the window by whoever installs `install_excepthook`.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from vae_desktop.core.paths import user_log_dir
from vae_desktop.logging_setup import LOG_FILE_NAME

LOGGER_NAME = "vae_desktop"


def log_file_path() -> Path:
    return user_log_dir() / LOG_FILE_NAME


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
