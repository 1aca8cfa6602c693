"""The per-output gradients: the closed-form KL parts and the recon parts through z = μ + σ·ε equal
autograd of the whole loss with respect to the encoder's raw outputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.distributions import Normal

from vae_desktop.core.config import ModelConfig
from vae_desktop.core.datasets.base import to_float
from vae_desktop.core.gradients import output_gradients
from vae_desktop.core.losses import kl_per_dimension, reconstruction_nats
from vae_desktop.core.model import mean_and_stddev, new_model

Z = 4


def _autograd(model, images: torch.Tensor, eps: np.ndarray, beta: float, recon_loss: str):
    """∂(rec_i)/∂raw_i and ∂(β·KL_i)/∂raw_i, (N, 2*z_dim) each, by autograd of the loss as the trainer writes it."""
    x = to_float(images)
    raw = model.encoder_output(x).detach().double().requires_grad_(True)
    mean, _, std = mean_and_stddev(raw, model.config)
    posterior = Normal(mean, std)
    z = posterior.loc + posterior.scale * torch.from_numpy(eps).double()
    recon = reconstruction_nats(model.double().decode_logits(z), x.double(), recon_loss).sum()
    kl = beta * kl_per_dimension(posterior).sum()
    (d_recon,) = torch.autograd.grad(recon, raw, retain_graph=True)
    (d_kl,) = torch.autograd.grad(kl, raw)
    model.float()
    return d_recon.numpy(), d_kl.numpy()


@pytest.mark.parametrize("layout", ["mean-first", "logstd-first"])
@pytest.mark.parametrize("stddev", ["exp", "softplus"])
@pytest.mark.parametrize("recon_loss", ["bernoulli", "gaussian"])
def test_closed_forms_and_recon_parts_equal_autograd_of_the_whole_loss(small_shapes, layout, stddev, recon_loss):
    model = new_model(ModelConfig(z_dim=Z, base_width=8, hidden=64, layout=layout, stddev=stddev), 2)
    images = small_shapes.test_images[:16]
    beta = 1.7
    grads = output_gradients(model, images, beta=beta, recon_loss=recon_loss, seed=4)
    want_recon, want_kl = _autograd(model, images, grads.eps, beta, recon_loss)
    got_recon, got_kl = grads.as_outputs()
    np.testing.assert_allclose(got_recon, want_recon, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got_kl, want_kl, rtol=1e-4, atol=1e-5)
    batch_recon, batch_kl = grads.as_outputs(grads.batch_mean)
    np.testing.assert_allclose(batch_recon + batch_kl, (want_recon + want_kl).mean(0), rtol=1e-4, atol=1e-5)


def test_the_exp_kl_parts_are_beta_mu_and_beta_sigma_squared_minus_one(small_shapes):
    model = new_model(ModelConfig(z_dim=Z, base_width=8, hidden=64), 1)
    images = small_shapes.test_images[:8]
    grads = output_gradients(model, images, beta=0.5)
    raw = model.encoder_output(to_float(images)).detach().double().numpy()
    mu, log_std = raw[:, :Z], raw[:, Z:]
    np.testing.assert_allclose(grads.per_image.mean_kl, 0.5 * mu, rtol=1e-6)
    np.testing.assert_allclose(grads.per_image.spread_kl, 0.5 * (np.exp(log_std) ** 2 - 1), rtol=1e-5, atol=1e-7)
    # The log σ output gets the mean's recon gradient scaled by ε·σ: it only scales the noise.
    np.testing.assert_allclose(grads.per_image.spread_recon, grads.per_image.mean_recon * grads.eps * np.exp(log_std),
                               rtol=1e-5, atol=1e-7)
    assert list(grads.mean_outputs) == list(range(Z)) and list(grads.spread_outputs) == list(range(Z, 2 * Z))


def test_given_noise_is_used_and_the_model_is_left_as_it_was(small_shapes):
    model = new_model(ModelConfig(z_dim=Z, base_width=8, hidden=64), 1).train()
    eps = np.zeros((3, Z), np.float32)
    grads = output_gradients(model, small_shapes.test_images[:3], eps=eps)
    assert np.all(grads.per_image.spread_recon == 0)  # no noise: log σ gets nothing from the reconstruction
    assert model.training and all(p.grad is None for p in model.parameters())
    with pytest.raises(ValueError, match="eps must have shape"):
        output_gradients(model, small_shapes.test_images[:3], eps=np.zeros((2, Z)))
