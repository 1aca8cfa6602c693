"""A followed run folder misbehaves (replaced log, garbage, damaged run.json, deleted): the banner
says so in a sentence, the window keeps working, nothing is raised; Stop following gives the window
its own run back."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import numpy as np

from tests.core.runs.conftest import batch, epoch_metrics, new_writer

from .conftest import ENV, train_args


def _write_run(folder, steps: int = 20):
    writer = new_writer(folder, epochs=3, steps_per_epoch=10).start()
    for step in range(1, steps + 1):
        writer.log_batch(batch(step))
        if step % 10 == 0:
            writer.log_epoch(epoch_metrics(step // 10), global_step=step)
    writer.stop("stopped by the test")
    writer.close()


def _steps(window) -> list[float]:
    return list(window.plots.batch_data()["global_step"])


def test_damaged_replaced_and_deleted_folders_are_said_not_raised(qtbot, make_window, settings, tmp_path):
    folder = tmp_path / "run"
    _write_run(folder)
    window = make_window(settings)
    follow = window.follow
    assert follow.follow(str(folder))
    qtbot.waitUntil(lambda: len(_steps(window)) == 20, timeout=20_000)
    qtbot.waitUntil(lambda: "stopped" in follow.banner_text(), timeout=10_000)
    assert "epoch 2 of 3" in follow.banner_text() and follow.banner.kind == "info"

    # replaced by a shorter copy (as rsync does): read again from the start
    log = folder / "metrics.jsonl"
    lines = log.read_text().splitlines(keepends=True)
    shorter = folder / ".copy"
    shorter.write_text("".join(lines[:6]))  # the header and five batch rows
    os.replace(shorter, log)
    qtbot.waitUntil(lambda: "Restarted" in follow.banner_text(), timeout=10_000)
    qtbot.waitUntil(lambda: _steps(window) == [1.0, 2.0, 3.0, 4.0, 5.0], timeout=10_000)
    assert window.plots.epoch_data() == []

    # garbage and a half-written line: the garbage is skipped and counted, the half line waits
    with log.open("a") as handle:
        handle.write("this is not json\n")
        handle.write('{"type":"batch","global_step":6')
    qtbot.waitUntil(lambda: "Skipped 1 malformed line" in follow.banner_text(), timeout=10_000)
    assert _steps(window) == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert follow.banner.kind == "warning"

    # run.json damaged: the last good state stays and the banner says why
    (folder / "run.json").write_text('{"format": "vae-desktop-run", "format_')
    qtbot.waitUntil(lambda: "run.json could not be used" in follow.banner_text(), timeout=10_000)
    assert "stopped" in follow.banner_text()
    assert "1 malformed line skipped so far" in follow.banner_text()  # still said after its poll

    # the folder deleted while followed
    shutil.rmtree(folder)
    qtbot.waitUntil(lambda: "the run folder is gone" in follow.banner_text(), timeout=10_000)
    assert follow.banner.kind == "error"
    assert _steps(window) == [1.0, 2.0, 3.0, 4.0, 5.0]  # what was read stays shown
    assert window.banner.kind == ""  # no error box on top: the follow banner says it
    follow.stop()
    assert not window.status.following


def test_following_a_folder_that_is_not_a_run_says_why(qtbot, make_window, settings, tmp_path):
    window = make_window(settings)
    assert not window.follow.follow(str(tmp_path / "nowhere"))  # (an empty folder is waited on: test_follow_waiting)
    assert window.banner.kind == "error" and "does not exist" in window.banner.message()
    (tmp_path / "notes.txt").write_text("x")
    assert not window.follow.follow(str(tmp_path / "notes.txt"))
    assert "neither a run folder nor" in window.banner.message()
    assert not window.status.following and window.start_button.isEnabled()


def test_stop_following_gives_the_window_its_own_run_back(qtbot, make_window, settings, tmp_path, image_folder):
    own = tmp_path / "own"
    subprocess.run([sys.executable, "-m", "vae_desktop", *train_args(image_folder, own, 2)], check=True, env=ENV,
                   timeout=240, capture_output=True)
    window = make_window(settings)
    assert window.open_checkpoint(str(own / "checkpoints" / "latest.vaeckpt"))
    own_steps = _steps(window)
    own_model = window.mirror.model
    assert own_steps and own_model is not None
    followed = tmp_path / "followed"
    _write_run(followed, steps=7)
    assert window.follow.follow(str(followed))
    qtbot.waitUntil(lambda: _steps(window) == [float(s) for s in range(1, 8)], timeout=20_000)
    assert not window.start_button.isEnabled()
    assert window.follow_actions is not None and window.follow_actions.stop_following.isEnabled()

    window.follow_actions.stop_following.trigger()
    assert not window.status.following and window.follow.banner_text() == ""
    assert _steps(window) == own_steps
    assert window.start_button.isEnabled() and window.start_button.text() == "Continue"
    assert window.mirror.model is not None and window.mirror.model.config == own_model.config
    for mine, theirs in zip(window.mirror.model.state_dict().values(), own_model.state_dict().values(), strict=True):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
    assert not window.follow_actions.stop_following.isEnabled()


def test_a_heartbeat_that_stops_changing_reads_as_stalled_after_the_stall_time(qtbot, make_window, settings,
                                                                              tmp_path):
    """The stall time is the follow controller's (60 s by default); a writer whose run.json stops
    changing while its process lives (a hung job, a frozen mount) is called stalled after it."""
    live = tmp_path / "live"
    writer = new_writer(live, epochs=3, steps_per_epoch=10).start()
    writer.log_batch(batch(1))
    frozen = tmp_path / "frozen"
    frozen.mkdir()
    for name in ("run.json", "metrics.jsonl"):  # a snapshot of a running run that nothing updates any more
        shutil.copy(live / name, frozen / name)
    writer.finish()
    writer.close()
    window = make_window(settings)
    window.follow.stall_after_s = 2.0
    assert window.follow.follow(str(frozen))
    qtbot.waitUntil(lambda: "running" in window.follow.banner_text(), timeout=10_000)
    qtbot.waitUntil(lambda: "stalled (No heartbeat for 2 s)" in window.follow.banner_text(), timeout=10_000)
    assert window.follow.banner.kind == "warning"
    first = window.follow.banner_text()
    qtbot.waitUntil(lambda: window.follow.banner_text() != first, timeout=5000)  # "last update N s ago" counts up
