"""An honest likelihood: the importance-weighted bound on log p(x) (Burda, Grosse & Salakhutdinov 2015).

With K samples z_k ~ q(z|x) and weights w_k = p(x|z_k) p(z_k) / q(z_k|x),

    log p(x) >= L_K = log (1/K) sum_k w_k,   L_1 <= L_K <= L_{K+1} -> log p(x) as K grows.

L_1 is the ELBO with its KL estimated from the one sample (its expectation is exactly the ELBO with
the closed-form KL that `evaluate_model` reports). The log-mean-exp is taken in float64 over chunks
of samples, so memory stays bounded whatever K is: only the time grows, linearly in K.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

import numpy as np
import torch
from torch.distributions import Normal

from vae_desktop.core.config import FIELDS
from vae_desktop.core.datasets.base import to_float
from vae_desktop.core.errors import ConfigError
from vae_desktop.core.losses import reconstruction_nats
from vae_desktop.core.model import VAE

MAX_IMPORTANCE_SAMPLES = int(FIELDS["importance_samples"].high)
# Decoded samples held at once are bounded by this many output values (x ~16 for the decoder's
# activations): 2**25 floats is 128 MiB of outputs, ~2,700 Fashion-MNIST samples per chunk.
CHUNK_VALUES = 2**25
_ACTIVATION_FACTOR = 16


def check_importance_samples(value: object) -> int:
    """K as typed ('100') or given (an int): a whole number from 1 to MAX_IMPORTANCE_SAMPLES, else ConfigError."""
    spec = FIELDS["importance_samples"]
    if isinstance(value, str):
        return int(spec.parse(value))
    spec.check(value)
    return int(value)  # type: ignore[call-overload]


@dataclass(frozen=True)
class LikelihoodBound:
    """L_K per image (nats, <= log p(x)); `negative` is the number to compare with the negative ELBO."""

    samples: int  # K
    per_image: np.ndarray  # (N,) float64, L_K of each image
    seconds: float

    @property
    def mean(self) -> float:
        return float(self.per_image.mean()) if len(self.per_image) else math.nan

    @property
    def negative(self) -> float:
        """-L_K: an upper bound on -log p(x) in nats per image, at most the negative ELBO (in expectation)."""
        return -self.mean


def samples_per_chunk(image_shape: tuple[int, int, int]) -> int:
    """How many (image, sample) pairs one decoder call may take."""
    c, h, w = image_shape
    return max(1, CHUNK_VALUES // (c * h * w * _ACTIVATION_FACTOR))


@torch.no_grad()
def importance_weighted_bound(
    model: VAE,
    images: torch.Tensor,
    samples: int,
    recon_loss: str = "bernoulli",
    seed: int = 0,
    stop: threading.Event | None = None,
    eps: torch.Tensor | None = None,
) -> LikelihoodBound | None:
    """L_K for each uint8 image in `images`, the noise from a generator seeded with `seed`.

    `eps` (N, K, z_dim), for tests, replaces the drawn noise. Returns None when `stop` is set midway.
    """
    samples = check_importance_samples(samples)
    started = time.perf_counter()
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    gen = torch.Generator(device=device).manual_seed(seed)
    chunk = samples_per_chunk(model.config.image_shape)
    per_batch = max(1, chunk // samples)  # images encoded together
    sample_chunk = min(samples, chunk)  # samples of those images decoded together
    z_dim = model.z_dim
    if eps is not None and tuple(eps.shape) != (len(images), samples, z_dim):
        raise ConfigError(f"eps must have shape ({len(images)}, {samples}, {z_dim}), got {tuple(eps.shape)}")
    bounds = []
    try:
        for start in range(0, len(images), per_batch):
            if stop is not None and stop.is_set():
                return None
            x = to_float(images[start : start + per_batch].to(device))
            posterior = model.posterior(x)
            prior = Normal(torch.zeros_like(posterior.loc), torch.ones_like(posterior.loc))
            total = torch.full((len(x),), -math.inf, dtype=torch.float64, device=device)
            for first in range(0, samples, sample_chunk):
                k = min(sample_chunk, samples - first)
                if eps is None:
                    noise = torch.randn((k, len(x), z_dim), generator=gen, device=device)
                else:
                    noise = eps[start : start + len(x), first : first + k].transpose(0, 1).to(device)
                z = posterior.loc + posterior.scale * noise  # (k, images, z_dim)
                logits = model.decode_logits(z.reshape(k * len(x), z_dim))
                recon = reconstruction_nats(logits, x.repeat(k, 1, 1, 1), recon_loss).reshape(k, len(x))
                log_w = -recon + (prior.log_prob(z) - posterior.log_prob(z)).sum(-1)
                total = torch.logaddexp(total, torch.logsumexp(log_w.double(), 0))
            bounds.append((total - math.log(samples)).cpu())
    finally:
        model.train(was_training)
    per_image = torch.cat(bounds).numpy() if bounds else np.zeros(0)
    return LikelihoodBound(samples, per_image, time.perf_counter() - started)
