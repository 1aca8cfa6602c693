"""Shared builders for run-folder tests: real RunWriters on real folders, plausible metrics."""

from __future__ import annotations

import pytest

from vae_desktop.core.config import ModelConfig, TrainConfig
from vae_desktop.core.metrics import BatchMetrics, EpochMetrics
from vae_desktop.core.runs.writer import RunWriter


def batch(global_step: int, steps_per_epoch: int = 10, recon: float | None = None, kl: float = 3.0) -> BatchMetrics:
    epoch = (global_step - 1) // steps_per_epoch + 1
    step = global_step - (epoch - 1) * steps_per_epoch
    recon = 200.0 - global_step if recon is None else recon
    return BatchMetrics(epoch, step, steps_per_epoch, global_step, recon, kl, recon + kl, 1000.0 + global_step)


def epoch_metrics(epoch: int, test_total: float | None = None, z_dim: int = 2) -> EpochMetrics:
    total = 150.0 - epoch if test_total is None else test_total
    return EpochMetrics(epoch, 140.0 - epoch, 4.0, 144.0 - epoch, total - 4.0, 4.0, total, 900.0, 1.25,
                        tuple(4.0 / z_dim for _ in range(z_dim)))


def new_writer(folder, epochs: int = 3, steps_per_epoch: int = 10, **kwargs) -> RunWriter:
    return RunWriter(folder, model_config=ModelConfig(z_dim=2), train_config=TrainConfig(epochs=epochs),
                     dataset="shapes", steps_per_epoch=steps_per_epoch, **kwargs)


@pytest.fixture
def run_dir(tmp_path):
    return tmp_path / "run"
