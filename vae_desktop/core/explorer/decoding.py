"""How the explorer turns latent points into images: the mean image, or a Bernoulli sample of it.

The sample's noise is fixed until the user asks for new noise, so while training runs every change
in a sampled image comes from the weights, not from the dice. It comes from a private generator.
"""

from __future__ import annotations

import numpy as np

from vae_desktop.core.inference import decode_images
from vae_desktop.core.model import VAE
from vae_desktop.core.pixel_sampling import sample_pixels, uniform_noise


class Decoding:
    """The decode mode (mean or sample) and the noise a sampled image uses."""

    def __init__(self) -> None:
        self.sample = False
        self.noise_seed = 0
        self._noise: np.ndarray | None = None

    def resample(self) -> None:
        """New pixel noise (the global RNG is untouched)."""
        self.noise_seed += 1
        self._noise = None

    def forget_noise(self) -> None:
        """A new model may decode to another image shape: draw noise for it when first needed."""
        self._noise = None

    def decode(self, model: VAE, z: np.ndarray) -> np.ndarray:
        """(N, z_dim) latent points to (N, H, W) or (N, H, W, C) float images in [0, 1]."""
        images = decode_images(model, z)
        if self.sample:
            if self._noise is None or self._noise.shape != images.shape[1:]:
                self._noise = uniform_noise(images.shape[1:], self.noise_seed)
            images = sample_pixels(images, self._noise)
        return images
