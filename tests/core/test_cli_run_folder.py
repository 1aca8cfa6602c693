"""`vae-desktop train --out DIR` writes a run folder: real train processes, real kills, real files, and the
core readers (open_run, RunFollower, find_interrupted) reading what they left."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.shape_folders import write_shape_pngs
from vae_desktop.core.checkpoint import load_checkpoint
from vae_desktop.core.runs.follower import RunFollower
from vae_desktop.core.runs.interrupted import find_interrupted
from vae_desktop.core.runs.opening import open_run
from vae_desktop.core.runs.schema import RunInfo
from vae_desktop.core.runs.source import LocalSource
from vae_desktop.core.runs.state import FINISHED, RUNNING, STALLED

REPO = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("imgs")
    return write_shape_pngs(root)


def _args(images: Path, *extra: str) -> list[str]:
    return ["train", "--dataset", f"folder:{images}", "--batch-size", "32", "--z-dim", "2", "--base-width", "8",
            "--quiet", *extra]


def run_cli(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vae_desktop", *args], capture_output=True, text=True,
                          timeout=timeout, env=ENV)


def start_cli(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "vae_desktop", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=ENV)


def _wait_for(condition, process: subprocess.Popen, what: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, f"train ended before {what}: {process.communicate()}"
        assert time.monotonic() < deadline, f"no {what} after {timeout} s"
        time.sleep(0.05)


def _csv(path: Path) -> list[dict]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


def _lines(out: Path, kind: str) -> list[dict]:
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()
            if line.startswith(f'{{"type":"{kind}"')]


def _kill(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    process.wait(30)


def test_train_writes_a_run_folder_that_opens_with_its_batch_and_epoch_rows(images, tmp_path):
    out = tmp_path / "run"
    done = run_cli(*_args(images, "--epochs", "2", "--keep-every", "1", "--out", str(out)))
    assert done.returncode == 0, done.stderr
    assert f"run folder {out}" in done.stdout

    info = RunInfo.from_dict(json.loads((out / "run.json").read_text()))
    assert info.status == "finished" and info.kind == "train" and info.dataset == f"folder:{images}"
    assert info.model_config["z_dim"] == 2 and info.train_config["batch_size"] == 32
    assert info.software["torch"] and info.software["vae_desktop"] and info.host and info.started_at_s > 0
    assert info.progress.epochs_completed == 2 and info.checkpoints.best_epoch in (1, 2)
    steps = info.progress.steps_per_epoch
    assert info.progress.global_step == 2 * steps

    opened = open_run(LocalSource(out))
    assert opened.checkpoint is not None and opened.checkpoint.name == "checkpoints/latest.vaeckpt"
    assert opened.malformed_lines == 0 and opened.problems == []
    assert list(opened.history.batch_arrays()["global_step"]) == list(range(1, 2 * steps + 1))
    rows = _csv(out / "metrics.csv")
    assert [r["epoch"] for r in rows] == ["1", "2"]
    assert [e.epoch for e in opened.history.epoch_metrics] == [1, 2]
    for row, epoch in zip(rows, opened.history.epoch_metrics, strict=True):
        assert float(row["test_total"]) == pytest.approx(epoch.test_total, rel=1e-5)
        assert float(row["train_recon"]) == pytest.approx(epoch.train_recon, rel=1e-5)
    names = sorted(p.name for p in (out / "checkpoints").glob("*.vaeckpt"))
    assert names == ["best.vaeckpt", "epoch-0001.vaeckpt", "epoch-0002.vaeckpt", "latest.vaeckpt"]
    assert load_checkpoint(out / "checkpoints" / "latest.vaeckpt").progress.epoch == 2
    assert not list(out.rglob("*.tmp")) and not (out / "checkpoints" / ".latest.vaeckpt.lock.json").exists()

    latest = run_cli("evaluate", str(out))
    best = run_cli("evaluate", str(out), "--which", "best")
    assert latest.returncode == 0 and best.returncode == 0, latest.stderr + best.stderr
    printed = float(latest.stdout.split("negative ELBO ")[1].split()[0])
    assert printed == pytest.approx(float(rows[-1]["test_total"]), abs=0.02)
    best_total = min(float(r["test_total"]) for r in rows)
    assert float(best.stdout.split("negative ELBO ")[1].split()[0]) == pytest.approx(best_total, abs=0.02)


def test_resume_appends_to_the_same_log(images, tmp_path):
    out = tmp_path / "run"
    assert run_cli(*_args(images, "--epochs", "1", "--out", str(out))).returncode == 0
    before = (out / "metrics.jsonl").read_bytes()
    first = json.loads((out / "run.json").read_text())

    resumed = run_cli(*_args(images, "--epochs", "2", "--resume", str(out)))  # --out: the folder resumed
    assert resumed.returncode == 0, resumed.stderr
    after = (out / "metrics.jsonl").read_bytes()
    assert after.startswith(before) and len(after) > len(before)  # appended, nothing rewritten
    assert b'"type":"rewind"' not in after  # it continued from its last row: nothing to forget
    info = json.loads((out / "run.json").read_text())
    assert info["run_id"] == first["run_id"] and info["resumed"] == 1 and info["status"] == "finished"
    opened = open_run(LocalSource(out))
    steps = info["progress"]["steps_per_epoch"]
    assert list(opened.history.batch_arrays()["global_step"]) == list(range(1, 2 * steps + 1))
    assert [r["epoch"] for r in _csv(out / "metrics.csv")] == ["1", "2"]

    again = run_cli(*_args(images, "--epochs", "2", "--out", str(out)))
    assert again.returncode == 1 and f"{out} already holds a run: continue it with --resume {out}" in again.stderr


def test_a_follower_sees_batch_rows_of_a_live_train_before_it_ends(images, tmp_path):
    out = tmp_path / "live"
    process = start_cli(*_args(images, "--epochs", "100000", "--out", str(out)))
    try:
        _wait_for(lambda: (out / "metrics.jsonl").exists(), process, "metrics.jsonl")
        follower = RunFollower(LocalSource(out))
        seen: list[float] = []
        running = False
        deadline = time.monotonic() + 120
        while len(seen) < 3 and time.monotonic() < deadline:
            update = follower.poll()
            seen += update.batch["global_step"].tolist()
            running = running or update.status.state == RUNNING
            time.sleep(0.05)
        assert process.poll() is None  # still training: the rows arrived live
        assert running and len(seen) >= 3
        assert seen == sorted(seen) and seen[0] == 1
    finally:
        _kill(process)


def test_a_killed_train_is_found_interrupted_opens_and_resumes_to_the_end(images, tmp_path):
    runs = tmp_path / "runs"
    out = runs / "killed"
    process = start_cli(*_args(images, "--epochs", "100000", "--out", str(out)))
    try:
        _wait_for(lambda: (out / "checkpoints" / "latest.vaeckpt").exists() and len(_lines(out, "epoch")) >= 1
                  and len(_lines(out, "batch")) > len(_lines(out, "epoch")) * _steps(out) + 1, process,
                  "a checkpoint and batches of the next epoch")
        assert find_interrupted(runs) == []  # alive: its lock is held and its heartbeat fresh
    finally:
        _kill(process)
    assert process.returncode == -signal.SIGKILL

    found = find_interrupted(runs)
    assert [run.folder for run in found] == [out]
    assert found[0].resumable and found[0].saved_epochs >= 1
    assert [r.folder for r in find_interrupted(runs, stale_after_s=3600)] == [out]  # its process is gone: no need to wait
    saved = load_checkpoint(out / "checkpoints" / "latest.vaeckpt").progress.epoch
    assert saved == found[0].saved_epochs

    opened = open_run(LocalSource(out))
    assert opened.status.state == STALLED  # the writer's pid is gone
    assert opened.checkpoint is not None and len(opened.history) > saved * _steps(out)
    assert [e.epoch for e in opened.history.epoch_metrics][:saved] == list(range(1, saved + 1))

    target = saved + 1
    resumed = run_cli(*_args(images, "--epochs", str(target), "--resume", str(out)))
    assert resumed.returncode == 0, resumed.stderr
    assert find_interrupted(runs) == []
    opened = open_run(LocalSource(out))
    assert opened.status.state == FINISHED
    assert [e.epoch for e in opened.history.epoch_metrics] == list(range(1, target + 1))
    steps = opened.history.batch_arrays()["global_step"]
    assert list(steps) == list(range(1, target * _steps(out) + 1))  # the lost rows were rewound, then redone
    assert [r["epoch"] for r in _csv(out / "metrics.csv")] == [str(e) for e in range(1, target + 1)]
    assert _lines(out, "rewind")[-1]["global_step"] == saved * _steps(out)


def _steps(out: Path) -> int:
    return json.loads((out / "run.json").read_text())["progress"]["steps_per_epoch"]


def test_ctrl_c_saves_the_state_mid_epoch_and_marks_the_run_stopped(images, tmp_path):
    out = tmp_path / "run"
    process = start_cli(*_args(images, "--epochs", "100000", "--out", str(out)))
    try:
        _wait_for(lambda: (out / "metrics.jsonl").exists() and len(_lines(out, "batch")) >= 2, process, "batches")
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=120)
    finally:
        _kill(process)
    assert process.returncode == 130, stderr
    assert f"continue with --resume {out}" in stderr and "Traceback" not in stderr
    info = json.loads((out / "run.json").read_text())
    assert info["status"] == "stopped" and info["message"] == "interrupted"
    state = load_checkpoint(out / "checkpoints" / "latest.vaeckpt").progress
    assert state.global_step == info["progress"]["global_step"] >= 2
    assert find_interrupted(tmp_path) == []  # stopped cleanly: nothing to offer


def test_an_older_single_file_folder_is_continued_in_place_as_a_run_folder(images, tmp_path):
    made = tmp_path / "made"
    assert run_cli(*_args(images, "--epochs", "1", "--out", str(made))).returncode == 0
    legacy = tmp_path / "legacy"  # what `train --out` wrote before run folders
    legacy.mkdir()
    shutil.copy(made / "checkpoints" / "latest.vaeckpt", legacy / "model.vaeckpt")
    shutil.copy(made / "metrics.csv", legacy / "metrics.csv")
    old_bytes = (legacy / "model.vaeckpt").read_bytes()

    refused = run_cli(*_args(images, "--epochs", "2", "--out", str(legacy)))
    assert refused.returncode == 1 and "already holds a run" in refused.stderr
    opened = open_run(LocalSource(legacy))  # it opens as a run: its checkpoint, no curves
    assert opened.checkpoint is not None and opened.checkpoint.name == "model.vaeckpt"

    resumed = run_cli(*_args(images, "--epochs", "2", "--resume", str(legacy)))
    assert resumed.returncode == 0, resumed.stderr
    assert (legacy / "model.vaeckpt").read_bytes() == old_bytes  # left as it was
    opened = open_run(LocalSource(legacy))
    assert opened.checkpoint is not None and opened.checkpoint.name == "checkpoints/latest.vaeckpt"
    steps = _steps(legacy)
    batch = opened.history.batch_arrays()
    assert list(batch["global_step"]) == list(range(1, 2 * steps + 1))  # epoch 1 from the checkpoint's history
    assert np.isnan(batch["time"][:steps]).all() and np.isfinite(batch["time"][steps:]).all()
    assert [e.epoch for e in opened.history.epoch_metrics] == [1, 2]
    first = _csv(made / "metrics.csv")[0]
    assert float(_csv(legacy / "metrics.csv")[0]["test_total"]) == pytest.approx(float(first["test_total"]), rel=1e-5)


def test_unclear_resume_and_evaluate_arguments_are_one_line(images, tmp_path):
    out = tmp_path / "run"
    assert run_cli(*_args(images, "--epochs", "1", "--out", str(out))).returncode == 0
    loose = tmp_path / "loose.vaeckpt"
    shutil.copy(out / "checkpoints" / "latest.vaeckpt", loose)
    cases = [
        (_args(images, "--epochs", "2", "--resume", str(loose)), "is a checkpoint file: say where the run goes with --out"),
        (_args(images, "--epochs", "2"), "--out DIR is required"),
        (["evaluate", str(loose), "--which", "best"], "--which best needs a run folder"),
        (["evaluate", str(tmp_path / "empty")], "is not a run folder"),
    ]
    (tmp_path / "empty").mkdir()
    for args, needle in cases:
        result = run_cli(*args)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert result.returncode != 0 and len(lines) == 1 and needle in lines[0], (args, result.stderr)
        assert "Traceback" not in result.stderr
    assert not (tmp_path / "empty" / "checkpoints").exists()


def test_a_refused_train_leaves_no_run_folder_behind(tmp_path):
    existing = tmp_path / "existing"
    existing.mkdir()
    for out in (tmp_path / "new" / "run", existing):
        result = run_cli("train", "--dataset", f"folder:{tmp_path / 'missing'}", "--out", str(out), "--quiet")
        assert result.returncode == 1 and "does not exist" in result.stderr
    assert not (tmp_path / "new" / "run").exists()
    assert existing.is_dir() and not any(existing.iterdir())
