"""RunState: damaged run.json keeps the last good state; stalled, finished, failed and missing runs."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vae_desktop.core.runs.source import LocalSource
from vae_desktop.core.runs.state import FAILED, FINISHED, MISSING, RUNNING, STALLED, UNKNOWN, RunState

from .conftest import epoch_metrics, new_writer

CHILD = Path(__file__).with_name("writer_child.py")


def _wait_for(condition, timeout_s: float = 20.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def _start_child(folder, *args: str) -> subprocess.Popen:
    child = subprocess.Popen([sys.executable, str(CHILD), str(folder), *args], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline() == "started\n"
    return child


def _stop_child(child: subprocess.Popen) -> None:
    if child.poll() is None:
        child.kill()
    child.wait(10)


def test_a_damaged_run_json_keeps_the_last_good_state(run_dir):
    writer = new_writer(run_dir).start()
    state = RunState(LocalSource(run_dir))
    good = state.poll()
    assert good.state == RUNNING and good.problem is None and good.info.dataset == "shapes"
    writer.stop()
    text = (run_dir / "run.json").read_text()
    (run_dir / "run.json").write_text(text[: len(text) // 2])  # half-copied by a sync client
    damaged = state.poll()
    assert damaged.info == good.info and damaged.state == RUNNING
    assert damaged.problem == "run.json could not be used (it is not complete JSON); showing its last good state."
    (run_dir / "run.json").write_text(json.dumps({**json.loads(text), "status": "exploded"}))
    assert "unknown status 'exploded'" in state.poll().problem
    (run_dir / "run.json").write_text(text)
    repaired = state.poll()
    assert repaired.problem is None and repaired.state == "stopped"


def test_a_run_json_damaged_from_the_start_says_so_without_a_state(run_dir):
    run_dir.mkdir()
    (run_dir / "run.json").write_bytes(b"\x00\x01garbage")
    status = RunState(LocalSource(run_dir)).poll()
    assert status.state == UNKNOWN and status.info is None and "not complete JSON" in status.problem


def test_finished_and_failed_runs_report_their_message(run_dir, tmp_path):
    with new_writer(run_dir, epochs=1) as writer:
        writer.log_epoch(epoch_metrics(1))
    assert RunState(LocalSource(run_dir)).poll().state == FINISHED
    failed = new_writer(tmp_path / "f").start()
    failed.fail("The loss became NaN at epoch 3, step 12.")
    status = RunState(LocalSource(tmp_path / "f")).poll()
    assert status.state == FAILED and status.message == "The loss became NaN at epoch 3, step 12."


def test_a_frozen_writer_is_stalled_when_its_heartbeat_stops_changing(run_dir):
    child = _start_child(run_dir, "--steps", "1000", "--heartbeat-s", "0.05")
    try:
        state = RunState(LocalSource(run_dir), stall_after_s=0.6)
        _wait_for(lambda: state.poll().state == RUNNING)
        _wait_for(lambda: state.poll().silent_s < 0.2)  # it beats
        child.send_signal(signal.SIGSTOP)  # alive but not running: a hung mount, a stopped job
        stopped_at = time.monotonic()
        stalled = _wait_for(lambda: (s := state.poll()).state == STALLED and s)
        assert time.monotonic() - stopped_at >= 0.5
        assert stalled.message.startswith("No heartbeat for")
        child.send_signal(signal.SIGCONT)
        _wait_for(lambda: state.poll().state == RUNNING)
    finally:
        child.send_signal(signal.SIGCONT)
        _stop_child(child)


def test_a_killed_writer_on_this_host_is_stalled_at_once(run_dir):
    child = _start_child(run_dir, "--steps", "1000")
    state = RunState(LocalSource(run_dir))  # the default 60 s: the dead pid decides, not the timeout
    assert state.poll().state == RUNNING
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    status = state.poll()
    assert status.state == STALLED
    assert status.message == f"The process that wrote it (pid {child.pid} on {status.info.host}) is no longer running."


def _run_json_from_elsewhere(folder, heartbeat_at_s: float) -> None:
    """A running run's run.json as another machine (own host, own clock) writes it."""
    if not (folder / "run.json").exists():
        new_writer(folder).start().stop()
    data = json.loads((folder / "run.json").read_text())
    data.update(status="running", host="gpu-server-7", heartbeat_at_s=heartbeat_at_s)
    (folder / "run.json").write_text(json.dumps(data))


def test_a_heartbeat_already_old_when_first_seen_is_stalled(run_dir):
    _run_json_from_elsewhere(run_dir, time.time() - 3 * 3600)
    status = RunState(LocalSource(run_dir)).poll()
    assert status.state == STALLED and status.message == "Its last heartbeat was 3 hours ago."


def test_a_remote_clock_far_ahead_or_behind_does_not_make_a_live_run_stalled(run_dir):
    state = RunState(LocalSource(run_dir), stall_after_s=0.5, skew_allowance_s=0)
    for offset in (-1800, 1800):  # the other machine's clock is half an hour off
        for i in range(5):
            _run_json_from_elsewhere(run_dir, time.time() + offset + i * 0.1)
            status = state.poll()
            time.sleep(0.15)
        assert status.state == RUNNING, status
        assert abs(status.heartbeat_age_s + offset) < 60


def test_a_deleted_folder_is_missing_and_keeps_what_was_known(run_dir):
    writer = new_writer(run_dir).start()
    state = RunState(LocalSource(run_dir))
    assert state.poll().state == RUNNING
    writer.stop()
    shutil.rmtree(run_dir)
    status = state.poll()
    assert status.state == MISSING and status.info is not None and "is gone" in status.problem


@pytest.mark.skipif(os.name != "posix", reason="pid checks are POSIX-only")
def test_a_run_from_another_host_is_never_judged_by_local_pids(run_dir):
    _run_json_from_elsewhere(run_dir, time.time())
    data = json.loads((run_dir / "run.json").read_text())
    data["pid"] = 999_999_999  # no such pid here; but it is not a pid of this host
    (run_dir / "run.json").write_text(json.dumps(data))
    assert RunState(LocalSource(run_dir)).poll().state == RUNNING
