"""The run lock between real processes: refused while held (naming the holder), free once the holder dies
however it dies, and only a holder removes temp files, only its own kind."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from vae_desktop.core.errors import RunInUseError
from vae_desktop.core.run_lock import HeldLocks, RunLock, is_held_elsewhere

REPO = Path(__file__).resolve().parents[2]


def _holder(target: Path, command: str = "vae-desktop train") -> subprocess.Popen:
    """A real process that takes the lock, says so, and waits to be killed."""
    code = textwrap.dedent(f"""
        import sys, time
        from vae_desktop.core.run_lock import RunLock
        lock = RunLock({str(target)!r}, command={command!r})
        lock.acquire()
        print("held", flush=True)
        time.sleep(600)
    """)
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": str(REPO)})
    assert child.stdout.readline().strip() == "held"
    return child


def test_a_lock_held_by_another_process_is_refused_naming_it_and_free_once_it_is_killed(tmp_path):
    target = tmp_path / "model.vaeckpt"
    child = _holder(target)
    try:
        with pytest.raises(RunInUseError) as refused:
            RunLock(target).acquire()
        assert str(refused.value).startswith(
            f"{target} is in use by vae-desktop train (process {child.pid} on {socket.gethostname()}, since ")
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    lock = RunLock(target, command="second")
    lock.acquire()  # the kernel dropped the dead holder's lock
    assert '"command": "second"' in lock.info_path.read_text()
    lock.release()
    assert not lock.info_path.exists()


def test_an_info_file_left_by_a_dead_holder_is_not_taken_for_the_live_one(tmp_path):
    target = tmp_path / "model.vaeckpt"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    child = _holder(target)
    try:
        info = tmp_path / ".model.vaeckpt.lock.json"
        info.write_text(f'{{"pid": {dead.stdout.strip()}, "host": "{socket.gethostname()}", '
                        '"command": "an old run", "since": 0}')
        with pytest.raises(RunInUseError, match="is in use by another VAE Desktop process"):
            RunLock(target).acquire()
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(30)


def test_only_our_stale_temp_files_are_removed_and_only_by_the_holder(tmp_path):
    target = tmp_path / "model.vaeckpt"
    ours = [tmp_path / ".model.vaeckpt.a1b2c3d4.tmp", tmp_path / ".metrics.csv.zz_9yy8x.tmp"]
    others = [tmp_path / n for n in (".model.vaeckpt.tmp", ".model.vaeckpt.a1b2c3d4.tmp.bak", "x.tmp",
                                     ".other.vaeckpt.a1b2c3d4.tmp", ".model.vaeckpt.A1B2C3D4.tmp")]
    child = _holder(target)  # a live writer's temp files are not stale
    for path in ours + others:
        path.write_text("x")
    (tmp_path / ".model.vaeckpt.q1w2e3r4.tmp").mkdir()  # not a regular file: left alone
    try:
        with pytest.raises(RunInUseError):
            RunLock(target, also_owns=[tmp_path / "metrics.csv"]).acquire()
        assert all(p.exists() for p in ours)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(30)

    lock = RunLock(target, also_owns=[tmp_path / "metrics.csv"])
    assert sorted(lock.acquire()) == sorted(ours)
    assert not any(p.exists() for p in ours) and all(p.exists() for p in others)
    lock.release()


def test_a_folder_that_cannot_hold_a_lock_is_an_os_error_not_a_holder(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises((NotADirectoryError, FileExistsError)):  # filelock may try to create the folder first
        RunLock(tmp_path / "file" / "model.vaeckpt").acquire()
    with pytest.raises(FileNotFoundError):
        RunLock("/proc/vae-desktop-test.vaeckpt").acquire()


def test_held_locks_keep_the_run_file_and_pending_saves(tmp_path):
    a, b, c = (tmp_path / f"{n}.vaeckpt" for n in "abc")
    held = HeldLocks("window")
    for path in (a, b, c):
        held.claim(path)
    held.save_requested(c)
    held.release_all_but(b)
    RunLock(a).acquire()  # free now
    for path in (b, c):
        with pytest.raises(RunInUseError):
            RunLock(path).acquire()
    held.save_done(c)
    held.release_all()
    RunLock(b).acquire()
    RunLock(c).acquire()


def test_looking_at_a_lock_never_makes_another_look_see_it_held(tmp_path):
    """The window lists its runs and looks for interrupted ones in two threads at once: an unheld
    lock must look unheld to both (a look that took the lock made the other see a live writer, and
    an interrupted run went unmarked), while a real holder is seen by every look."""
    target = tmp_path / "model.vaeckpt"
    RunLock(target).acquire()  # leaves the lock file behind, as every run does
    RunLock(target).release()
    start = threading.Barrier(4)
    seen_held: list[bool] = []

    def look() -> None:
        start.wait()
        seen_held.extend(is_held_elsewhere(target) for _ in range(300))

    threads = [threading.Thread(target=look) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(seen_held) == 1200 and not any(seen_held)
    lock = RunLock(target)
    lock.acquire()  # no look left anything behind that refuses a writer
    lock.release()

    child = _holder(target)
    try:
        assert is_held_elsewhere(target)
        in_process = RunLock(tmp_path / "other.vaeckpt")
        in_process.acquire()
        assert is_held_elsewhere(tmp_path / "other.vaeckpt")  # another RunLock in this process counts too
        in_process.release()
        assert not is_held_elsewhere(tmp_path / "other.vaeckpt")
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    assert not is_held_elsewhere(target)
