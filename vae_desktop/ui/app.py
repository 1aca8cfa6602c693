"""Start the GUI: paint the window first, load torch in the background, then enable training.

`run_gui` is what `vae-desktop` calls. `build_main_window` builds the very same window without an
event loop, with the core attached, for tests and benchmarks. Importing this module (and the
window) does not import torch: it takes about 2 s, and the first paint must come sooner.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence

from PySide6.QtCore import QEvent, QObject, QSettings, QTimer, QtMsgType, qInstallMessageHandler
from PySide6.QtWidgets import QApplication

from vae_desktop import __version__
from vae_desktop.core.allocator import tune_allocator
from vae_desktop.core.config import ModelConfig
from vae_desktop.logging_setup import configure_logging
from vae_desktop.ui.app_identity import apply_app_identity, prepare_app_identity
from vae_desktop.ui.background import BackgroundCall
from vae_desktop.ui.logging_setup import LOGGER_NAME, show_uncaught_exceptions
from vae_desktop.ui.main_window import MainWindow
from vae_desktop.ui.platform_check import check_platform
from vae_desktop.ui.theme import theme_manager
from vae_desktop.ui.window_polish import polish_side_panels, polish_window

log = logging.getLogger(LOGGER_NAME)

ORGANIZATION = "VAE Desktop"
APPLICATION = "VAE Desktop"
# A short GIL switch interval lets the GUI thread take the GIL back quickly from the training thread.
SWITCH_INTERVAL_S = 0.0005
EXIT_WAIT_S = 0.5
# If the window does not paint (shown minimized, or on a platform that never exposes it), the core
# still starts loading after this long.
FIRST_FRAME_FALLBACK_MS = 300


def create_application(argv: Sequence[str] | None = None) -> QApplication:
    """The QApplication (reused if one exists), with names that place QSettings and a consistent style.

    Raises PlatformUnavailableError (a VaeDesktopError: one message, exit 1) where Qt would abort
    because its X11 plugin cannot load or there is no display.
    """
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        app = existing
    else:
        check_platform()
        prepare_app_identity()  # before QApplication: the X11 WM_CLASS must match the launcher entry
        app = QApplication(list(argv) if argv is not None else sys.argv[:1])
    QApplication.setOrganizationName(ORGANIZATION)
    QApplication.setApplicationName(APPLICATION)
    QApplication.setApplicationVersion(__version__)
    apply_app_identity(app)  # desktop file name and window icon
    app.setStyle("Fusion")
    theme_manager()  # the light or dark Fusion palette of the system's colour scheme, before any widget exists
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    return app


def create_main_window(
    settings: QSettings | None = None, model_template: ModelConfig | None = None, training_threads: int | None = None
) -> MainWindow:
    """The window without the core: it paints at once; Start is enabled by `finish_main_window`."""
    window = MainWindow(settings=settings, model_template=model_template, training_threads=training_threads)
    polish_window(window)
    app = QApplication.instance()
    if app is not None:  # the one shutdown path: quitting stops training, file locks and panels' work
        app.aboutToQuit.connect(window.shutdown)
    return window


def finish_main_window(window: MainWindow, checkpoint_path: str | None = None) -> None:
    """Attach the core (torch) and the side panels, then open `checkpoint_path` if given: a checkpoint
    opens, a run folder or a remote address (user@host:/path) is followed live. Without one, offer to
    reopen a run that a crash interrupted (looked for off the GUI thread)."""
    window.attach_core()
    add_side_panels(window)
    if checkpoint_path:
        from vae_desktop.ui.follow.wiring import open_path

        assert window.follow is not None
        open_path(window, window.follow, checkpoint_path)
    elif window.run_folders is not None:
        window.run_folders.offer_interrupted()


def add_side_panels(window: MainWindow) -> None:
    """The latent map and the encoder inspector, both reading the window's CPU model copy."""
    from vae_desktop.ui.inspector import InspectorPanel
    from vae_desktop.ui.latent_panel import LatentPanel

    assert window.mirror is not None, "attach_core() first"
    latent = LatentPanel(window.mirror)
    inspector = InspectorPanel(window.mirror)
    window.add_side_panels(latent, inspector)
    latent.testImageSelected.connect(inspector.show_test_image)
    latent.imageOpened.connect(inspector.show_image)  # an opened file can be followed through the encoder
    window.testImageSelected.connect(latent.show_test_image)
    window.testImageSelected.connect(inspector.show_test_image)
    window.testImageSelected.connect(lambda _index: window.side_tabs.setCurrentWidget(inspector))
    window.epochFinished.connect(inspector.add_epoch)
    window.historyRestored.connect(inspector.set_epoch_history)

    def planned_epochs(*_: object) -> None:  # until they are done, the inspector says "so far"
        settings = window.controller.run_settings() if window.controller is not None else None
        planned = settings.train.epochs if settings is not None else None
        if planned != inspector.stage.planned:  # the status changes with every batch bundle; this rarely
            inspector.set_planned_epochs(planned)

    window.statusChanged.connect(planned_epochs)
    window.historyRestored.connect(planned_epochs)
    polish_side_panels(window, latent, inspector)


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
    import psygnal  # noqa: F401  (the latent explorer's state; with superqt ~0.2 s that the GUI thread skips)
    import superqt.utils  # noqa: F401  (the side panels' throttles)
    import torch  # noqa: F401

    import vae_desktop.ui.run_controller  # noqa: F401  (core trainer, checkpoints, datasets, model mirror)


