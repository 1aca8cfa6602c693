"""core/resume.py, the one way a run is continued: a stopped trainer and its saved checkpoint go on
with the same steps, and a continued run's settings change only where allowed."""

from __future__ import annotations

import pytest

from tests.core.test_checkpoint import _run_steps, _trainer
from vae_desktop.core.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from vae_desktop.core.errors import ConfigError
from vae_desktop.core.metrics import BatchMetrics, EpochMetrics
from vae_desktop.core.resume import ResumePoint, resume_trainer, resumed_config


def test_a_stopped_trainer_and_its_checkpoint_continue_with_the_same_steps(small_shapes, tmp_path):
    first = _trainer(small_shapes)
    _run_steps(first, 7)  # mid-epoch: the epoch's running sums and the shuffle position must carry over
    path = save_checkpoint(Checkpoint.from_trainer(first, "shapes"), tmp_path / "m.vaeckpt")
    from_file = resume_trainer(ResumePoint.of_checkpoint(load_checkpoint(path)), small_shapes, first.config)
    in_memory = resume_trainer(ResumePoint.of_trainer(first), small_shapes, first.config)  # Stop, then Continue

    def epoch_two(trainer) -> tuple[list[float], EpochMetrics]:
        events = list(trainer.run())
        epochs = [e for e in events if isinstance(e, EpochMetrics)]
        return [m.recon for m in events if isinstance(m, BatchMetrics)], epochs[-1]

    file_steps, file_epoch = epoch_two(from_file)
    memory_steps, memory_epoch = epoch_two(in_memory)
    assert len(file_steps) == 40 - 7
    assert file_steps == pytest.approx(memory_steps, rel=1e-6)
    assert file_epoch.epoch == memory_epoch.epoch == 2
    assert file_epoch.test_total == pytest.approx(memory_epoch.test_total, rel=1e-6)


def test_a_continued_run_keeps_its_architecture_and_takes_new_settings(small_shapes, tmp_path):
    trainer = _trainer(small_shapes)
    _run_steps(trainer, 3)
    checkpoint = Checkpoint.from_trainer(trainer, "shapes")
    config = resumed_config(checkpoint, {"epochs": 5, "lr": 5e-4})
    assert (config.epochs, config.lr, config.batch_size, config.seed) == (5, 5e-4, 100, 5)
    assert resumed_config(checkpoint, {}, z_dim=3) == checkpoint.train_config  # its own z_dim is fine
    with pytest.raises(ConfigError, match="--z-dim 8 differs from the checkpoint's z_dim 3"):
        resumed_config(checkpoint, {}, z_dim=8)
    with pytest.raises(ConfigError):
        resumed_config(checkpoint, {"epochs": 0})  # checked like any setting
