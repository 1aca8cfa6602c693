"""FollowController: the window following a run another process writes, read-only, live.

It starts a `FollowWorker` in a QThread, feeds what it reads into the very paths the window's own
training uses (the plots' batches / epochFinished / historyReset, the ModelMirror), and keeps the
banner's sentence current once a second ("last update 2 s ago" counts up between polls).
A QFileSystemWatcher on the folder only hints the worker to poll sooner: network and synced
folders send no events, so the worker's own timer is what guarantees news.

While following, the run controller's status says `following` (core.training_status.controls_for
turns every training and run-replacing control off in that one place). Stop following puts the
window's own run back; Continue here opens the followed run's latest checkpoint as the window's
own run and continues it, exactly as opening a checkpoint and pressing Continue does (a run followed
over SSH is copied here first: ui/follow/continuing.py). A folder that holds no run yet is followed
too, the banner saying it waits for one to start there.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QFileSystemWatcher, QObject, Qt, QThread, QTimer, Signal, Slot

from vae_desktop.core.runs.follow_text import follow_text
from vae_desktop.core.runs.opening import PathKind, PathTarget, classify_path, to_follow
from vae_desktop.core.runs.schema import CHECKPOINT_DIR, METRICS_JSONL, RUN_JSON
from vae_desktop.core.runs.state import STALL_AFTER_S, RunStatus
from vae_desktop.ui.current_run import HistorySnapshot
from vae_desktop.ui.follow.continuing import RemoteContinuation
from vae_desktop.ui.follow.news import FollowNews, LoadedModel
from vae_desktop.ui.follow.worker import POLL_INTERVAL_MS, FollowWorker
from vae_desktop.ui.logging_setup import LOGGER_NAME
from vae_desktop.ui.retired_threads import RetiredThreads

if TYPE_CHECKING:
    from vae_desktop.core.datasets.base import ImageDataset
    from vae_desktop.ui.main_window import MainWindow

log = logging.getLogger(f"{LOGGER_NAME}.follow")

BANNER_TICK_MS = 1000
THREAD_WAIT_MS = 5000  # closing the window waits this long for a poll in progress (an SSH round trip)


class FollowController(QObject):
    batches = Signal(object)  # tuple[BatchMetrics, ...]: new rows of the followed run
    epochFinished = Signal(object)  # EpochMetrics
    historyReset = Signal(object)  # HistorySnapshot: the followed run's whole history (opened, restarted)
    modelLoaded = Signal(str)  # the checkpoint name now in the mirror (after weights or model were set)
    newsArrived = Signal(object)  # FollowNews, after it was applied (tests, benchmarks)
    followingChanged = Signal(bool)
    _pollSoon = Signal()  # a file watcher's hint, queued to the worker's thread

    def __init__(self, window: MainWindow, stall_after_s: float = STALL_AFTER_S,
                 interval_ms: int = POLL_INTERVAL_MS, watch_files: bool = True) -> None:
        super().__init__(window)
        self.window = window
        self.banner = window.follow_banner
        self.stall_after_s = stall_after_s
        self.interval_ms = interval_ms
        self.watch_files = watch_files
        self.ssh_config: str | None = None  # None: the user's ~/.ssh/config (as ssh reads it)
        self.target: PathTarget | None = None
        self.status: RunStatus | None = None
        self.model: LoadedModel | None = None  # the followed run's checkpoint now in the mirror
        self._worker: FollowWorker | None = None
        self._thread: QThread | None = None
        self._retired = RetiredThreads()
        self._last_news_at: float | None = None
        self._heartbeat_at: float | None = None
        self._restarted = False
        self._problems: tuple[str, ...] = ()
        self._malformed = 0
        self._waiting = False  # nothing of a run read yet: the folder was followed before its run started
        self._dataset_asked: str | None = None
        self._watcher: QFileSystemWatcher | None = None
        self._tick = QTimer(self)
        self._tick.setInterval(BANNER_TICK_MS)
        self._tick.timeout.connect(self._render)
        self.banner.stopRequested.connect(self.stop)
        self.banner.continueRequested.connect(self.continue_here)
        self.remote_continuation = RemoteContinuation(self)

    # ---- state ---------------------------------------------------------------------------------
    @property
    def active(self) -> bool:
        return self.target is not None

    @property
    def name(self) -> str:
        if self.target is None:
            return ""
        if self.target.address is not None:
            return Path(self.target.address.path.rstrip("/")).name or self.target.address.host
        return Path(self.target.path).resolve().name

    @property
    def where(self) -> str:
        """The host the run is written on (run.json's), or the SSH host before run.json was read."""
        info = self.status.info if self.status is not None else None
        if info is not None and info.host:
            return info.host
        return self.target.address.host if self.target is not None and self.target.address is not None else ""

    def banner_text(self) -> str:
        return self.banner.message()

    # ---- start and stop ------------------------------------------------------------------------
    def follow(self, text: str) -> bool:
        """Follow the run folder or remote address `text`; False (and a message) when it cannot be."""
        target = to_follow(classify_path(text))  # a folder with no run yet is waited on
        if target.kind is PathKind.CHECKPOINT:
            self.window.show_error(f"{Path(target.path).name} is a checkpoint, not a run folder: open it with "
                                   "File ▸ Open checkpoint to continue it, or follow the folder it is in.")
            return False
        if target.kind is PathKind.NEITHER:
            self.window.show_error(target.reason)
            return False
        controller = self.window.controller
        if controller is None:
            return False
        if self.active:
            self._end_worker()
        elif not controller.set_following(True):
            self.window.show_error("Stop training before following another run.")
            return False
        self.target = target
        self.status, self.model, self._dataset_asked = None, None, None
        self._last_news_at = self._heartbeat_at = None
        self._restarted, self._problems, self._malformed, self._waiting = False, (), 0, True
        worker = FollowWorker(target, stall_after_s=self.stall_after_s, interval_ms=self.interval_ms,
                              ssh_config=self.ssh_config)
        thread = QThread(self)
        thread.setObjectName("vae-desktop: follow")
        worker.moveToThread(thread)
        thread.started.connect(worker.begin)
        thread.finished.connect(worker.close_source, Qt.ConnectionType.DirectConnection)  # in the worker thread
        worker.news.connect(self._on_news)
        worker.failed.connect(self._on_failed)
        self._pollSoon.connect(worker.poll)  # queued: the worker lives in its own thread
        self._worker, self._thread = worker, thread
        if self.watch_files and target.kind is PathKind.RUN_FOLDER:
            self._watch(target.path)
        self.banner.show_text(f"Following {self.name}: opening…", "info", False)
        self._tick.start()
        self.followingChanged.emit(True)
        log.info("Following %s", target.path)
        thread.start()
        return True

    @Slot()
    def stop(self) -> None:
        """Stop following: the window shows its own run again."""
        if not self.active:
            return
        self._leave()
        controller = self.window.controller
        if controller is not None:
            controller.show_own_run()

    def _leave(self) -> None:
        log.info("Stopped following %s", self.target.path if self.target else "")
        self._end_worker()
        self.target, self.status, self.model = None, None, None
        self._tick.stop()
        self.banner.hide()
        controller = self.window.controller
        if controller is not None:
            controller.set_following(False)
        self.followingChanged.emit(False)

    @Slot()
    def continue_here(self) -> bool:
        """Make the followed run the window's own, from its latest checkpoint, and continue training it."""
        if not self.active or self.status is None or self.model is None:
            return False
        text = follow_text(self.name, self.where, self.status, None)
        if not text.can_continue:
            self.window.show_error("The run is still running: it can be continued here once it has stopped.")
            return False
        if self.target is None:
            return False
        if self.target.kind is PathKind.REMOTE:  # copied here first (off the GUI thread), then continued
            started = self.remote_continuation.start()
            self._render()
            return started
        candidate = Path(self.target.path) / self.model.name
        path = str(candidate) if candidate.is_file() else self.model.path
        if not self.take_over(path):
            return False
        self.window.start_training()
        return True

    def take_over(self, path: str) -> bool:
        """Stop following and open `path` (a checkpoint or a run folder) as the window's own run; False,
        with the window's own run back, when Open was refused (cancelled at the unsaved-work question)."""
        self._leave()  # first: no news may reach the mirror or the plots while Open asks about unsaved work
        if not self.window.open_over_run(path):  # asks about unsaved progress first, as any Open does
            controller = self.window.controller
            if controller is not None:
                controller.show_own_run()
            return False
        return True

    def shutdown(self) -> None:
        """The window closes: stop polling and wait (briefly) for the worker thread."""
        self._tick.stop()
        self._end_worker()
        self.remote_continuation.join(THREAD_WAIT_MS / 1000)
        self._retired.wait(THREAD_WAIT_MS)

    def _end_worker(self) -> None:
        worker, thread = self._worker, self._thread
        self._worker = self._thread = None
        if self._watcher is not None:
            self._watcher.deleteLater()
            self._watcher = None
        if worker is None or thread is None:
            return
        worker.request_stop()
        worker.news.disconnect(self._on_news)
        worker.failed.disconnect(self._on_failed)
        self._pollSoon.disconnect(worker.poll)
        self._retired.retire(thread, worker)

    # ---- what the worker found -----------------------------------------------------------------
    @Slot(str)
    def _on_failed(self, message: str) -> None:
        if self.sender() is not self._worker:
            return
        self._leave()
        self.window.show_error(message)
        controller = self.window.controller
        if controller is not None:
            controller.show_own_run()

    @Slot(object)
    def _on_news(self, news: FollowNews) -> None:
        if self.sender() is not self._worker or not self.active:
            return
        self.status = news.status
        spe = news.steps_per_epoch
        if news.history is not None:
            h = news.history
            self.historyReset.emit(HistorySnapshot(h.steps, h.recon, h.kl, list(h.epochs), spe))
        if news.batches:
            self.batches.emit(news.batches)
        for metrics in news.epochs:
            self.epochFinished.emit(metrics)
        if news.model is not None:
            self._show_model(news.model)
        if news.has_rows or news.model is not None:
            self._last_news_at = time.monotonic()
        if news.status.silent_s is not None:
            self._heartbeat_at = time.monotonic() - news.status.silent_s
        self._restarted = self._restarted or news.restarted
        self._problems = news.problems
        self._malformed = news.malformed_lines
        whole = news.history
        found = news.status.info is not None or news.model is not None or bool(news.batches or news.epochs)
        self._waiting = self._waiting and not found and (whole is None or (len(whole.steps) == 0 and not whole.epochs))
        self._render()
        self.newsArrived.emit(news)

    def _show_model(self, loaded: LoadedModel) -> None:
        controller = self.window.controller
        if controller is None:
            return
        mirror = controller.mirror
        current = mirror.model
        if self.model is not None and current is not None and current.config == loaded.model_config:
            mirror.update_weights(loaded.state)  # the user's handles, view and selection stay
        else:
            mirror.set_model(loaded.model_config, loaded.state, loaded.recon_loss, loaded.beta)
        self.model = loaded
        if self._dataset_asked != loaded.dataset:
            self._dataset_asked = loaded.dataset
            target = self.target

            def show(dataset: ImageDataset | None) -> None:
                if dataset is not None and self.target is target and self.active:
                    mirror.set_dataset(dataset)

            controller.load_dataset(loaded.dataset, loaded.seed, show, loaded.image_size)
        self.modelLoaded.emit(loaded.name)

    @Slot()
    def _render(self) -> None:
        if not self.active:
            return
        if self.status is None:
            return
        if self.remote_continuation.copying(self.target):
            self.banner.show_text(f"Copying {self.name} from {self.where} to this machine to continue it here…",
                                  "info", False)
            return
        now = time.monotonic()
        since = None if self._last_news_at is None else now - self._last_news_at
        if self._heartbeat_at is not None:  # a heartbeat is news too: it says the writer lives
            since = now - self._heartbeat_at if since is None else min(since, now - self._heartbeat_at)
        text = follow_text(self.name, self.where, self.status, since, self._restarted, self._problems,
                           self._malformed, waiting=self._waiting)
        self.banner.show_text(text.text, text.kind, text.can_continue and self.model is not None)

    # ---- hints ---------------------------------------------------------------------------------
    def _watch(self, folder: str) -> None:
        watcher = QFileSystemWatcher(self)
        self._watcher = watcher
        self._rewatch(folder)
        worker = self._worker
        assert worker is not None

        def hint(_path: str) -> None:
            if self._worker is worker:
                self._rewatch(folder)
                self._pollSoon.emit()

        watcher.fileChanged.connect(hint)
        watcher.directoryChanged.connect(hint)

    def _rewatch(self, folder: str) -> None:
        """Watch what exists now (a file replaced by a rename drops out of the watch: add it again)."""
        watcher = self._watcher
        if watcher is None:
            return
        wanted = [os.path.join(folder, name) for name in ("", RUN_JSON, METRICS_JSONL, CHECKPOINT_DIR)]
        present = set(watcher.files()) | set(watcher.directories())
        missing = [p.rstrip(os.sep) for p in wanted if p.rstrip(os.sep) not in present and os.path.exists(p)]
        if missing:
            watcher.addPaths(missing)
