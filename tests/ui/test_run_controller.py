"""The run controller on its own (no window): the statuses it emits, a pause the worker confirms, and
a Continue of a checkpoint that trains exactly what `vae-desktop train --resume` trains."""

from __future__ import annotations

import shutil

from PIL import Image

from tests.core.test_cli import _numbers, run_cli
from tests.ui.conftest import SMALL_MODEL
from vae_desktop.core.config import RunSettings, TrainConfig
from vae_desktop.core.datasets.shapes import render_shapes
from vae_desktop.core.metrics_csv import write_metrics_csv
from vae_desktop.core.training_status import TrainingState, TrainingStatus
from vae_desktop.ui.run_controller import RunController

S = TrainingState


def controller_on(qtbot, dataset, states: list[TrainingStatus]) -> RunController:
    controller = RunController(SMALL_MODEL, threads=1)
    controller.provide_dataset(dataset, "shapes")
    controller.statusChanged.connect(states.append)
    return controller


def changes(values: list) -> list:
    """`values` without repeats in a row (batch bundles re-send the same state)."""
    return [v for i, v in enumerate(values) if i == 0 or v != values[i - 1]]


def settings(epochs: int = 200) -> RunSettings:
    return RunSettings("shapes", SMALL_MODEL.z_dim, TrainConfig(epochs=epochs, batch_size=100))


def test_start_and_stop_go_through_the_states_with_the_batches_progress(qtbot, small_shapes):
    statuses: list[TrainingStatus] = []
    controller = controller_on(qtbot, small_shapes, statuses)
    try:
        assert controller.status.state is S.IDLE and not controller.status.has_run
        controller.start(settings())
        qtbot.waitUntil(lambda: controller.status.global_step >= 3, timeout=20_000)
        controller.stop()
        qtbot.waitUntil(lambda: controller.status.state is S.READY, timeout=20_000)
    finally:
        assert controller.shutdown(10_000)
    assert changes([s.state for s in statuses]) == [S.LOADING, S.TRAINING, S.STOPPING, S.READY]
    during = [s for s in statuses if s.state is S.TRAINING and s.global_step > 0]
    assert during and all(s.steps_per_epoch == 20 and s.epochs == 200 and s.images_per_s for s in during)
    steps = [s.global_step for s in during]
    assert steps == sorted(steps)  # progress only goes forward
    last = controller.status
    trainer = controller.trainer
    assert last.has_run and last.images_per_s is None and last.global_step == trainer.progress.global_step
    assert (last.epoch - 1) * 20 + last.step == last.global_step  # as the last batch carried it


def test_a_pause_is_shown_only_once_the_worker_has_paused(qtbot, small_shapes):
    statuses: list[TrainingStatus] = []
    controller = controller_on(qtbot, small_shapes, statuses)
    try:
        controller.start(settings())
        qtbot.waitUntil(lambda: controller.status.global_step >= 2, timeout=20_000)
        controller.toggle_pause()
        asked = controller.status
        assert asked.state is S.TRAINING and asked.awaiting_worker  # not "paused" before the worker says so
        qtbot.waitUntil(lambda: controller.status.state is S.PAUSED, timeout=20_000)
        assert not controller.status.awaiting_worker
        paused_at = controller.trainer.progress.global_step
        controller.toggle_pause()
        assert controller.status.state is S.PAUSED and controller.status.awaiting_worker  # Resume: still paused
        qtbot.waitUntil(lambda: controller.status.state is S.TRAINING, timeout=20_000)
        qtbot.waitUntil(lambda: controller.status.global_step > paused_at + 1, timeout=20_000)
        controller.stop()
        qtbot.waitUntil(lambda: controller.status.state is S.READY, timeout=20_000)
    finally:
        assert controller.shutdown(10_000)
    shown = changes([(s.state, s.awaiting_worker) for s in statuses])
    assert shown == [(S.LOADING, False), (S.TRAINING, False), (S.TRAINING, True), (S.PAUSED, False),
                     (S.PAUSED, True), (S.TRAINING, False), (S.STOPPING, False), (S.READY, False)]


def test_a_window_continue_and_a_cli_resume_of_one_checkpoint_train_the_same_next_epoch(qtbot, tmp_path):
    """Settings the form does not show (reconstruction loss, KL warm-up, free bits) stay the run's."""
    folder = tmp_path / "images"
    folder.mkdir()
    images, _labels = render_shapes(300, seed=5)
    for i, image in enumerate(images[:, 0].numpy()):
        Image.fromarray(image).save(folder / f"{i}.png")
    first = run_cli("train", "--dataset", f"folder:{folder}", "--batch-size", "64", "--z-dim", "2", "--epochs", "1",
                    "--seed", "3", "--base-width", "8", "--recon-loss", "gaussian", "--kl-warmup-epochs", "2",
                    "--free-bits", "0.1", "--quiet", "--out", str(tmp_path / "first"))
    assert first.returncode == 0, first.stderr
    checkpoint = tmp_path / "first" / "checkpoints" / "latest.vaeckpt"
    shutil.copy(checkpoint, tmp_path / "for_window.vaeckpt")
    resumed = run_cli("train", "--resume", str(tmp_path / "first"), "--epochs", "2", "--quiet")
    assert resumed.returncode == 0, resumed.stderr

    controller = RunController(threads=1)
    try:
        assert controller.open_checkpoint(str(tmp_path / "for_window.vaeckpt"))
        opened = controller.run_settings()
        assert controller.status.state is S.READY and controller.status.epoch == 1
        form = opened.train  # what the form sends: only the fields it shows
        controller.start(RunSettings(opened.dataset, opened.z_dim, TrainConfig(
            epochs=2, batch_size=form.batch_size, lr=form.lr, beta=form.beta, seed=form.seed)))
        qtbot.waitUntil(lambda: controller.status.state is S.READY and controller.trainer is not None
                        and controller.trainer.finished, timeout=120_000)
    finally:
        assert controller.shutdown(10_000)
        assert controller.join_dataset_loads(60)
    kept = controller.trainer.config
    assert (kept.recon_loss, kept.kl_warmup_epochs, kept.free_bits) == ("gaussian", 2, 0.1)
    write_metrics_csv(controller.trainer.history.epochs, tmp_path / "window.csv")
    cli_rows, window_rows = _numbers(tmp_path / "first" / "metrics.csv"), _numbers(tmp_path / "window.csv")
    assert [r["epoch"] for r in window_rows] == ["1", "2"]
    assert window_rows == cli_rows  # epoch 2 trained in the window is the CLI's epoch 2, to the digit
