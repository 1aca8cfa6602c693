"""The window follows a run over SSH (SFTP) from a real OpenSSH server started on localhost, while a
real `vae-desktop train` writes it (skipped, with the reason, where sshd or paramiko is missing)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.core.runs import sshd
from vae_desktop.core.checkpoint import load_checkpoint

from .conftest import start_train, wait_for_file

pytestmark = pytest.mark.skipif(sshd.missing_reason() is not None, reason=str(sshd.missing_reason()))


server = pytest.fixture(scope="module", name="server")(sshd.running_server)


def test_window_follows_a_remote_run_over_sftp(qtbot, make_window, settings, image_folder, tmp_path, processes,
                                               server):
    out = tmp_path / "remote-run"
    window = make_window(settings)
    follow = window.follow
    follow.ssh_config = str(server.client_config)
    processes.append(train := start_train(image_folder, out, epochs=12))
    wait_for_file(out / "run.json", train)
    appended = []
    follow.batches.connect(appended.append)
    assert follow.follow(f"testrun:{out}")
    qtbot.waitUntil(lambda: follow.banner_text().startswith("Following remote-run on "), timeout=30_000)
    qtbot.waitUntil(lambda: "finished" in follow.banner_text(), timeout=180_000)
    train.wait(60)
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    steps = [r["global_step"] for r in rows if r["type"] == "batch"]
    qtbot.waitUntil(lambda: list(window.plots.batch_data()["global_step"]) == steps, timeout=20_000)
    assert len(window.plots.epoch_data()) == 12
    assert appended, "no rows arrived while the remote run trained"
    qtbot.waitUntil(lambda: follow.model is not None and follow.model.global_step == steps[-1], timeout=20_000)
    z = torch.tensor([[0.5, -0.25]])
    with torch.no_grad():
        expected = load_checkpoint(out / "checkpoints" / "latest.vaeckpt").build_model().decode(z).numpy()
        shown = window.mirror.model.decode(z).numpy()
    np.testing.assert_allclose(shown, expected, atol=1e-6)
    follow.stop()


def test_an_empty_remote_folder_is_waited_on_and_a_missing_one_refused(qtbot, make_window, settings, image_folder,
                                                                       tmp_path, processes, server):
    window = make_window(settings)
    follow = window.follow
    follow.ssh_config = str(server.client_config)
    assert follow.follow(f"testrun:{tmp_path / 'nowhere'}")  # told once the connection answers
    qtbot.waitUntil(lambda: not follow.active, timeout=30_000)
    assert window.banner.kind == "error" and "does not exist" in window.banner.message()

    out = tmp_path / "remote-next"
    out.mkdir()
    window.banner.dismiss()
    assert follow.follow(f"testrun:{out}")
    qtbot.waitUntil(lambda: follow.banner_text() == "Following remote-next on testrun: waiting for a run to start "
                    "there.", timeout=30_000)
    assert follow.active and window.banner.kind == ""
    processes.append(train := start_train(image_folder, out, epochs=3))
    qtbot.waitUntil(lambda: "finished" in follow.banner_text(), timeout=180_000)
    train.wait(60)
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    steps = [r["global_step"] for r in rows if r["type"] == "batch"]
    qtbot.waitUntil(lambda: list(window.plots.batch_data()["global_step"]) == steps, timeout=20_000)
    qtbot.waitUntil(lambda: follow.model is not None and follow.model.global_step == steps[-1], timeout=20_000)
    follow.stop()


def test_continue_here_copies_a_remote_run_into_the_runs_folder_and_trains_on(qtbot, make_window, settings,
                                                                              image_folder, tmp_path, server):
    out = tmp_path / "remote-run"
    train = start_train(image_folder, out, epochs=2)
    assert train.wait(240) == 0, train.stderr.read()
    remote_latest = (out / "checkpoints" / "latest.vaeckpt").read_bytes()
    saved_step = load_checkpoint(out / "checkpoints" / "latest.vaeckpt").progress.global_step
    window = make_window(settings)
    follow = window.follow
    follow.ssh_config = str(server.client_config)
    assert follow.follow(f"testrun:{out}")
    qtbot.waitUntil(lambda: "finished" in follow.banner_text() and follow.model is not None, timeout=60_000)
    qtbot.waitUntil(follow.banner.continue_button.isEnabled, timeout=5000)
    copies: list[dict[str, bytes]] = []

    def copied(folder: str) -> None:  # what the copy holds before training here appends to it
        copies.append({name: (Path(folder) / name).read_bytes() for name in
                       ("run.json", "metrics.jsonl", "metrics.csv", "checkpoints/latest.vaeckpt")})
        copies[-1]["folder"] = folder.encode()
        copies[-1]["kept"] = " ".join(sorted(p.name for p in (Path(folder) / "checkpoints").iterdir())).encode()

    follow.remote_continuation.copied.connect(copied)
    # a copy that cannot be made is said in the window, and following goes on
    (tmp_path / "not-a-folder").write_text("x")
    window.controller.runs_root = str(tmp_path / "not-a-folder")
    follow.banner.continue_button.click()
    qtbot.waitUntil(lambda: window.banner.kind == "error", timeout=30_000)
    assert f"Could not make a run folder in {tmp_path / 'not-a-folder'}" in window.banner.message()
    assert follow.active and not copies
    qtbot.waitUntil(follow.banner.continue_button.isEnabled, timeout=5000)
    window.banner.dismiss()
    window.controller.runs_root = str(tmp_path / "runs")

    opened: list[str] = []
    window.controller.runFolderOpened.connect(opened.append)
    follow.banner.continue_button.click()
    assert "Copying remote-run from " in follow.banner_text() and not follow.banner.continue_button.isEnabled()
    qtbot.waitUntil(lambda: bool(opened), timeout=60_000)
    assert not follow.active and not window.status.following
    local = Path(copies[0]["folder"].decode())
    assert opened == [str(local)] and local.parent == tmp_path / "runs"
    for name in ("metrics.jsonl", "metrics.csv"):
        assert copies[0][name] == (out / name).read_bytes(), name
    assert copies[0]["checkpoints/latest.vaeckpt"] == remote_latest
    assert copies[0]["kept"] == b"latest.vaeckpt"  # not best.vaeckpt nor any kept one
    assert json.loads(copies[0]["run.json"])["status"] == "finished"
    # the whole history is the window's now, batch rows included
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    steps = [r["global_step"] for r in rows if r["type"] == "batch"]
    qtbot.waitUntil(lambda: list(window.plots.batch_data()["global_step"]) == steps, timeout=20_000)

    # a finished run says to raise Epochs (as any finished run continued here does); one more epoch trains on
    qtbot.waitUntil(lambda: "Raise Epochs" in window.banner.message(), timeout=20_000)
    window.form.epochs.setValue(3)
    window.start_training()
    qtbot.waitUntil(lambda: len(window.plots.epoch_data()) == 3 and window.state == "ready", timeout=120_000)
    info = json.loads((local / "run.json").read_text())
    assert info["progress"]["epochs_completed"] == 3 and info["status"] == "finished"
    epochs = [json.loads(line)["epoch"] for line in (local / "metrics.jsonl").read_text().splitlines()
              if json.loads(line)["type"] == "epoch"]
    assert epochs == [1, 2, 3]
    assert load_checkpoint(local / "checkpoints" / "latest.vaeckpt").progress.global_step > saved_step
    assert (out / "checkpoints" / "latest.vaeckpt").read_bytes() == remote_latest  # the remote run is untouched
