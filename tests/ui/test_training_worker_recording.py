"""The window's training worker records its run into a run folder (core/runs/recorder.py) from the
training thread: every batch and epoch, latest.vaeckpt after each epoch, on pause and on stop."""

from __future__ import annotations

import json

import torch

from vae_desktop.core.checkpoint import load_checkpoint
from vae_desktop.core.config import ModelConfig, TrainConfig
from vae_desktop.core.model import VAE
from vae_desktop.core.runs.opening import open_run
from vae_desktop.core.runs.recorder import RunRecorder
from vae_desktop.core.runs.source import LocalSource
from vae_desktop.core.trainer import Trainer
from vae_desktop.ui.training_worker import TrainingSession


def _session(small_shapes, folder, epochs: int) -> TrainingSession:
    torch.manual_seed(0)
    trainer = Trainer(VAE(ModelConfig(z_dim=2, base_width=4, hidden=16)), small_shapes,
                      TrainConfig(epochs=epochs, batch_size=200, device="cpu"))
    recorder = RunRecorder(folder, trainer, small_shapes.name, kind="window")
    return TrainingSession(trainer, small_shapes.name, threads=1, recorder=recorder)


def test_a_window_run_is_recorded_to_the_end(qtbot, small_shapes, tmp_path):
    session = _session(small_shapes, tmp_path / "run", epochs=2)
    with qtbot.waitSignal(session.ended, timeout=120_000) as ended:
        session.start()
    assert ended.args == ["completed"]
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert info["status"] == "finished" and info["kind"] == "window"
    opened = open_run(LocalSource(tmp_path / "run"))
    steps = session.trainer.steps_per_epoch
    assert list(opened.history.batch_arrays()["global_step"]) == list(range(1, 2 * steps + 1))
    assert [e.epoch for e in opened.history.epoch_metrics] == [1, 2]
    assert [e.test_total for e in opened.history.epoch_metrics] == [e.test_total for e in session.trainer.history.epochs]
    assert load_checkpoint(tmp_path / "run" / "checkpoints" / "latest.vaeckpt").progress.epoch == 2


def test_pause_and_stop_save_the_state_reached(qtbot, small_shapes, tmp_path):
    folder = tmp_path / "run"
    session = _session(small_shapes, folder, epochs=1000)
    with qtbot.waitSignal(session.worker.paused, timeout=120_000) as paused:
        session.start()
        qtbot.waitUntil(lambda: session.trainer.progress.global_step >= 3, timeout=60_000)
        session.pause()
    step = paused.args[0]
    assert load_checkpoint(folder / "checkpoints" / "latest.vaeckpt").progress.global_step == step
    assert json.loads((folder / "run.json").read_text())["status"] == "running"
    with qtbot.waitSignal(session.ended, timeout=60_000):
        session.stop()
    info = json.loads((folder / "run.json").read_text())
    assert info["status"] == "stopped"
    assert load_checkpoint(folder / "checkpoints" / "latest.vaeckpt").progress.global_step == \
        session.trainer.progress.global_step == info["progress"]["global_step"]


def test_the_recorder_clocks_what_recording_costs_the_training_thread(qtbot, small_shapes, tmp_path):
    """The throughput benchmark reports autosave's cost from these two clocks: recording while training
    (rows and epoch checkpoints) and the checkpoint a pause writes, each a real, bounded share of the run."""
    import time

    session = _session(small_shapes, tmp_path / "run", epochs=2)
    started = time.perf_counter()
    with qtbot.waitSignal(session.ended, timeout=120_000):
        session.start()
    wall = time.perf_counter() - started
    recorder = session.worker.recorder
    assert recorder is not None
    assert 0 < recorder.record_seconds < wall  # two epochs' rows and checkpoints took some time, not all of it
    assert recorder.save_seconds == 0  # nothing paused or stopped early: the epochs' own saves covered it
