import pytest
import torch
from torch.distributions import Normal

from vae_desktop.core.config import ModelConfig
from vae_desktop.core.errors import ConfigError
from vae_desktop.core.model import VAE, split_encoding


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32)])
@pytest.mark.parametrize("z_dim", [1, 2, 16, 256])
def test_shapes_for_each_image_size_and_z_dim(shape, z_dim):
    c, h, w = shape
    model = VAE(ModelConfig(z_dim=z_dim, channels=c, height=h, width=w, base_width=8, hidden=32))
    x = torch.rand(5, *shape)
    assert model.encoder_output(x).shape == (5, 2 * z_dim)
    recon, posterior, z, logits = model(x)
    assert recon.shape == x.shape and logits.shape == x.shape
    assert z.shape == (5, z_dim)
    assert isinstance(posterior, Normal)
    assert float(recon.detach().min()) >= 0 and float(recon.detach().max()) <= 1
    assert model.decode(z).shape == x.shape


def test_encode_splits_mean_then_log_stddev(tiny_model):
    x = torch.rand(3, 1, 28, 28)
    raw = tiny_model.encoder_output(x)
    mean, std = tiny_model.encode(x)
    z_dim = tiny_model.z_dim
    torch.testing.assert_close(mean, raw[:, :z_dim])
    torch.testing.assert_close(std, raw[:, z_dim:].exp())
    assert bool((std > 0).all())
    m2, log_std = split_encoding(raw)
    torch.testing.assert_close(m2, mean)
    torch.testing.assert_close(log_std.exp(), std)


def test_forward_posterior_uses_the_same_mean_and_stddev(tiny_model):
    x = torch.rand(3, 1, 28, 28)
    _, posterior, z, _ = tiny_model(x)
    mean, std = tiny_model.encode(x)
    torch.testing.assert_close(posterior.loc, mean)
    torch.testing.assert_close(posterior.scale, std)


def test_rsample_lets_gradients_reach_both_halves(tiny_model):
    x = torch.rand(4, 1, 28, 28)
    _, _, z, _ = tiny_model(x)
    z.sum().backward()
    last = tiny_model.encoder.net[-1]
    grad_rows = last.weight.grad.abs().sum(1)
    assert bool((grad_rows[: tiny_model.z_dim] > 0).all())  # mean rows
    assert bool((grad_rows[tiny_model.z_dim :] > 0).all())  # log-stddev rows, through eps * exp(.)


@pytest.mark.parametrize(
    "kwargs", [{"z_dim": 0}, {"z_dim": 257}, {"height": 30}, {"channels": 0}, {"z_dim": 2.5}, {"base_width": -1}]
)
def test_nonsense_architecture_is_a_clear_error(kwargs):
    with pytest.raises(ConfigError):
        ModelConfig(**kwargs)
