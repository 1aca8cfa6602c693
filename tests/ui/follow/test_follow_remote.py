"""The window follows a run over SSH (SFTP) from a real OpenSSH server started on localhost, while a
real `vae-desktop train` writes it (skipped, with the reason, where sshd or paramiko is missing)."""

from __future__ import annotations

import json

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
