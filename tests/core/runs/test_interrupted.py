"""find_interrupted: which runs in a runs folder a crash left `running` (the SIGKILL case with a real
train process is in tests/core/test_cli_run_folder.py)."""

from __future__ import annotations

import json
import time

from vae_desktop.core.runs.interrupted import find_interrupted, interrupted_run
from vae_desktop.core.runs.recorder import run_folder_lock

from .conftest import batch, epoch_metrics, new_writer


def _left_running(folder, heartbeat_age_s: float, pid: int | None = None) -> None:
    """A run whose writer vanished: run.json still says running, its heartbeat `heartbeat_age_s` old."""
    writer = new_writer(folder).start()
    writer.log_batch(batch(1))
    writer.log_epoch(epoch_metrics(1))
    writer.save_checkpoint(b"weights", epoch=epoch_metrics(1))
    writer.finish()
    data = json.loads((folder / "run.json").read_text())
    data.update(status="running", ended_at=None, ended_at_s=None, heartbeat_at_s=time.time() - heartbeat_age_s)
    if pid is not None:
        data["pid"] = pid
    (folder / "run.json").write_text(json.dumps(data))


def test_only_running_runs_with_an_old_heartbeat_and_no_lock_are_interrupted(tmp_path):
    _left_running(tmp_path / "old", 600)
    _left_running(tmp_path / "fresh", 1)  # this process "wrote" it and lives: maybe just busy
    with new_writer(tmp_path / "done") as writer:
        writer.log_batch(batch(1))
    (tmp_path / "not-a-run").mkdir()
    (tmp_path / "a-file").write_text("x")
    found = find_interrupted(tmp_path, stale_after_s=60)
    assert [run.folder.name for run in found] == ["old"]
    assert found[0].resumable and found[0].saved_epochs == 1 and found[0].heartbeat_age_s > 500
    assert find_interrupted(tmp_path / "missing") == []


def test_a_held_lock_means_alive_whatever_the_heartbeat_says(tmp_path):
    _left_running(tmp_path / "old", 600)
    lock = run_folder_lock(tmp_path / "old", "test")
    lock.acquire()
    try:
        assert interrupted_run(tmp_path / "old") is None
    finally:
        lock.release()
    assert interrupted_run(tmp_path / "old") is not None


def test_a_writer_pid_that_is_gone_is_interrupted_at_once(tmp_path):
    import subprocess
    import sys

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    _left_running(tmp_path / "r", 1, pid=int(gone.stdout))
    assert interrupted_run(tmp_path / "r", stale_after_s=3600) is not None
