"""A diverging run, opening checkpoints (good and corrupt), saving during training, exporting metrics."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import torch

from tests.ui.conftest import SMALL_MODEL
from tests.ui.helpers import wait_for_batches, wait_for_state
from vae_desktop.core.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from vae_desktop.core.config import TrainConfig
from vae_desktop.core.metrics import EpochMetrics
from vae_desktop.core.model import VAE
from vae_desktop.core.trainer import Trainer


def test_a_nan_loss_shows_an_error_and_the_app_keeps_working(qtbot, window):
    window.form.lr.setText("1e6")
    window.start_button.click()
    wait_for_state(qtbot, window, "ready", timeout=30_000)

    assert window.banner.kind == "error"
    assert "NaN" in window.banner.message() or "infinite" in window.banner.message()
    assert "smaller learning rate" in window.banner.message()
    # The last good weights are what the GUI shows and what training continues from.
    assert all(torch.isfinite(p).all() for p in window.mirror.model.parameters())
    plotted = window.plots.batch_data()
    assert np.isfinite(plotted["recon"]).all() and np.isfinite(plotted["kl"]).all()
    np.testing.assert_array_equal(plotted["global_step"], window.trainer.history.batch_arrays()["global_step"])

    window.form.lr.setText("1e-3")
    window.start_button.click()
    assert window.banner.kind == ""  # a new attempt clears the old error
    wait_for_batches(qtbot, window, len(plotted["global_step"]) + 10)
    window.stop_button.click()
    wait_for_state(qtbot, window, "ready")
    assert np.isfinite(window.plots.batch_data()["recon"]).all()


def _headless_checkpoint(dataset, path, steps: int) -> Checkpoint:
    torch.manual_seed(0)
    trainer = Trainer(VAE(SMALL_MODEL), dataset, TrainConfig(epochs=3, batch_size=100, seed=3, device="cpu"))
    for metrics in trainer.run():
        if getattr(metrics, "global_step", None) == steps and not isinstance(metrics, EpochMetrics):
            break
    checkpoint = Checkpoint.from_trainer(trainer, "shapes")
    save_checkpoint(checkpoint, path)
    return checkpoint


def test_opening_a_checkpoint_restores_history_settings_and_resumes_exactly(qtbot, window, small_shapes, tmp_path):
    torch.set_num_threads(1)  # the window trains with one thread; same arithmetic, same numbers
    path = tmp_path / "run.vaeckpt"
    _headless_checkpoint(small_shapes, path, steps=30)  # 1.5 epochs of 20 steps

    # Reference: continue headless from the same file to the end of epoch 3.
    reference_ckpt = load_checkpoint(path)
    reference = Trainer(reference_ckpt.build_model(), small_shapes, reference_ckpt.train_config,
                        history=reference_ckpt.history, optimizer_state=reference_ckpt.optimizer_state,
                        progress=reference_ckpt.progress, rng_state=reference_ckpt.rng_state)
    for _ in reference.run():
        pass

    with qtbot.waitSignal(window.historyRestored) as restored:
        assert window.open_checkpoint(str(path))
    assert [e.epoch for e in restored.args[0]] == [1]
    plotted = window.plots.batch_data()
    np.testing.assert_array_equal(plotted["global_step"], np.arange(1, 31))
    assert window.plots.steps_per_epoch == 20
    assert [e.epoch for e in window.plots.epoch_data()] == [1]
    assert window.form.lr.text() == "0.001" and window.form.seed.value() == 3 and window.form.epochs.value() == 3
    assert window.form.z_dim.value() == 2 and not window.form.z_dim.isEnabled()  # fixed for this run
    assert "run.vaeckpt" in window.windowTitle()
    assert str(path.resolve()) in window.recent.paths()

    window.start_button.click()
    wait_for_state(qtbot, window, "ready", timeout=60_000)
    mine = window.trainer.history.batch_arrays()
    theirs = reference.history.batch_arrays()
    np.testing.assert_array_equal(mine["global_step"], theirs["global_step"])
    np.testing.assert_allclose(mine["recon"], theirs["recon"], rtol=1e-6)
    np.testing.assert_allclose(mine["kl"], theirs["kl"], rtol=1e-5, atol=1e-6)
    assert [round(e.test_total, 3) for e in window.plots.epoch_data()] == [
        round(e.test_total, 3) for e in reference.history.epochs
    ]


def test_a_corrupt_checkpoint_shows_an_error_and_keeps_the_current_run(qtbot, window, small_shapes, tmp_path):
    good = tmp_path / "good.vaeckpt"
    _headless_checkpoint(small_shapes, good, steps=25)
    assert window.open_checkpoint(str(good))
    before = window.plots.batch_data()["global_step"].copy()

    bad = tmp_path / "bad.vaeckpt"
    bad.write_bytes(good.read_bytes()[:500])
    assert not window.open_checkpoint(str(bad))
    assert window.banner.kind == "error" and "bad.vaeckpt" in window.banner.message()
    np.testing.assert_array_equal(window.plots.batch_data()["global_step"], before)
    assert "good.vaeckpt" in window.windowTitle()


def test_saving_during_training_writes_a_checkpoint_between_steps(qtbot, window, tmp_path):
    window.start_button.click()
    wait_for_batches(qtbot, window, 10)
    path = tmp_path / "live.vaeckpt"
    with qtbot.waitSignal(window.controller.saved, timeout=10_000):
        assert window.save_checkpoint(str(path))
    saved = load_checkpoint(path)
    assert saved.progress.global_step >= 10
    assert saved.history.batch_arrays()["global_step"][-1] == saved.progress.global_step
    window.stop_button.click()
    wait_for_state(qtbot, window, "ready")

    # A file saved while the run has a run folder is a copy: Ctrl+S then saves the run folder, current.
    copied_step = saved.progress.global_step
    assert window.save_checkpoint()
    latest = Path(window.controller.run_folder) / "checkpoints" / "latest.vaeckpt"
    assert load_checkpoint(latest).progress.global_step == window.trainer.progress.global_step
    assert load_checkpoint(path).progress.global_step == copied_step
    assert not window.isWindowModified()


def test_export_metrics_csv_writes_one_row_per_epoch(qtbot, make_window, settings, tmp_path):
    window = make_window(settings, epochs=2)
    window.start_button.click()
    wait_for_state(qtbot, window, "ready", timeout=60_000)
    path = tmp_path / "metrics.csv"
    assert window.export_metrics_csv(str(path))
    rows = list(csv.DictReader(path.open()))
    assert [int(r["epoch"]) for r in rows] == [1, 2]
    assert float(rows[1]["test_total"]) == float(f"{window.plots.epoch_data()[1].test_total:.6g}")


def test_saving_without_a_run_explains_why(window):
    assert not window.save_checkpoint("/tmp/never-written.vaeckpt")
    assert not window.menu_actions.save.isEnabled()
