"""Small, fast fixtures for core tests."""

from __future__ import annotations

import pytest
import torch

from vae_desktop.core.config import ModelConfig, TrainConfig
from vae_desktop.core.datasets.base import ImageDataset
from vae_desktop.core.datasets.shapes import load_shapes
from vae_desktop.core.model import VAE


@pytest.fixture(scope="session")
def small_shapes() -> ImageDataset:
    """2,000 train / 500 test images of the real built-in dataset."""
    return load_shapes(num_train=2000, num_test=500)


@pytest.fixture
def tiny_model() -> VAE:
    torch.manual_seed(0)
    return VAE(ModelConfig(z_dim=4, base_width=8, hidden=64))


@pytest.fixture
def fast_config() -> TrainConfig:
    return TrainConfig(epochs=2, batch_size=100, lr=2e-3, seed=1, device="cpu")
