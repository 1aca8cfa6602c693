"""Loss terms, each per image in nats: reconstruction -log p(x|z) and KL(q(z|x) || N(0, I)).

The KL is computed by torch.distributions from the posterior's mean and *stddev*, so it is exact
for our log-stddev encoder (no hand-written 0.5*logvar formula to get wrong).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch.distributions import Normal, kl_divergence

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


class LossTerms(NamedTuple):
    """Per-batch means over images. `objective` is what gets minimised: recon + beta * kl."""

    recon: torch.Tensor
    kl: torch.Tensor
    objective: torch.Tensor

    @property
    def negative_elbo(self) -> torch.Tensor:
        return self.recon + self.kl


def reconstruction_nats(logits: torch.Tensor, x: torch.Tensor, kind: str = "bernoulli") -> torch.Tensor:
    """-log p(x|z) summed over pixels, one value per image.

    bernoulli: binary cross-entropy of the decoder's logits (data in [0, 1]).
    gaussian: unit-variance Gaussian on the decoded pixel values (0.5*squared error + constant).
    """
    if kind == "bernoulli":
        per_pixel = F.binary_cross_entropy_with_logits(logits, x, reduction="none")
    elif kind == "gaussian":
        per_pixel = 0.5 * (torch.sigmoid(logits) - x) ** 2 + _HALF_LOG_2PI
    else:
        raise ValueError(f"unknown reconstruction loss {kind!r}")
    return per_pixel.flatten(1).sum(1)


def kl_per_dimension(posterior: Normal) -> torch.Tensor:
    """KL(q(z_d|x) || N(0, 1)) for every latent dimension: shape (batch, z_dim), in nats."""
    prior = Normal(torch.zeros_like(posterior.loc), torch.ones_like(posterior.scale))
    return kl_divergence(posterior, prior)


def kl_nats(posterior: Normal) -> torch.Tensor:
    """KL(q(z|x) || N(0, I)) per image: the per-dimension KLs summed."""
    return kl_per_dimension(posterior).sum(1)


def vae_loss(
    logits: torch.Tensor,
    x: torch.Tensor,
    posterior: Normal,
    beta: float = 1.0,
    kind: str = "bernoulli",
    free_bits: float = 0.0,
) -> LossTerms:
    """Mean over the batch of reconstruction and KL; the objective weights the KL by beta.

    Free bits (Kingma et al. 2016, "Improving Variational Inference with Inverse Autoregressive
    Flow", eq. 15, one group per latent dimension): the KL of each dimension is first averaged over
    the batch, and that batch mean is clamped below at `free_bits` nats in the objective,
    sum_d max(free_bits, mean_x KL_d). A dimension below λ then feels no pull toward the prior,
    so the encoder has no reason to switch it off. `kl` stays the true, unclamped KL: the metrics
    always report the real ELBO.
    """
    recon = reconstruction_nats(logits, x, kind).mean()
    per_dim = kl_per_dimension(posterior)
    kl = per_dim.sum(1).mean()
    kl_term = per_dim.mean(0).clamp(min=free_bits).sum() if free_bits > 0 else kl
    return LossTerms(recon, kl, recon + beta * kl_term)


def warmup_beta(beta: float, steps_done: int, warmup_steps: int) -> float:
    """The KL weight of the next step under KL warm-up: linear from 0 (the first step) to `beta`,
    which it reaches after `warmup_steps` steps and keeps (Bowman et al. 2016; Sønderby et al. 2016).

    0 warm-up steps: always `beta`."""
    if warmup_steps <= 0:
        return beta
    return beta * min(1.0, steps_done / warmup_steps)
