"""The experiments of issue 17, as numbers: swapped halves train identically, a raw stddev fails at a
named step, KL warm-up and free bits shape the objective, active units are counted per epoch."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch
from torch.distributions import Normal

from vae_desktop.core.checkpoint import Checkpoint, load_checkpoint, save_checkpoint, save_payload
from vae_desktop.core.config import ModelConfig, TrainConfig
from vae_desktop.core.errors import CheckpointError, ConfigError, TrainingDivergedError
from vae_desktop.core.evaluation import evaluate_model
from vae_desktop.core.inspection import dimension_activity, inspect_image
from vae_desktop.core.losses import kl_per_dimension, vae_loss, warmup_beta
from vae_desktop.core.metrics import BatchMetrics, EpochMetrics
from vae_desktop.core.metrics_csv import write_metrics_csv
from vae_desktop.core.model import new_model
from vae_desktop.core.trainer import Trainer

SMALL = {"z_dim": 4, "base_width": 8, "hidden": 64}


def _train(dataset, model_config: ModelConfig, steps: int | None = None, **train) -> tuple[Trainer, list]:
    config = TrainConfig(**{"epochs": 2, "batch_size": 20, "lr": 2e-3, "seed": 3, "device": "cpu", **train})
    trainer = Trainer(new_model(model_config, config.seed), dataset, config)
    events = []
    for metrics in trainer.run():
        events.append(metrics)
        if steps is not None and sum(isinstance(m, BatchMetrics) for m in events) == steps:
            trainer.stop()
    return trainer, events


def test_swapped_halves_start_from_the_same_weights_with_the_last_rows_swapped():
    normal = new_model(ModelConfig(**SMALL), 7)
    swapped = new_model(ModelConfig(**SMALL, layout="logstd-first"), 7)
    a, b = normal.encoder.net[-1], swapped.encoder.net[-1]
    torch.testing.assert_close(b.weight, torch.cat([a.weight[4:], a.weight[:4]]), rtol=0, atol=0)
    torch.testing.assert_close(b.bias, torch.cat([a.bias[4:], a.bias[:4]]), rtol=0, atol=0)
    x = torch.rand(3, 1, 28, 28)
    for got, want in zip(swapped.encode(x), normal.encode(x), strict=True):
        torch.testing.assert_close(got, want)


def test_the_logstd_first_layout_trains_to_the_same_curves_over_200_steps(small_shapes):
    normal, normal_events = _train(small_shapes, ModelConfig(**SMALL))
    swapped, swapped_events = _train(small_shapes, ModelConfig(**SMALL, layout="logstd-first"))
    steps = [m for m in normal_events if isinstance(m, BatchMetrics)]
    assert len(steps) == 200
    a, b = normal.history.batch_arrays(), swapped.history.batch_arrays()
    np.testing.assert_allclose(b["recon"], a["recon"], rtol=0, atol=1e-4)
    np.testing.assert_allclose(b["kl"], a["kl"], rtol=0, atol=1e-4)
    for got, want in zip(swapped.history.epochs, normal.history.epochs, strict=True):
        assert got.test_total == pytest.approx(want.test_total, abs=1e-4)
        assert got.active_units == want.active_units
    # The roles follow the use: the swapped model's μ is its second half of outputs.
    image = small_shapes.test_images[0].numpy()
    eps = np.zeros(4, np.float32)
    shown = inspect_image(swapped.model, image, eps)
    np.testing.assert_allclose(shown.mean, shown.raw[4:])
    np.testing.assert_allclose(shown.mean, inspect_image(normal.model, image, eps).mean, atol=1e-3)


def test_a_raw_stddev_goes_negative_and_stops_at_the_first_step_with_nothing_changed(small_shapes):
    model_config = ModelConfig(**SMALL, stddev="raw")
    config = TrainConfig(epochs=1, batch_size=100, seed=0, device="cpu")
    trainer = Trainer(new_model(model_config, 0), small_shapes, config)
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    with pytest.raises(TrainingDivergedError, match=r"stddev became negative \(σ = -[0-9.e-]+ in latent dimension "
                       r"\d of image \d+ of the batch\) at epoch 1, step 1\. Nothing was changed") as info:
        list(trainer.run())
    assert info.value.epoch == 1 and info.value.step == 1
    assert "softplus" in str(info.value)
    for name, value in trainer.model.state_dict().items():
        assert torch.equal(value, before[name]), name


def test_a_stddev_that_turns_negative_mid_run_rolls_back_to_the_last_good_weights(small_shapes):
    torch.manual_seed(0)
    model = new_model(ModelConfig(**SMALL, stddev="raw"), 0)
    with torch.no_grad():
        model.encoder.net[-1].bias[4:] += 1.0  # σ starts near 1: training runs until something pushes it below 0
    trainer = Trainer(model, small_shapes, TrainConfig(epochs=2, batch_size=100, seed=0, device="cpu"))
    with pytest.raises(TrainingDivergedError, match=r"stddev became negative .* at epoch 2, step 4\. The model was "
                       r"restored to its last good weights, after step 20 of the run") as info:
        for metrics in trainer.run():
            if isinstance(metrics, BatchMetrics) and metrics.global_step == 23:
                with torch.no_grad():  # what a bad update would do: all σ below zero
                    trainer.model.encoder.net[-1].bias[4:] -= 50.0
    assert "softplus" in str(info.value)
    assert trainer.progress.global_step == 20
    mean, std = trainer.model.encode(small_shapes.test_images[:50].float() / 255)
    assert bool((std > 0).all())


def test_softplus_stddev_trains(small_shapes):
    trainer, events = _train(small_shapes, ModelConfig(**SMALL, stddev="softplus"), batch_size=100)
    epochs = [m for m in events if isinstance(m, EpochMetrics)]
    assert len(epochs) == 2 and epochs[1].test_total < epochs[0].test_total
    _, std = trainer.model.encode(small_shapes.test_images[:10].float() / 255)
    torch.testing.assert_close(std, torch.nn.functional.softplus(
        trainer.model.encoder_output(small_shapes.test_images[:10].float() / 255)[:, 4:]))


def test_kl_warmup_ramps_beta_from_zero_per_step_over_the_given_epochs(small_shapes):
    assert warmup_beta(2.0, 0, 10) == 0.0 and warmup_beta(2.0, 5, 10) == 1.0
    assert warmup_beta(2.0, 10, 10) == warmup_beta(2.0, 99, 10) == 2.0 and warmup_beta(2.0, 0, 0) == 2.0
    config = TrainConfig(epochs=3, batch_size=100, seed=0, device="cpu", beta=2.0, kl_warmup_epochs=2)
    trainer = Trainer(new_model(ModelConfig(**SMALL), 0), small_shapes, config)
    weights = []
    for metrics in trainer.run():
        if isinstance(metrics, BatchMetrics):
            weights.append(trainer.kl_weight())  # β of the next step
    steps = trainer.steps_per_epoch * 2  # 40 steps of warm-up
    assert weights[:steps] == pytest.approx([2.0 * (i + 1) / steps for i in range(steps)])
    assert set(weights[steps - 1 :]) == {2.0}


def test_free_bits_clamp_the_batch_mean_kl_per_dimension_but_the_metrics_report_the_true_kl():
    torch.manual_seed(0)
    loc = torch.tensor([[2.0, 0.01, 0.0], [1.0, -0.01, 0.0]], requires_grad=True)
    scale = torch.tensor([[0.5, 1.0, 1.0], [0.5, 1.0, 1.0]])
    posterior = Normal(loc, scale)
    logits, x = torch.zeros(2, 1, 4, 4), torch.ones(2, 1, 4, 4)
    plain = vae_loss(logits, x, posterior, beta=1.0)
    freed = vae_loss(logits, x, posterior, beta=1.0, free_bits=0.5)
    per_dim_mean = kl_per_dimension(posterior).mean(0)
    assert freed.kl == plain.kl  # reported: unclamped
    assert freed.objective.item() == pytest.approx((plain.recon + per_dim_mean.clamp(min=0.5).sum()).item())
    freed.objective.backward()
    assert loc.grad is not None
    assert bool((loc.grad[:, 0] != 0).all()) and bool((loc.grad[:, 1:] == 0).all())  # below λ: no pull


def test_active_units_are_counted_in_each_epoch_on_a_model_where_they_are_known(small_shapes, tmp_path):
    model = new_model(ModelConfig(**SMALL), 0)
    with torch.no_grad():
        last = model.encoder.net[-1]
        last.weight[2:4] = 0.0  # μ_2 and μ_3 are constants: never active
        last.weight[0:2] *= 20.0  # μ_0 and μ_1 vary strongly from image to image
    evaluation = evaluate_model(model, small_shapes.test_images)
    assert evaluation is not None and evaluation.active_units == 2
    assert dimension_activity(model, small_shapes.test_images).active_unit_count == 2
    # Trained with lr 0 the model stays this model: each epoch records 2 active units.
    trainer = Trainer(model, small_shapes, TrainConfig(epochs=1, batch_size=500, lr=1e-12, seed=0, device="cpu"))
    epochs = [m for m in trainer.run() if isinstance(m, EpochMetrics)]
    assert [e.active_units for e in epochs] == [2]
    loaded = load_checkpoint(save_checkpoint(Checkpoint.from_trainer(trainer, "shapes"), tmp_path / "m.vaeckpt"))
    assert loaded.history.epochs[0].active_units == 2
    write_metrics_csv(loaded.history.epochs, tmp_path / "metrics.csv")
    with (tmp_path / "metrics.csv").open() as handle:
        assert next(csv.DictReader(handle))["active_units"] == "2"


def _payload(trainer: Trainer) -> dict:
    return Checkpoint.from_trainer(trainer, "shapes").to_payload()


def test_checkpoints_from_before_the_experiments_read_as_mean_first_exp_and_unknown_active_units(
        small_shapes, tmp_path):
    trainer, _ = _train(small_shapes, ModelConfig(**SMALL), batch_size=500, epochs=1)
    payload = _payload(trainer)
    for key in ("layout", "stddev"):
        del payload["model_config"][key]
    for key in ("kl_warmup_epochs", "free_bits"):
        del payload["train_config"][key]
    for entry in payload["history"]["epochs"]:
        del entry["active_units"]
    loaded = load_checkpoint(save_payload(payload, tmp_path / "old.vaeckpt"))
    assert (loaded.model_config.layout, loaded.model_config.stddev) == ("mean-first", "exp")
    assert (loaded.train_config.kl_warmup_epochs, loaded.train_config.free_bits) == (0, 0.0)
    assert loaded.history.epochs[0].active_units is None
    write_metrics_csv(loaded.history.epochs, tmp_path / "metrics.csv")
    with (tmp_path / "metrics.csv").open() as handle:
        assert next(csv.DictReader(handle))["active_units"] == ""


@pytest.mark.parametrize("section, key, value, needle", [
    ("model_config", "layout", "sideways", "Unknown encoder output layout 'sideways': choose one of mean-first, "
                                           "logstd-first"),
    ("model_config", "stddev", 3, "Unknown stddev function '3'"),
    ("train_config", "free_bits", -1.0, "Free bits (nats per dim) must be a number from 0 to 1000"),
])
def test_a_checkpoint_with_an_unknown_layout_or_stddev_is_refused_in_one_sentence(
        small_shapes, tmp_path, section, key, value, needle):
    trainer, _ = _train(small_shapes, ModelConfig(**SMALL), batch_size=500, epochs=1)
    payload = _payload(trainer)
    payload[section][key] = value
    with pytest.raises(CheckpointError, match="holds invalid settings") as info:
        load_checkpoint(save_payload(payload, tmp_path / "bad.vaeckpt"))
    assert needle in str(info.value)


def test_a_checkpoint_whose_active_units_exceed_z_dim_is_refused(small_shapes, tmp_path):
    trainer, _ = _train(small_shapes, ModelConfig(**SMALL), batch_size=500, epochs=1)
    payload = _payload(trainer)
    payload["history"]["epochs"][0]["active_units"] = 9
    with pytest.raises(CheckpointError, match=r"active_units is out of range"):
        load_checkpoint(save_payload(payload, tmp_path / "bad.vaeckpt"))


def test_settings_refuse_unknown_choices():
    with pytest.raises(ConfigError, match="choose one of exp, softplus, raw"):
        ModelConfig(stddev="log")
    with pytest.raises(ConfigError, match="KL warm-up epochs must be a whole number"):
        TrainConfig(kl_warmup_epochs=-1)


def test_every_consumer_of_the_encoder_output_makes_the_same_sigma(small_shapes):
    """The model, the inspector, the latent map's encoder, the activity measure and the gradients all
    take σ from `mean_and_stddev`: a softplus, logstd-first model gives the same σ in each."""
    from vae_desktop.core.gradients import output_gradients
    from vae_desktop.core.inference import encode_means

    model = new_model(ModelConfig(**SMALL, layout="logstd-first", stddev="softplus"), 4).eval()
    images = small_shapes.test_images[:6]
    raw = model.encoder_output(images.float() / 255).detach()
    want_mean, want_std = raw[:, 4:].numpy(), torch.nn.functional.softplus(raw[:, :4]).numpy()
    means, stds = encode_means(model, images)
    np.testing.assert_allclose(means, want_mean, rtol=1e-6)
    np.testing.assert_allclose(stds, want_std, rtol=1e-6)
    shown = inspect_image(model, images[0].numpy(), np.zeros(4, np.float32))
    np.testing.assert_allclose(shown.std, want_std[0], rtol=1e-6)
    np.testing.assert_allclose(shown.log_std, raw[0, :4].numpy(), rtol=1e-6)
    grads = output_gradients(model, images, beta=1.0)
    np.testing.assert_allclose(grads.per_image.mean_kl, want_mean, rtol=1e-5)  # β·μ
    assert list(grads.mean_outputs) == [4, 5, 6, 7]
