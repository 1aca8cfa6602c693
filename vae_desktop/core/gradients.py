"""Where the gradients go: what each half of the encoder's output receives from the loss.

The answer to "how does the network learn that the first half is the mean?": for latent dimension d
the loss rec + β·KL sends the mean output μ_d

    ∂rec/∂z_d               (z = μ + σ·ε moves one-for-one with μ)        + β·μ_d
and the spread output s_d (log σ_d for the exp stddev)
    ∂rec/∂z_d · ε_d · σ'(s_d)  (it only scales the noise)                  + β·(σ_d − 1/σ_d)·σ'(s_d)

where σ'(s) = dσ/ds is σ for exp, which makes the KL part β·(σ_d² − 1), a pull back toward σ = 1;
sigmoid(s) for softplus; 1 for raw. The KL parts are these closed forms of
KL(N(μ, σ) || N(0, 1)) = ½(μ² + σ²) − log σ − ½; the reconstruction parts come from one autograd
pass to z. tests/core/test_gradients.py checks the sum against autograd of the whole loss.

The loss here is each image's own rec + β·KL with the unclamped KL: free bits (a clamp on the batch
mean) and the warm-up's smaller β are not applied; pass the β of interest. The batch mean of the
per-image gradients is the gradient of the batch-mean loss the trainer minimises (without free bits).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch

from vae_desktop.core.config import ModelConfig
from vae_desktop.core.datasets.base import to_float
from vae_desktop.core.losses import reconstruction_nats
from vae_desktop.core.model import VAE, mean_and_stddev, stddev_derivative
from vae_desktop.core.private_model import PrivateModel


@dataclass(frozen=True)
class GradientParts:
    """∂loss/∂output split by output role and loss term; arrays of shape (images, z_dim) or (z_dim,)."""

    mean_recon: np.ndarray
    mean_kl: np.ndarray
    spread_recon: np.ndarray  # the spread output: log σ for the exp stddev
    spread_kl: np.ndarray

    @property
    def mean_total(self) -> np.ndarray:
        return self.mean_recon + self.mean_kl

    @property
    def spread_total(self) -> np.ndarray:
        return self.spread_recon + self.spread_kl


@dataclass(frozen=True)
class OutputGradients:
    """The gradients for a batch: per image, their mean over the batch, and which encoder output is which."""

    per_image: GradientParts  # (images, z_dim) arrays
    batch_mean: GradientParts  # (z_dim,) arrays
    mean_outputs: np.ndarray  # (z_dim,) index into the 2*z_dim encoder outputs of μ_d
    spread_outputs: np.ndarray  # (z_dim,) index of the spread output of dimension d
    eps: np.ndarray  # (images, z_dim) the noise of z = μ + σ·ε
    beta: float
    mean: np.ndarray | None = None  # (images, z_dim) the posterior means μ the gradients were taken at
    std: np.ndarray | None = None  # (images, z_dim) and their σ

    def as_outputs(self, parts: GradientParts | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(recon, kl) gradients laid out like the encoder's output, (…, 2*z_dim), in emission order."""
        parts = parts or self.per_image
        z_dim = len(self.mean_outputs)
        shape = parts.mean_recon.shape[:-1] + (2 * z_dim,)
        recon, kl = np.zeros(shape), np.zeros(shape)
        recon[..., self.mean_outputs], recon[..., self.spread_outputs] = parts.mean_recon, parts.spread_recon
        kl[..., self.mean_outputs], kl[..., self.spread_outputs] = parts.mean_kl, parts.spread_kl
        return recon, kl


def output_indices(z_dim: int, layout: str) -> tuple[np.ndarray, np.ndarray]:
    """(indices of μ, indices of the spread outputs) among the 2*z_dim outputs."""
    first, second = np.arange(z_dim), np.arange(z_dim, 2 * z_dim)
    return (first, second) if layout == "mean-first" else (second, first)


