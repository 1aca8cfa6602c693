"""The VAE: a conv encoder emitting 2*z_dim numbers (mean | log-stddev) and a transposed-conv decoder.

The encoder's last layer is a plain Linear layer; nothing in the network says which half is the
mean. `split_encoding` gives the halves their roles (`ModelConfig.layout` says which half is which)
and `stddev_from_output` turns the spread half into σ (`ModelConfig.stddev`: exp of log σ by
default); the loss (through `rsample`) trains them into those roles. Everything that needs σ from
the encoder's output (the model, the inspector, the gradients, the likelihood) goes through these
two functions. The inspector shows exactly these tensors.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Normal

from vae_desktop.core.config import ModelConfig


class VAEOutput(NamedTuple):
    """What one forward pass produces; `reconstruction` and `posterior` come first for unpacking."""

    reconstruction: torch.Tensor  # decoded pixel probabilities in [0, 1], shape like x
    posterior: Normal  # q(z|x) = Normal(mean, stddev)
    z: torch.Tensor  # the reparameterised sample that was decoded
    logits: torch.Tensor  # decoder output before the sigmoid (numerically stable losses)


def split_encoding(encoding: torch.Tensor, layout: str = "mean-first") -> tuple[torch.Tensor, torch.Tensor]:
    """Split raw encoder output (…, 2*z_dim) into (mean, spread): the spread half is log σ for the
    exp stddev. mean-first: the mean is the first half; logstd-first: the second."""
    z_dim = encoding.shape[-1] // 2
    first, second = encoding[..., :z_dim], encoding[..., z_dim:]
    if layout == "mean-first":
        return first, second
    if layout == "logstd-first":
        return second, first
    raise ValueError(f"unknown encoder output layout {layout!r}")


def stddev_from_output(spread: torch.Tensor, kind: str = "exp") -> torch.Tensor:
    """σ from the spread half: exp (the output is log σ), softplus, or raw (the output *is* σ, and a
    Linear layer's output is as often negative as not: see `first_bad_stddev`)."""
    if kind == "exp":
        return spread.exp()
    if kind == "softplus":
        return F.softplus(spread)
    if kind == "raw":
        return spread
    raise ValueError(f"unknown stddev function {kind!r}")


def stddev_derivative(spread: torch.Tensor, kind: str = "exp") -> torch.Tensor:
    """dσ/d(spread output), elementwise: σ for exp, sigmoid for softplus, 1 for raw (core/gradients.py)."""
    if kind == "exp":
        return spread.exp()
    if kind == "softplus":
        return torch.sigmoid(spread)
    if kind == "raw":
        return torch.ones_like(spread)
    raise ValueError(f"unknown stddev function {kind!r}")


def mean_and_stddev(encoding: torch.Tensor, config: ModelConfig) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(mean, spread output, σ) of raw encoder output, by the model's layout and stddev function."""
    mean, spread = split_encoding(encoding, config.layout)
    return mean, spread, stddev_from_output(spread, config.stddev)


def first_bad_stddev(std: torch.Tensor) -> tuple[int, int, float] | None:
    """(image, dimension, value) of the first σ that is not positive, or None when all are.

    A Normal with σ <= 0 is no distribution; torch's KL formula squares σ and would quietly report a
    finite number for it, so the trainer checks this itself (see Trainer's raw-stddev failure)."""
    bad = ~(std > 0)
    if not bool(bad.any()):
        return None
    image, dim = (int(i) for i in bad.nonzero()[0])
    return image, dim, float(std[image, dim])


def stage_widths(config: ModelConfig) -> list[int]:
    """Output channels of each stride-2 convolution: base, 2×base, then doubling up to 8×base.

    28×28 and 32×32 images get the two stages every model had before larger images existed (so old
    checkpoints load and the same seed gives the same weights); each doubling of the image from 64 on
    adds one more, so the last feature map stays about 8×8 instead of growing with the image."""
    return [config.base_width * 2 ** min(i, 3) for i in range(config.stages)]


class Encoder(nn.Module):
    """Stride-2 convolutions (`stage_widths`), a hidden layer, and a last Linear layer with 2*z_dim outputs."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        c, h, w = config.image_shape
        widths = stage_widths(config)
        layers: list[nn.Module] = []
        for before, after in zip([c, *widths[:-1]], widths, strict=True):
            layers += [nn.Conv2d(before, after, 4, stride=2, padding=1), nn.ReLU()]
        shrink = 2 ** config.stages
        flat = widths[-1] * (h // shrink) * (w // shrink)
        self.net = nn.Sequential(
            *layers,
            nn.Flatten(),
            nn.Linear(flat, config.hidden),
            nn.ReLU(),
            nn.Linear(config.hidden, 2 * config.z_dim),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class Decoder(nn.Module):
    """Mirror of the encoder: Linear layers up to a feature map, then one transposed convolution per stage."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        c, h, w = config.image_shape
        widths = stage_widths(config)
        shrink = 2 ** config.stages
        # Built in forward order: the seeded initialisation draws in construction order.
        layers: list[nn.Module] = [
            nn.Linear(config.z_dim, config.hidden),
            nn.ReLU(),
            nn.Linear(config.hidden, widths[-1] * (h // shrink) * (w // shrink)),
            nn.ReLU(),
            nn.Unflatten(1, (widths[-1], h // shrink, w // shrink)),
        ]
        for before, after in zip(widths[::-1], [*widths[-2::-1], c], strict=True):
            layers += [nn.ConvTranspose2d(before, after, 4, stride=2, padding=1), nn.ReLU()]
        self.net = nn.Sequential(*layers[:-1])  # no ReLU after the last: it emits logits

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
        """Return (mean, stddev): by default the first z_dim outputs, and exp of the second z_dim (log σ)."""
        mean, _, std = mean_and_stddev(self.encoder_output(x), self.config)
        return mean, std

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
    the trainer seeds the shuffles and the noise of each epoch itself.

    A logstd-first model gets the mean-first model's weights with the last layer's two halves of
    rows swapped: it computes the very same function, so the two layouts train to the same curves."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = VAE(config)
    if config.layout == "logstd-first":
        last = model.encoder.net[-1]
        assert isinstance(last, nn.Linear)
        with torch.no_grad():
            for param in (last.weight, last.bias):
                param.copy_(torch.cat([param[config.z_dim :], param[: config.z_dim]]))
    return model


def empty_model(config: ModelConfig) -> VAE:
    """A CPU VAE with uninitialised weights, for loading a state into.

    Building on the meta device skips random initialisation, so this never draws from torch's
    global random generator: the trainer seeds and checkpoints that state, and a model built in
    another thread mid-run (the GUI's copy, a loaded checkpoint) would otherwise change the run.
    """
    with torch.device("meta"):
        model = VAE(config)
    return model.to_empty(device="cpu").eval().requires_grad_(False)
