"""Following a folder before its run starts (a queued cluster job, `train --out DIR` about to run):
the banner says it waits, and the run is followed as soon as its files appear. File ▸ Open of that
folder still says there is nothing to open."""

from __future__ import annotations

import json

import numpy as np
import torch

from vae_desktop.core.checkpoint import load_checkpoint

from .conftest import start_train
from .test_follow_opening import _drop


def test_an_empty_folder_is_waited_on_and_its_run_followed_once_it_starts(qtbot, make_window, settings, image_folder,
                                                                         tmp_path, processes):
    out = tmp_path / "next"
    out.mkdir()
    window = make_window(settings)
    follow = window.follow
    assert follow.follow(str(out))
    qtbot.waitUntil(lambda: follow.banner_text() == "Following next: waiting for a run to start there.",
                    timeout=20_000)
    assert follow.banner.kind == "info" and not follow.banner.continue_button.isEnabled()
    assert window.status.following and not window.start_button.isEnabled()
    assert window.banner.kind == ""  # no error: waiting is not a failure

    processes.append(train := start_train(image_folder, out, epochs=4))
    host_said = lambda: follow.banner_text().startswith("Following next on ")  # noqa: E731  (run.json read)
    qtbot.waitUntil(host_said, timeout=60_000)
    qtbot.waitUntil(lambda: "finished" in follow.banner_text(), timeout=180_000)
    train.wait(60)
    assert train.returncode == 0, train.stderr.read()
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    steps = [r["global_step"] for r in rows if r["type"] == "batch"]
    qtbot.waitUntil(lambda: list(window.plots.batch_data()["global_step"]) == steps, timeout=20_000)
    assert [e.epoch for e in window.plots.epoch_data()] == [1, 2, 3, 4]
    qtbot.waitUntil(lambda: follow.model is not None and follow.model.global_step == steps[-1], timeout=20_000)
    z = torch.tensor([[0.4, -0.6]])
    with torch.no_grad():
        expected = load_checkpoint(out / "checkpoints" / "latest.vaeckpt").build_model().decode(z).numpy()
        shown = window.mirror.model.decode(z).numpy()
    np.testing.assert_allclose(shown, expected, atol=1e-6)
    assert "waiting" not in follow.banner_text() and follow.banner.continue_button.isEnabled()
    follow.stop()


def test_a_dropped_empty_folder_is_waited_on_but_opening_it_says_there_is_nothing(qtbot, make_window, settings,
                                                                                   tmp_path):
    window = make_window(settings)
    empty = tmp_path / "queued"
    empty.mkdir()
    _drop(window, empty)
    assert window.follow.active
    qtbot.waitUntil(lambda: "waiting for a run to start there" in window.follow.banner_text(), timeout=20_000)
    window.follow.stop()
    assert not window.open_over_run(str(empty))  # File ▸ Open: nothing in it to open
    assert window.banner.kind == "error" and "is a folder, not a checkpoint" in window.banner.message()
    assert not window.status.following and window.start_button.isEnabled()