def warm_up_core() -> None:
    """Do once, off the GUI thread, what the first training step would otherwise do in the middle of
    training: the first optimizer step imports ~900 modules (torch._dynamo, sympy; about 1 s)."""
    import torch

    from vae_desktop.core.optimizer import make_adam

    parameter = torch.nn.Parameter(torch.zeros(1))
    optimizer = make_adam([parameter], 1e-3, "cpu")  # the same kind of optimizer the trainer makes
    parameter.sum().backward()
    optimizer.step()


def freeze_startup_objects() -> None:
    """Exempt everything alive after start-up from garbage collection passes.

    The modules of torch, Qt and pyqtgraph make ~350,000 tracked objects; a full collection walks
    them all while holding the GIL (measured: 160 ms), stalling both the GUI and the training thread.
    """
    gc.freeze()  # no collect first: that full pass would itself be the 160 ms stall


class Launch:
    """The shown window and the start-up work running for it, held so that exit can join it."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.calls: list[BackgroundCall] = []

    def start(self, call: BackgroundCall) -> None:
        self.calls.append(call)
        call.start()

    def join(self, timeout_s: float) -> bool:
        """Wait up to `timeout_s` for start-up work and dataset loads; True when none is left running."""
        deadline = time.monotonic() + timeout_s
        calls_done = all(call.join(deadline - time.monotonic()) for call in self.calls)
        return self.window.join_background_work(max(0.0, deadline - time.monotonic())) and calls_done


def launch(checkpoint_path: str | None = None) -> Launch:
    """Show the window now; load the core in the background and finish the window when it is in."""
    window = create_main_window()
    window.show()
    started = Launch(window)

    def core_loaded(_: object) -> None:
        finish_main_window(window, checkpoint_path)
        started.start(BackgroundCall(warm_up_core, lambda _: freeze_startup_objects(),
                                     lambda exc: log.warning("Warm-up failed (training still works)", exc_info=exc),
                                     name="warm up", parent=window))

    def core_failed(exc: BaseException) -> None:
        log.error("Could not load the core", exc_info=exc)
        window.show_error(f"PyTorch could not be loaded, so training is unavailable: {exc}")

    loader = BackgroundCall(import_core, core_loaded, core_failed, name="import core", parent=window)
    after_first_frame(window, lambda: started.start(loader))
    return started


class _FirstFrame(QObject):
    """Runs `callback` once, right after `window`'s first paint pass (or after a fallback delay)."""

    def __init__(self, window: MainWindow, callback: Callable[[], None]) -> None:
        super().__init__(window)
        self._window = window
        self._callback: Callable[[], None] | None = callback
        window.installEventFilter(self)
        QTimer.singleShot(FIRST_FRAME_FALLBACK_MS, self, self._run)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._window and event.type() == QEvent.Type.Paint:
            self._window.removeEventFilter(self)
            QTimer.singleShot(0, self, self._run)  # queued from inside the paint pass: runs once it is flushed
        return False

    def _run(self) -> None:
        callback, self._callback = self._callback, None
        if callback is not None:
            self._window.removeEventFilter(self)
            callback()


def after_first_frame(window: MainWindow, callback: Callable[[], None]) -> None:
    """Call `callback` once the window's first frame is out.

    `import torch` in a background thread still holds the GIL for long stretches (loading its
    extension modules), so started any earlier it stretches the first paint: by about 100 ms
    (measured offscreen and under Xvfb), and on X11 the window is mapped, empty, meanwhile.
    """
    _FirstFrame(window, callback)


def run_gui(checkpoint_path: str | None = None, follow: Sequence[str] = ()) -> int:
    """Open the main window (optionally with a checkpoint or a run folder) and run until it is closed;
    `follow`: run folders or remote addresses to follow, one window each (`vae-desktop watch`)."""
    tune_allocator()  # before training allocates: ~30% faster CPU steps on glibc
    app = create_application()
    configure_logging()
    previous_handler = qInstallMessageHandler(_log_qt_message)
    launches = [launch(path) for path in follow] if follow else [launch(checkpoint_path)]
    started = launches[0]
    restore_hook = show_uncaught_exceptions(started.window.show_error)
    try:
        code = app.exec()
    finally:
        restore_hook()
        qInstallMessageHandler(previous_handler)
    if not all([each.join(EXIT_WAIT_S) for each in launches]):
        # Why os._exit: a dataset download or generation is still running in native code, and such a
        # call cannot be interrupted; interpreter shutdown would then abort the process under it
        # ("terminate called without an active exception"). The training thread has been joined by
        # then (aboutToQuit), so everything the user saved is on disk: leave directly.
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
