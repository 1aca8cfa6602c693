"""The window's side of the log: an uncaught exception in a slot shown as one line in the window.

The log file and the process's exception hooks belong to `vae_desktop.logging_setup`; this module only
words the message and hands it to the window. On Windows a GUI app has no console, so an exception in
a slot would otherwise vanish. `LOGGER_NAME` and `log_file_path` are re-exported for the ui modules.
"""

from __future__ import annotations

from collections.abc import Callable

from vae_desktop.logging_setup import LOGGER_NAME, log_file_path, report_uncaught_exceptions

__all__ = ["LOGGER_NAME", "log_file_path", "show_uncaught_exceptions"]


def show_uncaught_exceptions(show: Callable[[str], None]) -> Callable[[], None]:
    """Until the returned function is called, an uncaught exception (logged with its traceback) is also
    passed to `show` as one line naming the log file, and the app keeps going."""

    def report(exc: BaseException) -> None:
        show(f"Unexpected error: {str(exc) or type(exc).__name__}. Details are in {log_file_path()}.")

    return report_uncaught_exceptions(report)
