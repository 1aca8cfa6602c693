import math

import torch
import torch.nn.functional as F
from torch.distributions import Normal, kl_divergence

from vae_desktop.core.losses import kl_nats, kl_per_dimension, reconstruction_nats, vae_loss


def test_kl_matches_torch_distributions_for_a_log_stddev_encoder():
    torch.manual_seed(0)
    mean = torch.randn(8, 5) * 2
    log_std = torch.randn(8, 5)
    posterior = Normal(mean, log_std.exp())
    expected = kl_divergence(posterior, Normal(torch.zeros(8, 5), torch.ones(8, 5))).sum(1)
    torch.testing.assert_close(kl_nats(posterior), expected)
    # And the closed form written for log-stddev (not log-variance): -log s + (s^2 + m^2)/2 - 1/2
    closed = (-log_std + (log_std.exp() ** 2 + mean**2) / 2 - 0.5).sum(1)
    torch.testing.assert_close(kl_nats(posterior), closed)


def test_kl_is_zero_only_at_the_prior():
    assert float(kl_nats(Normal(torch.zeros(1, 3), torch.ones(1, 3)))) == 0.0
    assert float(kl_nats(Normal(torch.full((1, 3), 0.1), torch.ones(1, 3)))) > 0


def test_per_dimension_kl_sums_to_the_total():
    posterior = Normal(torch.randn(4, 6), torch.rand(4, 6) + 0.1)
    torch.testing.assert_close(kl_per_dimension(posterior).sum(1), kl_nats(posterior))


def test_bernoulli_reconstruction_is_bce_summed_over_pixels():
    logits = torch.randn(3, 1, 28, 28)
    x = torch.rand(3, 1, 28, 28)
    expected = F.binary_cross_entropy(torch.sigmoid(logits), x, reduction="none").flatten(1).sum(1)
    torch.testing.assert_close(reconstruction_nats(logits, x), expected, rtol=1e-4, atol=1e-3)


def test_gaussian_reconstruction_is_unit_variance_negative_log_likelihood():
    logits = torch.zeros(1, 1, 2, 2)  # decoded 0.5 everywhere
    x = torch.ones(1, 1, 2, 2)
    expected = 4 * (0.5 * 0.25 + 0.5 * math.log(2 * math.pi))
    assert abs(float(reconstruction_nats(logits, x, "gaussian")) - expected) < 1e-5


def test_beta_weights_only_the_kl():
    logits, x = torch.randn(2, 1, 4, 4), torch.rand(2, 1, 4, 4)
    posterior = Normal(torch.randn(2, 3), torch.rand(2, 3) + 0.5)
    one = vae_loss(logits, x, posterior, beta=1.0)
    four = vae_loss(logits, x, posterior, beta=4.0)
    torch.testing.assert_close(one.recon, four.recon)
    torch.testing.assert_close(four.objective, one.recon + 4 * one.kl)
    torch.testing.assert_close(one.negative_elbo, one.objective)
