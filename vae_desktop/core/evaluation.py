"""Test-set evaluation: the mean reconstruction and KL per image (nats), the KL per latent dimension
and the active units, with sampling noise from a fixed generator so curves are comparable.

Apart from the training loop because `vae-desktop evaluate`, the experiments and the distributed
trainer (which adds up each process's share, `evaluation_sums`) use it without a Trainer.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import torch

from vae_desktop.core.datasets.base import to_float
from vae_desktop.core.inspection import count_active_units
from vae_desktop.core.losses import kl_per_dimension, reconstruction_nats
from vae_desktop.core.model import VAE

EVAL_BATCH = 1000


@dataclass(frozen=True)
class Evaluation:
    """Test-set means per image in nats; kl_per_dim (z_dim,) sums to kl; active_units counts the
    dimensions whose posterior mean varies over the images by more than 0.01 (Burda et al. 2015)."""

    recon: float
    kl: float
    kl_per_dim: np.ndarray
    active_units: int = 0

    @property
    def negative_elbo(self) -> float:
        return self.recon + self.kl


@torch.no_grad()
def evaluate_model(
    model: VAE,
    images: torch.Tensor,
    recon_loss: str = "bernoulli",
    seed: int = 0,
    stop: threading.Event | None = None,
) -> Evaluation | None:
    """Mean recon and KL per image (nats) over uint8 `images`, with z = mean + stddev * eps.

    This is exactly `Normal(mean, stddev).rsample()`, with eps from a seeded generator so the
    estimate does not depend on (or disturb) the global random state.
    """
    sums = evaluation_sums(model, images, recon_loss, seed, stop)
    if sums is None:
        return None
    return evaluation_from_sums(sums, len(images))


@torch.no_grad()
def evaluation_sums(
    model: VAE,
    images: torch.Tensor,
    recon_loss: str = "bernoulli",
    seed: int = 0,
    stop: threading.Event | None = None,
    part: tuple[int, int] = (0, 1),
) -> torch.Tensor | None:
    """Summed recon, per-dimension KL, posterior means and their squares (float64, shape (1 + 3 z_dim,))
    over part (index, count) of `images`.

    Part i of n takes the i-th of n near-equal slices of every EVAL_BATCH chunk, and every part draws
    the whole chunk's noise, so the parts' sums add up to the one-process sums (each image exactly once,
    with the noise one process gives it) whatever n is. None when `stop` is set during the pass."""
    index, count = part
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    gen = torch.Generator(device=device).manual_seed(seed)
    recon_sum = 0.0
    kl_sums = torch.zeros(model.config.z_dim, dtype=torch.float64)
    mean_sums = torch.zeros(model.config.z_dim, dtype=torch.float64)
    mean_squares = torch.zeros(model.config.z_dim, dtype=torch.float64)
    try:
        for start in range(0, len(images), EVAL_BATCH):
            if stop is not None and stop.is_set():
                return None
            chunk = images[start : start + EVAL_BATCH]
            eps = torch.randn((len(chunk), model.config.z_dim), generator=gen, device=device)
            rows = slice(index * len(chunk) // count, (index + 1) * len(chunk) // count)
            x = to_float(chunk[rows].to(device))
            posterior = model.posterior(x)
            z = posterior.loc + posterior.scale * eps[rows]
            recon_sum += reconstruction_nats(model.decode_logits(z), x, recon_loss).sum().item()
            kl_sums += kl_per_dimension(posterior).sum(0).double().cpu()
            loc = posterior.loc.double().cpu()
            mean_sums += loc.sum(0)
            mean_squares += (loc**2).sum(0)
    finally:
        model.train(was_training)
    return torch.cat([torch.tensor([recon_sum], dtype=torch.float64), kl_sums, mean_sums, mean_squares])


def evaluation_from_sums(sums: torch.Tensor, images: int) -> Evaluation:
    """Means per image from `evaluation_sums` (added up over every part) of `images` images; the posterior
    means' variance over the images (for the active units) from their sums and sums of squares."""
    count = max(images, 1)
    z_dim = (len(sums) - 1) // 3
    per_dim = (sums[1 : 1 + z_dim] / count).numpy()
    mean = sums[1 + z_dim : 1 + 2 * z_dim] / count
    variance = (sums[1 + 2 * z_dim :] / count - mean**2).clamp(min=0).numpy()
    return Evaluation(float(sums[0]) / count, float(per_dim.sum()), per_dim, count_active_units(variance))
