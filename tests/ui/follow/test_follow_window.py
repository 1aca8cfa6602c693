"""The window follows a run a real `vae-desktop train` process writes: curves grow, checkpoints reach
the latent panel's model, kill -9 shows stalled, Continue here takes the run over, Stop following
gives the window back."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from vae_desktop.core.checkpoint import load_checkpoint

from .conftest import kill, start_train, wait_for_file


def _decode(model, z: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return model.decode(torch.as_tensor(z, dtype=torch.float32)).numpy()


EPOCHS = 16
Z = np.array([[0.3, -0.7], [1.2, 0.4]], dtype=np.float32)


def test_window_follows_a_training_process_to_its_end(qtbot, make_window, settings, image_folder, tmp_path,
                                                      processes):
    out = tmp_path / "run"
    window = make_window(settings)
    follow = window.follow
    processes.append(train := start_train(image_folder, out, epochs=EPOCHS))
    wait_for_file(out / "run.json", train)
    models, appended, replaced, updated = [], [], [], []
    window.mirror.modelReplaced.connect(lambda: replaced.append(1))
    window.mirror.weightsUpdated.connect(lambda: updated.append(1))
    follow.modelLoaded.connect(models.append)
    follow.batches.connect(appended.append)
    assert follow.follow(str(out))
    # read-only while following: one place (controls_for) turns the training controls off
    qtbot.waitUntil(lambda: window.status.following, timeout=5000)
    assert not window.start_button.isEnabled() and not window.menu_actions.start.isEnabled()
    assert not window.menu_actions.new_run.isEnabled() and not window.form.isEnabled()
    assert window.state_label.text() == "Following"
    host = json.loads((out / "run.json").read_text())["host"]
    qtbot.waitUntil(lambda: follow.banner_text().startswith(f"Following run on {host}: "), timeout=30_000)
    assert "last update" in follow.banner_text()

    qtbot.waitUntil(lambda: len(window.plots.batch_data()["global_step"]) > 0, timeout=120_000)
    qtbot.waitUntil(lambda: len(window.plots.epoch_data()) >= 1, timeout=120_000)
    assert "running" in follow.banner_text() or "finished" in follow.banner_text()
    qtbot.waitUntil(lambda: "finished" in follow.banner_text(), timeout=180_000)
    train.wait(60)
    assert train.returncode == 0, train.stderr.read()
    # every batch and epoch row of the log is in the plots, in order
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    steps = [r["global_step"] for r in rows if r["type"] == "batch"]
    qtbot.waitUntil(lambda: len(window.plots.batch_data()["global_step"]) == len(steps), timeout=10_000)
    np.testing.assert_array_equal(window.plots.batch_data()["global_step"], steps)
    recon = [r["recon"] for r in rows if r["type"] == "batch"]
    np.testing.assert_allclose(window.plots.batch_data()["recon"], recon)
    assert [e.epoch for e in window.plots.epoch_data()] == list(range(1, EPOCHS + 1))
    assert f"epoch {EPOCHS} of {EPOCHS}" in follow.banner_text()
    assert len(appended) >= 2, "the curves did not grow while the run trained"
    # the mirror (the latent panel's, inspector's and strip's model) decodes as the last checkpoint does
    qtbot.waitUntil(lambda: follow.model is not None and follow.model.global_step == steps[-1], timeout=10_000)
    assert len(models) >= 2, "new checkpoints did not reach the mirror while following"
    # the first checkpoint replaced the model; every later one only its weights (handles, view, selection stay)
    assert len(replaced) == 1 and len(updated) == len(models) - 1
    expected = _decode(load_checkpoint(out / "checkpoints" / "latest.vaeckpt").build_model(), Z)
    np.testing.assert_allclose(_decode(window.mirror.model, Z), expected, atol=1e-6)
    assert follow.banner.continue_button.isEnabled()

    follow.stop()  # back to the window's own (empty) run
    assert not window.status.following and window.start_button.isEnabled()
    assert follow.banner_text() == "" and window.mirror.model is None
    assert len(window.plots.batch_data()["global_step"]) == 0


def test_kill_9_shows_stalled_keeps_the_model_and_continue_here_resumes(qtbot, make_window, settings, image_folder,
                                                                       tmp_path, processes):
    out = tmp_path / "run"
    processes.append(train := start_train(image_folder, out, epochs=200))
    wait_for_file(out / "checkpoints" / "latest.vaeckpt", train)
    window = make_window(settings, epochs=200)
    follow = window.follow
    assert follow.follow(str(out))
    qtbot.waitUntil(lambda: follow.model is not None, timeout=60_000)
    qtbot.waitUntil(lambda: "running" in follow.banner_text(), timeout=60_000)
    assert not follow.banner.continue_button.isEnabled()  # still running: nothing to take over
    kill(train)
    qtbot.waitUntil(lambda: "stalled" in follow.banner_text(), timeout=30_000)
    assert follow.banner.kind == "warning"
    held = follow.model
    expected = _decode(load_checkpoint(out / "checkpoints" / "latest.vaeckpt").build_model(), Z)
    qtbot.waitUntil(lambda: follow.model.global_step == load_checkpoint(
        out / "checkpoints" / "latest.vaeckpt").progress.global_step, timeout=10_000)
    np.testing.assert_allclose(_decode(window.mirror.model, Z), expected, atol=1e-6)
    assert held is not None
    qtbot.waitUntil(follow.banner.continue_button.isEnabled, timeout=5000)

    saved_step = follow.model.global_step
    follow.banner.continue_button.click()  # Continue here: the run becomes the window's own and trains on
    assert not follow.active and not window.status.following
    qtbot.waitUntil(lambda: window.state == "training", timeout=60_000)
    qtbot.waitUntil(lambda: window.status.global_step > saved_step + 2, timeout=60_000)
    # It trains on in a run folder of the window's own (seeded with the followed run's history), as any
    # checkpoint opened and continued does; the followed folder, another process's, is left as it was.
    own = Path(window.controller.checkpoint_path)
    assert own.name == "latest.vaeckpt" and out not in own.parents
    assert load_checkpoint(out / "checkpoints" / "latest.vaeckpt").progress.global_step == saved_step
    window.stop_training()
    qtbot.waitUntil(lambda: window.state == "ready", timeout=60_000)
