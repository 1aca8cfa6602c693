"""The numbers the encoder inspector shows: how 2*z_dim raw outputs become a mean, a stddev and a sample.

For one image: the raw encoder output (in the order the network emits it), its split into mean and
log-stddev, stddev = exp(log-stddev), a sample z = mean + stddev * eps, the decoded mean and sample,
each dimension's KL to N(0, 1) and the image's reconstruction loss. For a set of images: which
latent dimensions carry information at all (mean KL above a small threshold, and the usual
active-units measure), and whether an image is like the data the model learned (its loss against
the test images'). Everything here is Qt-free so it can be tested without a display.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.distributions import Normal

from vae_desktop.core.datasets.base import to_float
from vae_desktop.core.errors import VaeDesktopError
from vae_desktop.core.inference import images_to_display
from vae_desktop.core.losses import kl_per_dimension, reconstruction_nats
from vae_desktop.core.metrics import EpochMetrics
from vae_desktop.core.model import VAE, mean_and_stddev

# Mean KL (nats) below which a latent dimension counts as unused: its posterior is (nearly) the prior
# for every image, so the decoder learns to ignore it ("posterior collapse"). Collapsed dimensions of
# models trained on the built-in shapes sit at 0.005-0.03 nats (a little sampling noise never quite
# dies out) while used ones carry 0.5 nats or more, so 0.01 would split the collapsed ones at random.
INACTIVE_KL_NATS = 0.05
# The usual "active units" measure (Burda, Grosse & Salakhutdinov 2015, "Importance Weighted
# Autoencoders", section 5.2): dimension d is active when Var_x(E_q(z|x)[z_d]) > 0.01, i.e. when its
# posterior mean moves from image to image. It looks at the mean only; the KL rule above also counts
# a posterior that is narrower than the prior.
ACTIVE_UNIT_VARIANCE = 0.01


def count_active_units(mean_variance: np.ndarray, threshold: float = ACTIVE_UNIT_VARIANCE) -> int:
    """How many dimensions are active units: Var over the images of the posterior mean > `threshold`.

    The one rule for it: the inspector's `DimensionActivity` and the trainer's test pass use it."""
    return int((np.asarray(mean_variance) > threshold).sum())


class ImageShapeError(VaeDesktopError):
    """An image to inspect does not have the shape the model was built for."""


class EpsilonSource:
    """Draws eps ~ N(0, I) from its own generator.

    The trainer seeds the global torch RNG for reproducible runs; drawing here must never move it.
    """

    def __init__(self, seed: int = 0) -> None:
        self._generator = torch.Generator().manual_seed(seed)

    def draw(self, z_dim: int) -> np.ndarray:
        return torch.randn(z_dim, generator=self._generator).numpy()


@dataclass(frozen=True)
class ImageInspection:
    """Every intermediate value for one image, as float numpy arrays (one entry per dimension)."""

    raw: np.ndarray  # (2*z_dim,) encoder output, emission order (mean half first unless logstd-first)
    mean: np.ndarray  # (z_dim,) raw[:z_dim] (raw[z_dim:] for the logstd-first layout)
    log_std: np.ndarray  # (z_dim,) the other half: log σ for the exp stddev (see ModelConfig.stddev)
    std: np.ndarray  # (z_dim,) exp(log_std) (> 0), or softplus / the raw value by ModelConfig.stddev
    eps: np.ndarray  # (z_dim,) the noise drawn for this sample
    z: np.ndarray  # (z_dim,) mean + std * eps
    kl_per_dim: np.ndarray  # (z_dim,) KL(N(mean_d, std_d) || N(0, 1)) in nats
    recon_of_sample: float  # -log p(x | z) in nats: the reconstruction term the loss sees
    recon_of_mean: float  # -log p(x | mean): the same with the noise switched off
    recon_loss: str  # "bernoulli" or "gaussian"
    image: np.ndarray  # the input, (H, W) or (H, W, C) floats in [0, 1]
    decoded_mean: np.ndarray  # decode(mean), same layout as image
    decoded_sample: np.ndarray  # decode(z)

    @property
    def z_dim(self) -> int:
        return len(self.mean)

    @property
    def kl(self) -> float:
        """KL(q(z|x) || N(0, I)) for this image: the per-dimension KLs summed."""
        return float(self.kl_per_dim.astype(np.float64).sum())

    @property
    def negative_elbo(self) -> float:
        """Reconstruction plus KL: this image's loss (with beta = 1) for the shown sample."""
        return self.recon_of_sample + self.kl


