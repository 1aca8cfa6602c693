"""Sampling images from the decoder's distribution p(x|z) instead of showing its mean.

The decoder outputs, per pixel, the probability of a Bernoulli variable (the model the default loss
trains). A sample keeps each pixel on with that probability. The noise comes from its own seeded
`torch.Generator` and never from torch's global random state, which the trainer seeds and
checkpoints for reproducible runs. Fixed noise per "resample" keeps a dragged sample coherent: it
changes with z, not at random on every mouse move.
"""

from __future__ import annotations

import numpy as np
import torch


def uniform_noise(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Uniform [0, 1) noise of `shape` from a private generator seeded with `seed`."""
    generator = torch.Generator().manual_seed(int(seed))
    return torch.rand(shape, generator=generator, dtype=torch.float32).numpy()


def sample_pixels(means: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """Bernoulli samples of (…, H, W[, C]) pixel means, one image after another sharing one noise image."""
    return (np.asarray(noise, dtype=np.float32) < np.asarray(means, dtype=np.float32)).astype(np.float32)
