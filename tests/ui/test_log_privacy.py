"""The log file holds the app's own messages and file paths, never what is inside the user's files
(images, text, checkpoint bytes) nor weights or pixel values."""

from __future__ import annotations

import re

import numpy as np
from PIL import Image

from tests.ui.helpers import wait_for_batches, wait_for_state
from tests.ui.test_bad_input import pick_folder

SECRET = "PRIVATE-NOTE-7f3a"
LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL)\s+vae_desktop[\w.]* \[[^\]]+\] ")


def test_a_session_logs_paths_and_events_but_no_file_contents(qtbot, window, app_log, monkeypatch, tmp_path):
    # The user's files, with content that must never reach the log.
    folder = tmp_path / "holiday photos"
    rng = np.random.default_rng(0)
    for i in range(12):
        folder.mkdir(exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (20, 20, 3), dtype=np.uint8)).save(folder / f"img{i}.png")
    (folder / "notes.txt").write_text(f"{SECRET} my bank PIN is 0000")
    (folder / "broken.png").write_bytes(f"{SECRET} not an image".encode())
    bad_checkpoint = tmp_path / "suspicious.vaeckpt"
    bad_checkpoint.write_bytes(f"{SECRET} ".encode() * 200)

    # A session: pick the folder, go back to shapes, train, save, reopen, open a bad file, export.
    pick_folder(qtbot, window, monkeypatch, folder)
    qtbot.waitUntil(lambda: window.banner.kind == "info", timeout=20_000)
    window.form.select_dataset("shapes")
    window.start_button.click()
    wait_for_batches(qtbot, window, 10)
    saved = tmp_path / "my run.vaeckpt"
    with qtbot.waitSignal(window.controller.saved, timeout=10_000):
        window.save_checkpoint(str(saved))
    window.stop_button.click()
    wait_for_state(qtbot, window, "ready")
    assert window.save_checkpoint()  # Ctrl+S: the same file, now at the step where training stopped
    assert window.open_checkpoint(str(saved))
    assert not window.open_checkpoint(str(bad_checkpoint))
    assert window.export_metrics_csv(str(tmp_path / "metrics.csv"))

    text = app_log.read_text(encoding="utf-8")
    lines = text.splitlines()
    # What is there: events and the paths they concern.
    assert str(saved) in text and "Saved checkpoint" in text and "Opened checkpoint" in text
    assert "suspicious.vaeckpt" in text  # the error shown to the user, with the file's name
    # What is not: anything from inside the user's files, and no numbers from weights or images.
    assert SECRET not in text and "PIN" not in text
    for marker in ("tensor(", "array(", "[[", "state_dict"):
        assert marker not in text, marker
    assert not re.search(r"(-?\d+\.\d+,\s*){8}", text), "a run of numbers (weights or pixels?) in the log"
    # Every line is one of the app's own log lines (a traceback would be indented continuation lines).
    unexpected = [line for line in lines if not LINE.match(line)]
    assert unexpected == [], unexpected