def check_image(model: VAE, image_uint8_chw: np.ndarray | torch.Tensor) -> torch.Tensor:
    """The image as a uint8 (C, H, W) tensor, or ImageShapeError saying what the model expects."""
    tensor = torch.as_tensor(np.asarray(image_uint8_chw))
    expected = tuple(model.config.image_shape)
    if tensor.dtype != torch.uint8:
        raise ImageShapeError(f"Images to inspect must be 8-bit (uint8) pixels, not {tensor.dtype}.")
    if tuple(tensor.shape) != expected:
        c, h, w = expected
        raise ImageShapeError(
            f"This model expects {c}-channel {h}x{w} images (shape {expected}); the image has shape "
            f"{tuple(tensor.shape)}."
        )
    return tensor


@torch.no_grad()
def inspect_image(
    model: VAE, image_uint8_chw: np.ndarray | torch.Tensor, eps: np.ndarray, recon_loss: str = "bernoulli"
) -> ImageInspection:
    """Run one image through the encoder, the reparameterisation and the decoder, keeping every step.

    The sample uses the given `eps` so the caller decides when the noise changes (the inspector
    keeps it while weights update and redraws it on "Draw again").
    """
    x = to_float(check_image(model, image_uint8_chw).unsqueeze(0))
    eps_array = np.asarray(eps, dtype=np.float32)
    if eps_array.shape != (model.z_dim,):
        raise ValueError(f"eps must have shape ({model.z_dim},), got {eps_array.shape}")
    was_training = model.training
    model.eval()
    try:
        device = next(model.parameters()).device
        x = x.to(device)
        raw = model.encoder_output(x)
        mean, log_std, std = mean_and_stddev(raw, model.config)
        eps_tensor = torch.from_numpy(eps_array).to(device).unsqueeze(0)
        z = mean + std * eps_tensor
        kl = kl_per_dimension(Normal(mean, std, validate_args=False))
        logits_sample = model.decode_logits(z)
        logits_mean = model.decode_logits(mean)
        recon_sample = reconstruction_nats(logits_sample, x, recon_loss)
        recon_mean = reconstruction_nats(logits_mean, x, recon_loss)
    finally:
        model.train(was_training)

    def row(t: torch.Tensor) -> np.ndarray:
        return t[0].detach().cpu().float().numpy()

    return ImageInspection(
        raw=row(raw),
        mean=row(mean),
        log_std=row(log_std),
        std=row(std),
        eps=eps_array.copy(),
        z=row(z),
        kl_per_dim=row(kl),
        recon_of_sample=float(recon_sample[0]),
        recon_of_mean=float(recon_mean[0]),
        recon_loss=recon_loss,
        image=images_to_display(x)[0],
        decoded_mean=images_to_display(torch.sigmoid(logits_mean))[0],
        decoded_sample=images_to_display(torch.sigmoid(logits_sample))[0],
    )


