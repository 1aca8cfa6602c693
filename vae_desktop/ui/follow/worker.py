"""FollowWorker: reads a followed run folder in its own QThread, so neither a slow network folder,
an SSH round trip nor a checkpoint load ever freezes the window.

It opens the run (core.runs.open_run: the whole history so far; an existing folder with no run yet
opens empty and is waited on), then polls it on a timer (`interval_ms`, at least once a second:
network and synced folders send no change events) and on every `poll_now` hint (the GUI's file
watcher). Each poll that finds something sends one `FollowNews` of plain values and numpy copies;
a poll that finds nothing still sends the status when it changed (stalled is noticed by time
passing, not by a file changing).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from vae_desktop.core.checkpoint import load_checkpoint
from vae_desktop.core.errors import VaeDesktopError
from vae_desktop.core.metrics import BatchMetrics, EpochMetrics
from vae_desktop.core.runs.checkpoint_watch import CheckpointFile
from vae_desktop.core.runs.follower import RunFollower, RunUpdate
from vae_desktop.core.runs.history import RunHistory
from vae_desktop.core.runs.opening import PathTarget, open_run, source_for
from vae_desktop.core.runs.state import STALL_AFTER_S, UNKNOWN, RunStatus
from vae_desktop.core.runs.tail import TailUpdate
from vae_desktop.ui.follow.news import FollowNews, LoadedModel, WholeHistory, batch_metrics
from vae_desktop.ui.logging_setup import LOGGER_NAME

log = logging.getLogger(f"{LOGGER_NAME}.follow")

POLL_INTERVAL_MS = 500  # twice a second: a new line shows within a second by polling alone
MAX_POLLS_PER_TICK = 64  # a backlog bigger than this many reads comes in over several ticks


class FollowWorker(QObject):
    news = Signal(object)  # FollowNews
    failed = Signal(str)  # the run could not be opened at all (one sentence)

    def __init__(self, target: PathTarget, stall_after_s: float = STALL_AFTER_S,
                 interval_ms: int = POLL_INTERVAL_MS, ssh_config: str | None = None) -> None:
        super().__init__()
        self.target = target
        self.ssh_config = ssh_config
        self.stall_after_s = stall_after_s
        self.interval_ms = interval_ms
        self._follower: RunFollower | None = None
        self._history = RunHistory()
        self._timer: QTimer | None = None
        self._last_status: RunStatus | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()  # poll and close never overlap

    def request_stop(self) -> None:
        """Called from the GUI thread: no more news; the thread's end closes the source."""
        self._stopping.set()

    @Slot()
    def begin(self) -> None:
        """Open the run (in the worker thread) and start polling it."""
        try:
            with self._lock:
                source = source_for(self.target, ssh_config=self.ssh_config)
                opened = open_run(source, stall_after_s=self.stall_after_s, wait_for_run=True)
        except VaeDesktopError as exc:
            self.failed.emit(str(exc))
            return
        except Exception as exc:  # a run that cannot be opened is said, never raised
            log.warning("Could not follow %s", self.target.path, exc_info=True)
            self.failed.emit(f"Could not follow {self.target.path}: {exc}")
            return
        self._follower = opened.follower
        self._history = opened.history
        problems = list(opened.problems)
        model = self._load(opened.checkpoint, problems) if opened.checkpoint is not None else None
        self._last_status = opened.status
        if not self._stopping.is_set():
            self.news.emit(FollowNews(opened.status, _steps_per_epoch(opened.status),
                                      history=WholeHistory.of(self._history), model=model,
                                      malformed_lines=opened.malformed_lines, problems=tuple(problems)))
        self._timer = QTimer(self)
        self._timer.setInterval(self.interval_ms)
        self._timer.timeout.connect(self.poll)
        self._timer.start()

    @Slot()
    def poll(self) -> None:
        follower = self._follower
        if follower is None or self._stopping.is_set():
            return
        with self._lock:
            news = self._poll(follower)
        if news is not None and not self._stopping.is_set():
            self.news.emit(news)

    def _poll(self, follower: RunFollower) -> FollowNews | None:
        updates: list[RunUpdate] = []
        for _ in range(MAX_POLLS_PER_TICK):
            try:
                update = follower.poll()
            except Exception as exc:  # poll() says problems itself; anything else too, once
                log.warning("Polling %s failed", self.target.path, exc_info=True)
                update = RunUpdate(status=self._status_or_unknown(), batch=TailUpdate().batch,
                                   problems=[f"Could not read the run: {exc}"])
            updates.append(update)
            if not update.more:
                break
        status = updates[-1].status
        whole = any(u.restarted or u.rewind is not None for u in updates)
        problems: list[str] = []
        checkpoint: CheckpointFile | None = None
        batches: list[BatchMetrics] = []
        epochs: list[EpochMetrics] = []
        spe = _steps_per_epoch(status)
        for update in updates:
            self._history.apply(update)
            problems.extend(p for p in update.problems if p not in problems)
            checkpoint = update.checkpoint or checkpoint
            if not whole:
                batches.extend(batch_metrics(update.batch, spe))
                epochs.extend(row.metrics for row in update.epochs)
        model = self._load(checkpoint, problems) if checkpoint is not None else None
        changed = (_settled(status) != _settled(self._last_status) or bool(problems) or whole or batches or epochs
                   or model is not None)
        self._last_status = status
        if not changed:
            return None
        return FollowNews(status, spe, history=WholeHistory.of(self._history) if whole else None,
                          batches=tuple(batches), epochs=tuple(epochs), model=model,
                          restarted=any(u.restarted for u in updates), malformed_lines=updates[-1].malformed_lines,
                          problems=tuple(problems))

    def _status_or_unknown(self) -> RunStatus:
        return self._last_status if self._last_status is not None else RunStatus(UNKNOWN, None)

    def _load(self, checkpoint: CheckpointFile, problems: list[str]) -> LoadedModel | None:
        """Load a reported checkpoint; a failure is a sentence, and a vanished file is tried again."""
        try:
            ckpt = load_checkpoint(checkpoint.path)
        except FileNotFoundError:
            if self._follower is not None:
                self._follower.checkpoint_failed()
            problems.append(f"{checkpoint.name} was replaced while it was loaded; trying again.")
            return None
        except VaeDesktopError as exc:  # damaged: the last good model stays; the next save is noticed by its stat
            problems.append(f"{checkpoint.name} could not be loaded ({str(exc).rstrip('.')}); the last good model stays.")
            return None
        except Exception as exc:
            log.warning("Could not load %s", checkpoint.path, exc_info=True)
            problems.append(f"{checkpoint.name} could not be loaded: {exc}")
            return None
        state = {k: v.detach().to("cpu", copy=True).numpy() for k, v in ckpt.model_state.items()}
        return LoadedModel(checkpoint.name, checkpoint.path, ckpt.model_config, state, ckpt.train_config.recon_loss,
                           ckpt.dataset, ckpt.train_config.seed, ckpt.progress.global_step, ckpt.image_size,
                           ckpt.train_config.beta)

    @Slot()
    def close_source(self) -> None:
        """Runs in the worker thread as it ends (connected directly to QThread.finished)."""
        if self._timer is not None:
            self._timer.stop()
        with self._lock:
            if self._follower is not None:
                try:
                    self._follower.close()
                except Exception:  # closing a dropped connection must not end the thread badly
                    log.info("Closing %s failed", self.target.path, exc_info=True)
                self._follower = None


def _steps_per_epoch(status: RunStatus) -> int:
    info = status.info
    return max(1, info.progress.steps_per_epoch) if info is not None else 1


def _settled(status: RunStatus | None) -> RunStatus | None:
    """The status without the seconds that grow by themselves: a poll that found nothing sends nothing."""
    return None if status is None else replace(status, silent_s=None, heartbeat_age_s=None)