def output_gradients(
    model: VAE,
    images: torch.Tensor | np.ndarray,
    eps: np.ndarray | None = None,
    beta: float = 1.0,
    recon_loss: str = "bernoulli",
    seed: int = 0,
) -> OutputGradients:
    """The gradients of each image's loss rec + β·KL with respect to its encoder outputs (see the module).

    `images`: uint8 (N, C, H, W). `eps`: (N, z_dim) noise, or None to draw it from a generator seeded
    with `seed` (never the global one). The model runs in eval mode; its parameters get no gradients.
    """
    x = to_float(torch.as_tensor(np.asarray(images)))
    z_dim = model.z_dim
    if eps is None:
        noise = torch.randn((len(x), z_dim), generator=torch.Generator().manual_seed(seed))
    else:
        noise = torch.as_tensor(np.asarray(eps, dtype=np.float32))
        if tuple(noise.shape) != (len(x), z_dim):
            raise ValueError(f"eps must have shape ({len(x)}, {z_dim}), got {tuple(noise.shape)}")
    was_training = model.training
    model.eval()
    try:
        device = next(model.parameters()).device
        x, noise = x.to(device), noise.to(device)
        with torch.no_grad():
            raw = model.encoder_output(x)
            mean, spread, std = mean_and_stddev(raw, model.config)
            slope = stddev_derivative(spread, model.config.stddev)
        with torch.enable_grad():
            z = (mean + std * noise).requires_grad_(True)
            recon = reconstruction_nats(model.decode_logits(z), x, recon_loss)
            # Each image's reconstruction depends on its own z only, so one backward pass of the sum
            # gives every image's ∂rec_i/∂z_i.
            (dz,) = torch.autograd.grad(recon.sum(), z)
    finally:
        model.train(was_training)
    per_image = GradientParts(
        mean_recon=_numpy(dz),
        mean_kl=_numpy(beta * mean),
        spread_recon=_numpy(dz * noise * slope),
        spread_kl=_numpy(beta * (std - 1.0 / std) * slope),
    )
    batch_mean = GradientParts(*(getattr(per_image, name).mean(0) for name in
                                 ("mean_recon", "mean_kl", "spread_recon", "spread_kl")))
    mean_idx, spread_idx = output_indices(z_dim, model.config.layout)
    return OutputGradients(per_image, batch_mean, mean_idx, spread_idx, _numpy(noise), float(beta),
                           _numpy(mean), _numpy(std))


def _numpy(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().double().cpu().numpy()


@dataclass(frozen=True)
class GradientJob:
    """What the inspector's gradient section asks for: one image with its ε, and a batch to average.

    `state` is a numpy snapshot of the weights at mirror version `version` (the job runs off the GUI
    thread on a private model, as the latent map's jobs do)."""

    version: int
    config: ModelConfig
    state: Mapping[str, np.ndarray]
    image: np.ndarray  # uint8 (C, H, W): the inspected image
    eps: np.ndarray  # (z_dim,): the inspector's noise for it, so ③ and this section show the same sample
    batch: np.ndarray  # uint8 (N, C, H, W): test images whose gradients are averaged
    beta: float = 1.0
    recon_loss: str = "bernoulli"
    seed: int = 0  # the batch's noise
    request: int = 0  # which image request this answers (a result for an image no longer shown is dropped)


@dataclass(frozen=True)
class GradientResult:
    """Per latent dimension, for the image and averaged over the batch, plus what the text quotes."""

    version: int
    image: GradientParts  # (z_dim,) arrays
    batch: GradientParts  # (z_dim,) arrays: mean over the batch's images
    batch_size: int
    mean: np.ndarray  # (z_dim,) the image's μ
    std: np.ndarray  # (z_dim,) the image's σ
    eps: np.ndarray  # (z_dim,) the image's ε
    batch_std: np.ndarray  # (z_dim,) σ averaged over the batch
    beta: float
    stddev: str  # the model's stddev function: the text names log σ only for exp
    layout: str  # which half is the mean ("mean-first" or "logstd-first")
    seconds: float
    request: int = 0


class GradientComputer:
    """Runs GradientJobs on a private model, reloading weights only when the job's version changes."""

    def __init__(self) -> None:
        self._model = PrivateModel()

    def run(self, job: GradientJob) -> GradientResult:
        started = time.perf_counter()
        model = self._model.get(job.config, job.state, job.version)
        one = output_gradients(model, job.image[None], eps=np.asarray(job.eps)[None], beta=job.beta,
                               recon_loss=job.recon_loss)
        many = output_gradients(model, job.batch, beta=job.beta, recon_loss=job.recon_loss, seed=job.seed)
        # μ and σ the gradients were taken at: the encoder ran once for them, in output_gradients.
        assert one.mean is not None and one.std is not None and many.std is not None
        image = GradientParts(*(getattr(one.per_image, name)[0] for name in _PARTS))
        return GradientResult(
            version=job.version, image=image, batch=many.batch_mean, batch_size=len(job.batch),
            mean=one.mean[0], std=one.std[0], eps=np.asarray(job.eps, dtype=np.float64),
            batch_std=many.std.mean(0) if len(job.batch) else one.std[0], beta=float(job.beta),
            stddev=model.config.stddev, layout=model.config.layout, seconds=time.perf_counter() - started,
            request=job.request,
        )


def latest_gradient_job(_pending: GradientJob | None, newer: GradientJob) -> GradientJob:
    """Coalescing rule for the worker: only the newest request matters (it holds everything)."""
    return newer


_PARTS = ("mean_recon", "mean_kl", "spread_recon", "spread_kl")
