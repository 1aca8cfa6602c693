"""RunState: run.json read tolerantly, and what it means right now (running, stalled, finished, ...).

A follower must never lose what it knew because one read went wrong: a damaged or half-copied
run.json (a synced folder mid-update) keeps the last good state and says so.

Stalled: the writer beats at least every 10 s while running. Comparing its heartbeat time with
this machine's clock would need the two clocks to agree (a remote server's may be minutes off), so
the test is local: the heartbeat *value* has not changed for `stall_after_s` seconds of this
machine's monotonic clock. Two shortcuts call a run stalled sooner: the writer's process is known
to be gone (same host, local folder, its pid no longer exists), or a heartbeat seen for the first
time is already older than `stall_after_s` plus a generous allowance for clock skew (a run that
was interrupted long before it was opened).
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

from vae_desktop.core.runs.errors import RunFormatError
from vae_desktop.core.runs.schema import RUN_JSON, STATUS_RUNNING, RunInfo
from vae_desktop.core.runs.source import FileStat, RunSource

STALL_AFTER_S = 60.0
CLOCK_SKEW_ALLOWANCE_S = 600.0

UNKNOWN = "unknown"  # no run.json (yet): a folder with only a checkpoint, or a run not started
RUNNING = "running"
STALLED = "stalled"
FINISHED = "finished"
STOPPED = "stopped"
FAILED = "failed"
MISSING = "missing"  # run.json was there and is gone: the folder was deleted, moved or unmounted


@dataclass(frozen=True)
class RunStatus:
    state: str  # one of the names above
    info: RunInfo | None  # the last good run.json (None before one was read)
    message: str = ""  # the run's own message (why it failed), or why it is called stalled
    silent_s: float | None = None  # seconds of this machine's clock the heartbeat has not changed
    heartbeat_age_s: float | None = None  # this machine's time minus the heartbeat time (includes clock skew)
    problem: str | None = None  # why run.json could not be used this time (the last good state is shown)


class RunState:
    def __init__(
        self,
        source: RunSource,
        stall_after_s: float = STALL_AFTER_S,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        skew_allowance_s: float = CLOCK_SKEW_ALLOWANCE_S,
    ) -> None:
        self.source = source
        self.stall_after_s = stall_after_s
        self.skew_allowance_s = skew_allowance_s
        self._clock = clock
        self._wall_clock = wall_clock
        self.info: RunInfo | None = None
        self._seen: FileStat | None = None
        self._problem: str | None = None
        self._heartbeat: float | None = None
        self._heartbeat_changed_at = 0.0
        self._heartbeat_changes = 0  # how often the value changed while watched

    def poll(self) -> RunStatus:
        try:
            found = self.source.stat(RUN_JSON)
        except ConnectionError:
            raise  # the whole source is unreachable: the follower says so once
        except OSError as exc:
            return self._status(problem=f"Could not check {RUN_JSON}: {exc}")
        if found is None:
            if self.info is None:
                return RunStatus(UNKNOWN, None)
            return RunStatus(MISSING, self.info, problem=f"{RUN_JSON} is gone: the run folder was deleted, moved "
                                                           "or cannot be reached.")
        if self._seen is None or found.identity != self._seen.identity:
            self._read(found)
        return self._status(problem=self._problem)

    def _read(self, found: FileStat) -> None:
        try:
            data = self.source.read_bytes(RUN_JSON)
        except FileNotFoundError:
            return  # replaced between the stat and the read: the next poll reads the new one
        except ConnectionError:
            raise
        except OSError as exc:
            self._problem = f"Could not read {RUN_JSON}: {exc}"
            return
        self._seen = found
        try:
            info = RunInfo.from_dict(json.loads(data))
        except (ValueError, RunFormatError) as exc:
            why = str(exc) if isinstance(exc, RunFormatError) else "it is not complete JSON"
            keep = "; showing its last good state" if self.info is not None else ""
            self._problem = f"{RUN_JSON} could not be used ({why.rstrip('.')}){keep}."
            return
        self._problem = None
        self.info = info
        if info.heartbeat_at_s != self._heartbeat:
            if self._heartbeat is not None:
                self._heartbeat_changes += 1
            self._heartbeat = info.heartbeat_at_s
            self._heartbeat_changed_at = self._clock()

    def _status(self, problem: str | None) -> RunStatus:
        info = self.info
        if info is None:
            return RunStatus(UNKNOWN, None, problem=problem)
        silent = self._clock() - self._heartbeat_changed_at
        age = self._wall_clock() - info.heartbeat_at_s
        if info.status != STATUS_RUNNING:
            return RunStatus(info.status, info, info.message, silent, age, problem)
        reason = self._stall_reason(info, silent, age)
        if reason is not None:
            return RunStatus(STALLED, info, reason, silent, age, problem)
        return RunStatus(RUNNING, info, "", silent, age, problem)

    def _stall_reason(self, info: RunInfo, silent: float, age: float) -> str | None:
        if self._writer_gone(info):
            return f"The process that wrote it (pid {info.pid} on {info.host}) is no longer running."
        if silent >= self.stall_after_s:
            return f"No heartbeat for {silent:.0f} s."
        if self._heartbeat_changes == 0 and age > self.stall_after_s + self.skew_allowance_s:
            return f"Its last heartbeat was {_duration(age)} ago."
        return None

    def _writer_gone(self, info: RunInfo) -> bool:
        return self.source.is_local and writer_process_gone(info)


def writer_process_gone(info: RunInfo) -> bool:
    """True only when certain: written on this host, by a pid that no longer exists (and not this one)."""
    if os.name != "posix" or info.pid <= 0 or info.host != socket.gethostname():
        return False
    if info.pid == os.getpid():
        return False
    try:
        os.kill(info.pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except OSError:  # PermissionError: it exists and belongs to someone else
        return False
    return False


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} minutes"
    if seconds < 172800:
        return f"{seconds / 3600:.0f} hours"
    return f"{seconds / 86400:.0f} days"
