"""A compared run folder kept current without Qt: real RunWriters and real files, polled as the
comparison's worker thread polls them."""

from __future__ import annotations

import json
import os
import time

import numpy as np

from tests.core.runs.conftest import batch, epoch_metrics, new_writer
from vae_desktop.core.runs.comparison import RunCurves
from vae_desktop.core.runs.comparison_live import LiveComparedRun


def from_scratch(curves: RunCurves) -> np.ndarray:
    """The trace the plots would draw had the same rows been read in one go."""
    return RunCurves(curves.steps, curves.recon, curves.kl, curves.epochs, curves.steps_per_epoch).trace()


def set_status(folder, status: str) -> None:
    """Rewrite run.json's status atomically, as a writer does (a run continued into its folder)."""
    data = json.loads((folder / "run.json").read_text())
    data["status"] = status
    data["heartbeat_at_s"] = time.time()
    temp = folder / ".run.json.tmp"
    temp.write_text(json.dumps(data))
    os.replace(temp, folder / "run.json")


def test_a_training_run_grows_settles_when_done_and_wakes_when_it_runs_again(tmp_path):
    folder = tmp_path / "run"
    writer = new_writer(folder, epochs=2, steps_per_epoch=10)
    writer.start()
    for step in range(1, 11):
        writer.log_batch(batch(step))
    writer.log_epoch(epoch_metrics(1))
    live = LiveComparedRun(str(folder))
    try:
        assert live.run.curves.steps.tolist() == list(range(1, 11))
        assert [e.epoch for e in live.run.curves.epochs] == [1]
        assert live.poll() is None and not live.settled  # nothing new, but still running

        for step in range(11, 16):
            writer.log_batch(batch(step))
        grown = live.poll()
        assert grown is not None and grown.steps.tolist() == list(range(1, 16))
        assert grown.recon.tolist() == [200.0 - s for s in range(1, 16)]
        np.testing.assert_array_equal(grown.trace(), from_scratch(grown))  # grew by the new rows only
        assert live.run.curves.steps.tolist() == list(range(1, 11))  # snapshots: what was sent stays as it was

        for step in range(16, 21):
            writer.log_batch(batch(step))
        writer.log_epoch(epoch_metrics(2))
        writer.finish()
        done = live.poll()
        assert done is not None and done.steps.tolist() == list(range(1, 21))
        assert [e.epoch for e in done.epochs] == [1, 2]
        np.testing.assert_array_equal(done.trace(), from_scratch(done))
        assert live.checkpoint == ""  # this writer saved no checkpoint
        assert not live.settled  # rows came with the finished status: one more look first
        assert live.poll() is None and live.settled

        # settled: metrics.jsonl is not read any more, only run.json is looked at
        rows = (folder / "metrics.jsonl").read_text().splitlines()
        last = json.loads(next(r for r in reversed(rows) if json.loads(r)["type"] == "batch"))
        line = json.dumps({**last, "global_step": 21, "epoch": 3, "step": 1, "recon": 42.0}) + "\n"
        with open(folder / "metrics.jsonl", "a") as log:
            log.write(line[:20])  # half a line
        assert live.poll() is None and live.settled

        set_status(folder, "running")  # continued: polling resumes; a half line still waits for its end
        assert live.poll() is None and not live.settled
        with open(folder / "metrics.jsonl", "a") as log:
            log.write(line[20:])
        again = live.poll()
        assert again is not None and again.steps.tolist() == list(range(1, 22)) and again.recon[-1] == 42.0
        np.testing.assert_array_equal(again.trace(), from_scratch(again))
    finally:
        live.close()


def test_a_replaced_shorter_log_is_read_again_from_its_start(tmp_path):
    folder = tmp_path / "run"
    writer = new_writer(folder, epochs=3, steps_per_epoch=10)
    writer.start()
    for step in range(1, 21):
        writer.log_batch(batch(step))
    writer.finish()
    live = LiveComparedRun(str(folder))
    try:
        lines = (folder / "metrics.jsonl").read_text().splitlines(keepends=True)
        kept = [line for line in lines if json.loads(line)["type"] != "batch" or json.loads(line)["global_step"] <= 5]
        copy = folder / "metrics.jsonl.copy"
        copy.write_text("".join(kept))
        os.replace(copy, folder / "metrics.jsonl")  # as rsync replaces a file
        set_status(folder, "running")
        shorter = live.poll()
        assert shorter is not None and shorter.steps.tolist() == [1, 2, 3, 4, 5]
        np.testing.assert_array_equal(shorter.trace(), from_scratch(shorter))
    finally:
        live.close()
