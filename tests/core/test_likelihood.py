"""The importance-weighted bound: K = 1 is the ELBO (exactly, for the same ε, with the KL estimated from
that sample; in expectation, with the closed-form KL), more samples tighten it, memory stays bounded."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.distributions import Normal

from vae_desktop.core.config import ModelConfig, TrainConfig
from vae_desktop.core.datasets.base import to_float
from vae_desktop.core.errors import ConfigError
from vae_desktop.core.likelihood import check_importance_samples, importance_weighted_bound, samples_per_chunk
from vae_desktop.core.losses import kl_nats, reconstruction_nats
from vae_desktop.core.model import new_model
from vae_desktop.core.trainer import Trainer


@pytest.fixture(scope="module")
def trained(small_shapes):
    trainer = Trainer(new_model(ModelConfig(z_dim=4, base_width=8, hidden=64), 0), small_shapes,
                      TrainConfig(epochs=2, batch_size=100, lr=2e-3, seed=0, device="cpu"))
    for _ in trainer.run():
        pass
    return trainer.model.eval()


def test_one_sample_is_the_elbo_for_the_same_noise(trained, small_shapes):
    images = small_shapes.test_images[:50]
    eps = torch.randn(50, 1, 4, generator=torch.Generator().manual_seed(9))
    bound = importance_weighted_bound(trained, images, 1, eps=eps)
    x = to_float(images)
    with torch.no_grad():
        posterior = trained.posterior(x)
        z = posterior.loc + posterior.scale * eps[:, 0]
        recon = reconstruction_nats(trained.decode_logits(z), x)
        kl_estimate = (posterior.log_prob(z) - Normal(0.0, 1.0).log_prob(z)).sum(1)
    np.testing.assert_allclose(bound.per_image, (-recon - kl_estimate).double().numpy(), rtol=1e-6)


def test_one_sample_equals_the_elbo_in_expectation(trained, small_shapes):
    """For the same ε, L_1 and the ELBO with the closed-form KL (what `evaluate_model` reports) differ only
    by the one-sample KL estimate, whose mean over many ε is the closed-form KL: the difference averages to 0."""
    images = small_shapes.test_images[:100]
    x = to_float(images)
    with torch.no_grad():
        posterior = trained.posterior(x)
        kl = kl_nats(posterior)
        differences = []
        for seed in range(200):
            eps = torch.randn(100, 1, 4, generator=torch.Generator().manual_seed(seed))
            bound = importance_weighted_bound(trained, images, 1, eps=eps).per_image
            z = posterior.loc + posterior.scale * eps[:, 0]
            elbo = -(reconstruction_nats(trained.decode_logits(z), x) + kl).double().numpy()
            differences.append(float((bound - elbo).mean()))
    standard_error = np.std(differences, ddof=1) / math.sqrt(len(differences))
    assert abs(np.mean(differences)) < 4 * standard_error, (np.mean(differences), standard_error)
    assert standard_error < 0.05  # the estimate is sharp: a wrong KL sign or factor would show


def test_more_samples_tighten_the_bound_and_chunking_does_not_change_it(trained, small_shapes, monkeypatch):
    images = small_shapes.test_images[:60]
    one = importance_weighted_bound(trained, images, 1, seed=1).mean
    fifty = importance_weighted_bound(trained, images, 50, seed=1)
    assert fifty.mean > one  # a tighter (higher) lower bound on log p(x)
    assert fifty.negative == pytest.approx(-fifty.mean) and fifty.samples == 50 and len(fifty.per_image) == 60
    eps = torch.randn(60, 50, 4, generator=torch.Generator().manual_seed(3))
    whole = importance_weighted_bound(trained, images, 50, eps=eps).per_image
    import vae_desktop.core.likelihood as likelihood

    monkeypatch.setattr(likelihood, "CHUNK_VALUES", 28 * 28 * 16 * 7)  # 7 samples per decoder call
    assert samples_per_chunk((1, 28, 28)) == 7
    chunked = importance_weighted_bound(trained, images, 50, eps=eps).per_image
    np.testing.assert_allclose(chunked, whole, rtol=1e-6)  # float32 decoding in other batch sizes


@pytest.mark.parametrize("value", [0, -3, "0", "-1", "1e3", "ten", 10**6, True])
def test_bad_sample_counts_get_one_sentence(value):
    with pytest.raises(ConfigError, match=r"Importance samples \(K\) must be a whole number from 1 to 100,000"):
        check_importance_samples(value)
    assert check_importance_samples("1000") == 1000
