"""Send the app's log to a rotating file in the user log folder (and to stderr when there is one).

The Windows gui-script and the windowed bundle have no console: without a file, warnings and crashes
would vanish. What is logged is the app's own messages, file paths and versions, never image data,
weights or other user content. Call `configure_logging()` once, first thing in the GUI entry point.
"""

from __future__ import annotations

import logging
import logging.handlers
import platform
import sys
import threading
from pathlib import Path
from types import TracebackType

from vae_desktop import __version__
from vae_desktop.core.paths import user_log_dir

LOG_FILE_NAME = "vae-desktop.log"
MAX_BYTES = 1_000_000
BACKUP_COUNT = 3  # vae-desktop.log plus .1 .. .3: at most ~4 MB on disk
FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(threadName)s] %(message)s"
_HANDLER_MARK = "_vae_desktop_handler"

log = logging.getLogger("vae_desktop")


def configure_logging(level: int = logging.INFO, log_dir: Path | None = None, console: bool = True) -> Path | None:
    """Attach the file handler (and a WARNING-level stderr handler) to the root logger; safe to call twice.

    Returns the log file, or None when the log folder cannot be written (the app still runs: a
    read-only home must not stop it, and the reason goes to stderr where there is one).
    """
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level)
    formatter = logging.Formatter(FORMAT)

    if console and sys.stderr is not None:  # pythonw / a windowed bundle on Windows: stderr is None
        stream = logging.StreamHandler(sys.stderr)
        stream.setLevel(logging.WARNING)
        stream.setFormatter(formatter)
        setattr(stream, _HANDLER_MARK, True)
        root.addHandler(stream)

    folder = user_log_dir() if log_dir is None else log_dir
    path = folder / LOG_FILE_NAME
    try:
        folder.mkdir(parents=True, exist_ok=True)
        file_handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8"
        )
    except OSError as exc:
        log.warning("Cannot write the log file %s (%s); logging to the console only", path, exc)
        return None
    file_handler.setLevel(level)
    file_handler.setFormatter(formatter)
    setattr(file_handler, _HANDLER_MARK, True)
    root.addHandler(file_handler)

    logging.captureWarnings(True)
    _install_exception_hooks()
    log.info(
        "VAE Desktop %s starting: Python %s on %s%s",
        __version__,
        platform.python_version(),
        platform.platform(),
        " (bundle)" if getattr(sys, "frozen", False) else "",
    )
    return path


def _install_exception_hooks() -> None:
    """Uncaught exceptions (main thread and worker threads) end up in the log before the default handling."""
    if getattr(sys.excepthook, _HANDLER_MARK, False):
        return
    previous_hook = sys.excepthook
    previous_thread_hook = threading.excepthook

    def excepthook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        if not issubclass(kind, KeyboardInterrupt):
            log.critical("Uncaught exception", exc_info=(kind, value, tb))
        previous_hook(kind, value, tb)

    def thread_excepthook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is not SystemExit:
            name = args.thread.name if args.thread else "?"
            exc_info = (args.exc_type, args.exc_value, args.exc_traceback)
            log.critical("Uncaught exception in thread %s", name, exc_info=exc_info)
        previous_thread_hook(args)

    setattr(excepthook, _HANDLER_MARK, True)
    sys.excepthook = excepthook
    threading.excepthook = thread_excepthook
