"""RunFollower against a real writer process: rows and checkpoints arrive, kill -9, damage, deletion."""

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from vae_desktop.core.runs.follower import RunFollower
from vae_desktop.core.runs.history import RunHistory
from vae_desktop.core.runs.opening import open_run
from vae_desktop.core.runs.source import LocalSource
from vae_desktop.core.runs.state import FINISHED, MISSING, RUNNING, STALLED

from .conftest import batch, new_writer

CHILD = Path(__file__).with_name("writer_child.py")


def _start_child(folder, *args: str) -> subprocess.Popen:
    child = subprocess.Popen([sys.executable, str(CHILD), str(folder), *args], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline() == "started\n"
    return child


def _follow_until(follower, history, condition, timeout_s: float = 30.0):
    checkpoints, states = [], []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        update = follower.poll()
        history.apply(update)
        states.append(update.status.state)
        if update.checkpoint is not None:
            checkpoints.append(open(update.checkpoint.path, "rb").read())
        if condition(update):
            return update, checkpoints, states
        time.sleep(0.02)
    raise AssertionError(f"not reached; states {states[-5:]}")


def test_following_a_live_run_sees_every_row_and_checkpoint_as_it_trains(run_dir):
    child = _start_child(run_dir, "--epochs", "3", "--steps", "20", "--step-s", "0.01")
    follower, history = RunFollower(LocalSource(run_dir)), RunHistory()
    sizes = []
    try:
        last, checkpoints, states = _follow_until(
            follower, history, lambda u: sizes.append(len(history)) or u.status.state == FINISHED)
    finally:
        child.wait(30)
    assert RUNNING in states and last.status.info.progress.global_step == 60
    assert len(set(sizes)) > 3  # the rows came in over many polls, not all at the end
    steps = history.batch_arrays()["global_step"]
    assert list(steps) == list(range(1, 61))
    assert list(history.batch_arrays()["recon"]) == [200.0 - g for g in range(1, 61)]
    assert [e.epoch for e in history.epoch_metrics] == [1, 2, 3]
    assert checkpoints[-1] == b"weights 3" and len(checkpoints) >= 2
    opened = open_run(LocalSource(run_dir))
    assert list(opened.history.batch_arrays()["global_step"]) == list(steps)
    assert opened.status.state == FINISHED and open(opened.checkpoint.path, "rb").read() == b"weights 3"


def test_a_writer_killed_with_sigkill_is_stalled_and_its_folder_opens_and_resumes(run_dir):
    child = _start_child(run_dir, "--epochs", "5", "--steps", "20", "--step-s", "0.005")
    follower, history = RunFollower(LocalSource(run_dir)), RunHistory()
    try:
        _follow_until(follower, history, lambda u: len(history.epochs) >= 2)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    update, checkpoints, _ = _follow_until(follower, history, lambda u: u.status.state == STALLED)
    assert "no longer running" in update.status.message
    opened = open_run(LocalSource(run_dir))
    assert opened.status.state == STALLED
    assert list(opened.history.batch_arrays()["global_step"]) == list(history.batch_arrays()["global_step"])
    done = opened.status.info.checkpoints
    with new_writer(run_dir, epochs=5, steps_per_epoch=20, resume=(done.global_step, done.epochs_completed)) as w:
        assert w.info.resumed == 1
    reopened = open_run(LocalSource(run_dir))
    assert reopened.history.batch_arrays()["global_step"][-1] == done.global_step
    assert [e.epoch for e in reopened.history.epoch_metrics] == list(range(1, done.epochs_completed + 1))


def test_damage_while_following_gives_problems_never_exceptions(run_dir):
    child = _start_child(run_dir, "--epochs", "1", "--steps", "10", "--step-s", "0.001", "--hang-after-epoch", "1")
    try:
        assert child.stdout.readline() == "epoch 1\n"
        follower = RunFollower(LocalSource(run_dir))
        first = follower.poll()
        assert first.status.state == RUNNING and first.batch_rows == 10 and first.checkpoint is not None
        with open(run_dir / "metrics.jsonl", "ab") as handle:
            handle.write(b"garbage\n{\"half\":")
        (run_dir / "metrics.jsonl").with_name("copy").write_bytes((run_dir / "metrics.jsonl").read_bytes()[:300])
        update = follower.poll()
        assert update.malformed_lines == 1 and any("malformed" in p for p in update.problems)
        (run_dir / "copy").replace(run_dir / "metrics.jsonl")  # replaced by a shorter copy
        update = follower.poll()
        assert update.restarted and update.batch_rows < 10
        (run_dir / "run.json").write_text('{"format": "vae-desk')
        update = follower.poll()
        assert update.status.state in (RUNNING, STALLED) and update.status.info is not None
        child.kill()  # a live writer would recreate files while rmtree runs (ENOTEMPTY)
        child.wait(10)
        shutil.rmtree(run_dir)
        update = follower.poll()
        assert update.status.state == MISSING and update.problems
        assert not follower.poll().has_news
    finally:
        child.kill()
        child.wait(10)


def test_a_followed_update_is_plain_data(run_dir):
    with new_writer(run_dir) as writer:
        writer.log_batch(batch(1))
    update = RunFollower(LocalSource(run_dir)).poll()
    json.dumps({k: v.tolist() for k, v in update.batch.items()})  # numbers only, nothing live
    assert update.status.info.run_id and update.batch_rows == 1
