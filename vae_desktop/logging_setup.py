"""The app's log and its exception hooks: a rotating file in the user log folder (and stderr when there is one).

The Windows gui-script and the windowed bundle have no console: without a file, warnings and crashes
would vanish. What is logged is the app's own messages, file paths and versions, never image data,
weights or other user content. Call `configure_logging()` once, first thing in an entry point.

This module is the only owner of `sys.excepthook` and `threading.excepthook`: every uncaught exception
is logged here, once. A GUI that shows such errors in its window hands a reporter to
`report_uncaught_exceptions` (ui/logging_setup.py words the window's message).
"""

from __future__ import annotations

import logging
import logging.handlers
import platform
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from vae_desktop import __version__
from vae_desktop.core.paths import user_log_dir

LOGGER_NAME = "vae_desktop"  # the parent of every logger in the app
LOG_FILE_NAME = "vae-desktop.log"
MAX_BYTES = 1_000_000
BACKUP_COUNT = 3  # vae-desktop.log plus .1 .. .3: at most ~4 MB on disk
FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(threadName)s] %(message)s"
_HANDLER_MARK = "_vae_desktop_handler"

log = logging.getLogger(LOGGER_NAME)


def log_file_path() -> Path:
    """Where `configure_logging()` writes the log by default: what messages tell the user to look at."""
    return user_log_dir() / LOG_FILE_NAME


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
    _exception_hooks()
    log.info(
        "VAE Desktop %s starting: Python %s on %s%s",
        __version__,
        platform.python_version(),
        platform.platform(),
        " (bundle)" if getattr(sys, "frozen", False) else "",
    )
    return path


def report_uncaught_exceptions(report: Callable[[BaseException], None]) -> Callable[[], None]:
    """Until the returned function is called, an uncaught exception on the main thread (a Qt slot's ends
    there) is logged and passed to `report` instead of being printed: the app keeps running."""
    hooks = _exception_hooks()
    previous, hooks.report = hooks.report, report

    def restore() -> None:
        hooks.report = previous

    return restore


class _ExceptionHooks:
    """The process's `sys.excepthook` and `threading.excepthook` (as bound methods): each uncaught
    exception is logged, then handled as before (printed), or given to the reporter when one is set."""

    def __init__(self) -> None:
        self.previous_hook = sys.excepthook
        self.previous_thread_hook = threading.excepthook
        self.report: Callable[[BaseException], None] | None = None

    def excepthook(self, kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            self.previous_hook(kind, value, tb)
            return
        log.critical("Uncaught exception", exc_info=(kind, value, tb))
        if self.report is None:
            self.previous_hook(kind, value, tb)
            return
        try:
            self.report(value)
        except Exception:  # the reporter failing must not recurse into this hook
            log.exception("Could not report the uncaught exception")

    def thread_excepthook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_type is not SystemExit:
            name = args.thread.name if args.thread else "?"
            log.critical("Uncaught exception in thread %s", name, exc_info=args.exc_value)
        self.previous_thread_hook(args)


def _exception_hooks() -> _ExceptionHooks:
    """The installed hooks, installing them the first time: configuring twice never stacks a second pair."""
    installed = getattr(sys.excepthook, "__self__", None)
    if isinstance(installed, _ExceptionHooks):
        return installed
    hooks = _ExceptionHooks()
    sys.excepthook = hooks.excepthook
    threading.excepthook = hooks.thread_excepthook
    return hooks
