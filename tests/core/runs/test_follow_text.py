"""The followed run's banner sentence: name, host, state, epoch of planned, how long ago."""

from __future__ import annotations

from vae_desktop.core.runs.follow_text import follow_text
from vae_desktop.core.runs.schema import Progress, RunInfo
from vae_desktop.core.runs.state import FAILED, FINISHED, MISSING, RUNNING, STALLED, STOPPED, RunStatus


def _info(**kwargs) -> RunInfo:
    return RunInfo(run_id="abc", dataset="shapes", model_config={}, train_config={}, started_at_s=0.0,
                   heartbeat_at_s=0.0, host="gpu1", progress=Progress(epoch=7, epochs_planned=50), **kwargs)


def test_a_running_run_reads_as_the_issue_says():
    text = follow_text("my-run", "gpu1", RunStatus(RUNNING, _info()), 2.2)
    assert text.text == "Following my-run on gpu1: running, epoch 7 of 50, last update 2 s ago."
    assert text.kind == "info" and not text.can_continue


def test_each_state_is_said_and_only_a_run_that_ended_can_be_continued():
    stalled = follow_text("r", "gpu1", RunStatus(STALLED, _info(), "No heartbeat for 61 s."), 61)
    assert "stalled (No heartbeat for 61 s)" in stalled.text and stalled.kind == "warning" and stalled.can_continue
    failed = follow_text("r", "gpu1", RunStatus(FAILED, _info(), "Training diverged at step 40."), 3)
    assert "failed: Training diverged at step 40, epoch 7 of 50" in failed.text and failed.kind == "error"
    assert follow_text("r", "gpu1", RunStatus(FINISHED, _info()), 3).can_continue
    assert "stopped" in follow_text("r", "gpu1", RunStatus(STOPPED, _info()), 3).text
    gone = follow_text("r", "gpu1", RunStatus(MISSING, _info()), 3)
    assert "the run folder is gone" in gone.text and gone.kind == "error" and not gone.can_continue
    assert "last update 3 min ago" in follow_text("r", "", RunStatus(RUNNING, _info()), 180).text


def test_restarts_and_problems_are_added_to_the_state():
    text = follow_text("r", "gpu1", RunStatus(RUNNING, _info()), 1, restarted=True,
                       problems=("Skipped 2 malformed lines in metrics.jsonl (2 so far).",))
    assert "Restarted" in text.text and "Skipped 2 malformed lines" in text.text and text.kind == "warning"


def test_malformed_lines_stay_said_after_the_poll_that_found_them():
    text = follow_text("r", "gpu1", RunStatus(RUNNING, _info()), 1, malformed_lines=3)
    assert text.text.endswith("3 malformed lines skipped so far.") and text.kind == "warning"
    once = follow_text("r", "gpu1", RunStatus(RUNNING, _info()), 1, malformed_lines=1,
                       problems=("Skipped 1 malformed line in metrics.jsonl (1 so far).",))
    assert once.text.count("malformed") == 1


def test_a_folder_followed_before_its_run_started_says_it_waits():
    from vae_desktop.core.runs.state import UNKNOWN

    text = follow_text("next", "", RunStatus(UNKNOWN, None), None, waiting=True)
    assert text.text == "Following next: waiting for a run to start there."
    assert text.kind == "info" and not text.can_continue
    legacy = follow_text("old", "", RunStatus(UNKNOWN, None), 4)  # a folder with only a checkpoint
    assert legacy.text == "Following old: waiting for run.json, last update 4 s ago."
