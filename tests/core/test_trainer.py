import math
import threading
import time

import pytest
import torch

from vae_desktop.core.config import ModelConfig, TrainConfig
from vae_desktop.core.errors import ConfigError, TrainingDivergedError
from vae_desktop.core.metrics import BatchMetrics, EpochMetrics
from vae_desktop.core.model import VAE
from vae_desktop.core.trainer import Trainer


def _model(seed: int = 0, z_dim: int = 4) -> VAE:
    torch.manual_seed(seed)
    return VAE(ModelConfig(z_dim=z_dim, base_width=8, hidden=64))


def test_loss_decreases_on_shapes(small_shapes, fast_config):
    trainer = Trainer(_model(), small_shapes, fast_config)
    events = list(trainer.run())
    epochs = [e for e in events if isinstance(e, EpochMetrics)]
    batches = [e for e in events if isinstance(e, BatchMetrics)]
    assert [e.epoch for e in epochs] == [1, 2]
    assert len(batches) == 2 * 20
    first = sum(b.total for b in batches[:5]) / 5
    last = sum(b.total for b in batches[-5:]) / 5
    assert last < 0.8 * first
    assert epochs[1].test_total < epochs[0].test_total
    for e in epochs:
        assert e.train_total == pytest.approx(e.train_recon + e.train_kl)
        assert e.test_total == pytest.approx(e.test_recon + e.test_kl)
        assert sum(e.kl_per_dim) == pytest.approx(e.test_kl, rel=1e-5)
        assert e.samples_per_s > 0 and e.seconds > 0


def test_batch_metrics_are_plain_python_numbers(small_shapes, fast_config):
    metrics = next(iter(Trainer(_model(), small_shapes, fast_config).run()))
    assert isinstance(metrics, BatchMetrics)
    for value in (metrics.recon, metrics.kl, metrics.total, metrics.samples_per_s):
        assert type(value) is float and math.isfinite(value)
    assert metrics.total == pytest.approx(metrics.recon + metrics.kl)
    assert (metrics.epoch, metrics.step, metrics.global_step, metrics.steps_per_epoch) == (1, 1, 1, 20)


def test_same_seed_gives_the_same_run(small_shapes):
    config = TrainConfig(epochs=1, batch_size=200, seed=3, device="cpu")
    runs = [[m.total for m in Trainer(_model(), small_shapes, config).run() if isinstance(m, BatchMetrics)] for _ in range(2)]
    assert runs[0] == runs[1]
    other_config = TrainConfig(epochs=1, batch_size=200, seed=4, device="cpu")
    other = [m.total for m in Trainer(_model(), small_shapes, other_config).run() if isinstance(m, BatchMetrics)]
    assert other != runs[0]


def test_stop_acts_within_one_batch(small_shapes, fast_config):
    trainer = Trainer(_model(), small_shapes, fast_config)
    seen = []
    for metrics in trainer.run():
        seen.append(metrics)
        if len(seen) == 3:
            trainer.stop()
    assert len(seen) == 3
    assert trainer.progress.global_step == 3


def test_pause_blocks_the_next_batch_until_resume(small_shapes, fast_config):
    trainer = Trainer(_model(), small_shapes, fast_config)
    seen: list[float] = []

    def consume() -> None:
        for _metrics in trainer.run():
            seen.append(time.monotonic())
            if len(seen) == 2:
                trainer.pause()

    thread = threading.Thread(target=consume)
    thread.start()
    deadline = time.monotonic() + 10
    while len(seen) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.5)
    assert len(seen) == 2 and trainer.is_paused  # nothing ran while paused
    trainer.resume()
    while len(seen) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    trainer.stop()
    thread.join(5)
    assert not thread.is_alive()
    assert len(seen) >= 4


def test_stop_while_paused_ends_the_run(small_shapes, fast_config):
    trainer = Trainer(_model(), small_shapes, fast_config)
    run = trainer.run()
    next(run)
    trainer.pause()
    threading.Timer(0.2, trainer.stop).start()
    assert list(run) == []


def test_nan_loss_stops_with_epoch_and_step_and_keeps_good_weights(small_shapes):
    trainer = Trainer(_model(), small_shapes, TrainConfig(epochs=3, batch_size=100, lr=1e6, device="cpu"), snapshot_every=1)
    seen = []
    with pytest.raises(TrainingDivergedError) as info:
        for metrics in trainer.run():
            seen.append(metrics)
    err = info.value
    assert f"epoch {err.epoch}, step {err.step}" in str(err)
    assert "NaN" in str(err) or "infinite" in str(err)
    assert all(torch.isfinite(p).all() for p in trainer.model.parameters())
    # The restored weights give a finite loss again.
    x = small_shapes.test_images[:50].float() / 255
    recon, posterior, _, logits = trainer.model(x)
    assert torch.isfinite(logits).all()
    assert len(trainer.history) == trainer.progress.global_step


def test_nonsense_settings_are_clear_errors(small_shapes):
    with pytest.raises(ConfigError, match="larger than the training set"):
        Trainer(_model(), small_shapes, TrainConfig(batch_size=5000, device="cpu"))
    with pytest.raises(ConfigError, match="expects images"):
        Trainer(VAE(ModelConfig(z_dim=2, channels=3, height=32, width=32, base_width=8, hidden=32)), small_shapes, TrainConfig(device="cpu"))
    for bad in ({"lr": 0.0}, {"lr": -1.0}, {"epochs": 0}, {"batch_size": 0}, {"beta": -1.0}, {"device": "tpu"}, {"lr": float("nan")}):
        with pytest.raises(ConfigError):
            TrainConfig(**bad)