@dataclass(frozen=True)
class DimensionActivity:
    """Which latent dimensions are in use over a set of images, by two measures.

    The KL rule: a dimension is *inactive* when its KL to the prior, averaged over the images, is
    below `threshold` nats: on average its posterior is nearly N(0, 1), so it tells the decoder
    almost nothing (one image may still differ from the prior a little). The active-units measure
    (Burda et al. 2015): a dimension is an *active unit* when the variance over the images of its
    posterior mean exceeds `unit_threshold`.
    """

    kl_per_dim: np.ndarray  # (z_dim,) mean over images, nats
    threshold: float
    num_images: int
    mean_variance: np.ndarray | None = None  # (z_dim,) variance over the images of the posterior mean
    unit_threshold: float = ACTIVE_UNIT_VARIANCE

    @property
    def inactive(self) -> np.ndarray:
        """Boolean mask: True where the mean KL is below the threshold (the KL rule)."""
        return self.kl_per_dim < self.threshold

    @property
    def inactive_count(self) -> int:
        return int(self.inactive.sum())

    @property
    def active_count(self) -> int:
        return len(self.kl_per_dim) - self.inactive_count

    @property
    def active_units(self) -> np.ndarray | None:
        """Boolean mask: True where Var(posterior mean) > unit_threshold; None when not measured."""
        return None if self.mean_variance is None else self.mean_variance > self.unit_threshold

    @property
    def active_unit_count(self) -> int | None:
        if self.mean_variance is None:
            return None
        return count_active_units(self.mean_variance, self.unit_threshold)


def activity_from_kl(
    kl_per_dim: np.ndarray | tuple[float, ...], threshold: float = INACTIVE_KL_NATS, num_images: int = 0
) -> DimensionActivity:
    """Wrap an already-averaged per-dimension KL (e.g. `EpochMetrics.kl_per_dim`)."""
    return DimensionActivity(np.asarray(kl_per_dim, dtype=np.float64), float(threshold), int(num_images))


@torch.no_grad()
def dimension_activity(
    model: VAE,
    images: torch.Tensor,
    threshold: float = INACTIVE_KL_NATS,
    max_images: int | None = None,
    batch: int = 500,
) -> DimensionActivity:
    """Mean KL and variance of the posterior mean of each dimension over uint8 `images` (the first
    `max_images` of them).

    Only the encoder runs (neither needs a sample), so this is cheap enough to repeat while training.
    """
    if max_images is not None:
        images = images[:max_images]
    was_training = model.training
    model.eval()
    sums = torch.zeros(model.z_dim, dtype=torch.float64)
    means = []
    try:
        device = next(model.parameters()).device
        for start in range(0, len(images), batch):
            mean, std = model.encode(to_float(images[start : start + batch].to(device)))
            sums += kl_per_dimension(Normal(mean, std, validate_args=False)).sum(0).double().cpu()
            means.append(mean.double().cpu())
    finally:
        model.train(was_training)
    count = len(images)
    per_dim = (sums / max(count, 1)).numpy()
    variance = torch.cat(means).var(0, unbiased=False).numpy() if count else np.zeros(model.z_dim)
    return DimensionActivity(per_dim, float(threshold), count, variance)


@torch.no_grad()
def negative_elbo_per_image(
    model: VAE, images: torch.Tensor | np.ndarray, recon_loss: str = "bernoulli", batch: int = 250
) -> np.ndarray:
    """Each uint8 image's loss with the noise off: -log p(x | decode(mean)) + KL(q(z|x) || N(0, I)), nats.

    Deterministic (the posterior mean is decoded, not a sample), so the same image always gets the
    same number and images can be compared with each other.
    """
    images = torch.as_tensor(np.asarray(images)) if isinstance(images, np.ndarray) else images
    was_training = model.training
    model.eval()
    values = []
    try:
        device = next(model.parameters()).device
        for start in range(0, len(images), batch):
            x = to_float(images[start : start + batch].to(device))
            mean, std = model.encode(x)
            recon = reconstruction_nats(model.decode_logits(mean), x, recon_loss)
            values.append((recon + kl_per_dimension(Normal(mean, std, validate_args=False)).sum(1)).double().cpu())
    finally:
        model.train(was_training)
    return torch.cat(values).numpy() if values else np.zeros(0)


