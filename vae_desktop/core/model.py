"""The VAE: a conv encoder emitting 2*z_dim numbers (mean | log-stddev) and a transposed-conv decoder.

The encoder's last layer is a plain Linear layer; nothing in the network says which half is the
mean. `split_encoding` gives the halves their roles, and the loss (through `rsample`) trains them
into those roles. The inspector shows exactly these tensors.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn
from torch.distributions import Normal

from vae_desktop.core.config import ModelConfig


class VAEOutput(NamedTuple):
    """What one forward pass produces; `reconstruction` and `posterior` come first for unpacking."""

    reconstruction: torch.Tensor  # decoded pixel probabilities in [0, 1], shape like x
    posterior: Normal  # q(z|x) = Normal(mean, stddev)
    z: torch.Tensor  # the reparameterised sample that was decoded
    logits: torch.Tensor  # decoder output before the sigmoid (numerically stable losses)


def split_encoding(encoding: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Split raw encoder output (…, 2*z_dim) into (mean, log_stddev): first half, second half."""
    z_dim = encoding.shape[-1] // 2
    return encoding[..., :z_dim], encoding[..., z_dim:]


class Encoder(nn.Module):
    """Two stride-2 convolutions, a hidden layer, and a last Linear layer with 2*z_dim outputs."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        c, h, w = config.image_shape
        width = config.base_width
        flat = 2 * width * (h // 4) * (w // 4)
        self.net = nn.Sequential(
            nn.Conv2d(c, width, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(width, 2 * width, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(flat, config.hidden),
            nn.ReLU(),
            nn.Linear(config.hidden, 2 * config.z_dim),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class Decoder(nn.Module):
    """Mirror of the encoder: Linear layers up to a feature map, then two transposed convolutions."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        c, h, w = config.image_shape
        width = config.base_width
        self.net = nn.Sequential(
            nn.Linear(config.z_dim, config.hidden),
            nn.ReLU(),
            nn.Linear(config.hidden, 2 * width * (h // 4) * (w // 4)),
            nn.ReLU(),
            nn.Unflatten(1, (2 * width, h // 4, w // 4)),
            nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.ConvTranspose2d(width, c, 4, stride=2, padding=1),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Return logits; `VAE.decode` applies the sigmoid."""
        return self.net(z)


class VAE(nn.Module):
    """Variational autoencoder with a mean / log-stddev Gaussian posterior and a Bernoulli-style decoder."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = Encoder(config)
        self.decoder = Decoder(config)

    @property
    def z_dim(self) -> int:
        return self.config.z_dim

    def encoder_output(self, x: torch.Tensor) -> torch.Tensor:
        """The raw 2*z_dim numbers per image, in the order the network emits them."""
        return self.encoder(x)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (mean, stddev): the first z_dim outputs, and exp of the second z_dim (log-stddev)."""
        mean, log_std = split_encoding(self.encoder_output(x))
        return mean, log_std.exp()

    def posterior(self, x: torch.Tensor) -> Normal:
        mean, std = self.encode(x)
        # No argument validation: diverged weights (a stddev of 0 or inf) must reach the loss as a
        # non-finite number, which the trainer detects and rolls back; validation would raise a
        # ValueError first and skip that rollback.
        return Normal(mean, std, validate_args=False)

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Decode latent codes to pixel values in [0, 1]."""
        return torch.sigmoid(self.decoder(z))

    def forward(self, x: torch.Tensor) -> VAEOutput:
        posterior = self.posterior(x)
        z = posterior.rsample()
        logits = self.decode_logits(z)
        return VAEOutput(torch.sigmoid(logits), posterior, z, logits)


def new_model(config: ModelConfig, seed: int) -> VAE:
    """A freshly initialised VAE whose weights depend on `config` and `seed` only.

    Every new run (the window's first Start, `vae-desktop train` without --resume) is built here, so
    the same seed gives the same numbers in both. The global random state is restored afterwards:
    the trainer seeds the shuffles and the noise of each epoch itself."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return VAE(config)


def empty_model(config: ModelConfig) -> VAE:
    """A CPU VAE with uninitialised weights, for loading a state into.

    Building on the meta device skips random initialisation, so this never draws from torch's
    global random generator: the trainer seeds and checkpoints that state, and a model built in
    another thread mid-run (the GUI's copy, a loaded checkpoint) would otherwise change the run.
    """
    with torch.device("meta"):
        model = VAE(config)
    return model.to_empty(device="cpu").eval().requires_grad_(False)