OFF_DATA_SPREAD = 2.0  # "far outside": beyond the median by more than twice the median-to-99th-percentile gap


@dataclass(frozen=True)
class Typicality:
    """How one image's loss compares with the losses of the test images: is it like the training data?

    A VAE gives images like its training data a low negative ELBO; an image far above the test
    set's range is one the model has not learned to encode (e.g. a white background where the data
    is black), so its position on the map and its reconstruction say little.
    """

    value: float  # the image's negative ELBO, nats (noise off)
    median: float  # of the reference images
    high: float  # the reference images' 99th percentile
    highest: float  # the reference images' largest value
    count: int  # reference images

    @property
    def limit(self) -> float:
        """Above this the image counts as off the data."""
        return self.median + OFF_DATA_SPREAD * (self.high - self.median)

    @property
    def off_data(self) -> bool:
        return self.count > 0 and self.value > self.limit


def reference_losses(model: VAE, images: torch.Tensor, recon_loss: str = "bernoulli", max_images: int = 500) -> np.ndarray:
    """Negative ELBOs of (the first `max_images` of) the test images: the yardstick for `typicality`."""
    return negative_elbo_per_image(model, images[:max_images], recon_loss)


def typicality(
    model: VAE, image_uint8_chw: np.ndarray | torch.Tensor, reference: np.ndarray, recon_loss: str = "bernoulli"
) -> Typicality:
    """Where the image's negative ELBO lies among the `reference` values (from `reference_losses`)."""
    value = float(negative_elbo_per_image(model, check_image(model, image_uint8_chw).unsqueeze(0), recon_loss)[0])
    reference = np.asarray(reference, dtype=np.float64)
    if not len(reference):
        return Typicality(value, float("nan"), float("nan"), float("nan"), 0)
    median, high = np.quantile(reference, [0.5, 0.99])
    return Typicality(value, float(median), float(high), float(reference.max()), len(reference))


class KlHistory:
    """Per-dimension test KL for each finished epoch: the rows of the epoch x dimension heat map.

    A new epoch replaces any row with the same or a later epoch number, exactly as the training
    history does, so a new run (epoch 1 again) or a rolled-back one starts its rows afresh.
    Epochs without per-dimension numbers (or with a different z_dim) are skipped.
    """

    def __init__(self) -> None:
        self._epochs: list[int] = []
        self._rows: list[np.ndarray] = []

    def __len__(self) -> int:
        return len(self._rows)

    @property
    def z_dim(self) -> int | None:
        return len(self._rows[0]) if self._rows else None

    @property
    def epochs(self) -> list[int]:
        return list(self._epochs)

    def clear(self) -> None:
        self._epochs.clear()
        self._rows.clear()

    def add(self, metrics: EpochMetrics) -> bool:
        """Add one epoch; returns False when it has no per-dimension KL to show."""
        row = np.asarray(metrics.kl_per_dim, dtype=np.float64)
        if row.size == 0:
            return False
        keep = [i for i, e in enumerate(self._epochs) if e < metrics.epoch]
        self._epochs = [self._epochs[i] for i in keep]
        self._rows = [self._rows[i] for i in keep]
        if self._rows and len(self._rows[0]) != row.size:
            self.clear()  # a different architecture: the old rows no longer line up
        self._epochs.append(int(metrics.epoch))
        self._rows.append(row)
        return True

    def replace(self, epochs: list[EpochMetrics]) -> None:
        self.clear()
        for metrics in sorted(epochs, key=lambda m: m.epoch):
            self.add(metrics)

    def matrix(self) -> np.ndarray:
        """(epochs, z_dim) array of nats; (0, 0) when empty."""
        if not self._rows:
            return np.zeros((0, 0))
        return np.stack(self._rows)

    def latest_activity(self, threshold: float = INACTIVE_KL_NATS) -> DimensionActivity | None:
        return activity_from_kl(self._rows[-1], threshold) if self._rows else None
