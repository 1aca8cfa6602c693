"""Bigger images: one more encoder/decoder stage per doubling, 28/32 models unchanged, sizes in checkpoints."""

from __future__ import annotations

import pytest
import torch
from PIL import Image
from torch import nn

from vae_desktop.core.checkpoint import Checkpoint, load_checkpoint, save_payload
from vae_desktop.core.config import ModelConfig, TrainConfig
from vae_desktop.core.datasets.base import ImageDataset
from vae_desktop.core.datasets.folder import load_image_folder
from vae_desktop.core.datasets.resize import resized
from vae_desktop.core.errors import CheckpointError, ConfigError
from vae_desktop.core.model import VAE, new_model


def _todays_model(config: ModelConfig, seed: int) -> nn.Module:
    """The two-stage network every model was before image sizes, written out layer by layer."""
    c, h, w = config.image_shape
    width, hidden, z = config.base_width, config.hidden, config.z_dim
    flat = 2 * width * (h // 4) * (w // 4)
    torch.manual_seed(seed)
    model = nn.Module()
    model.encoder = nn.Module()
    model.encoder.net = nn.Sequential(
        nn.Conv2d(c, width, 4, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(width, 2 * width, 4, stride=2, padding=1), nn.ReLU(),
        nn.Flatten(), nn.Linear(flat, hidden), nn.ReLU(), nn.Linear(hidden, 2 * z))
    model.decoder = nn.Module()
    model.decoder.net = nn.Sequential(
        nn.Linear(z, hidden), nn.ReLU(), nn.Linear(hidden, flat), nn.ReLU(),
        nn.Unflatten(1, (2 * width, h // 4, w // 4)),
        nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1), nn.ReLU(),
        nn.ConvTranspose2d(width, c, 4, stride=2, padding=1))
    return model


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32)])
def test_28_and_32_pixel_models_are_bit_identical_to_before(shape):
    c, h, w = shape
    config = ModelConfig(z_dim=5, channels=c, height=h, width=w, base_width=8, hidden=48)
    ours, before = new_model(config, seed=11).state_dict(), _todays_model(config, seed=11).state_dict()
    assert list(ours) == list(before)
    for key, value in before.items():
        assert torch.equal(ours[key], value), key


@pytest.mark.parametrize(("size", "stages"), [(28, 2), (32, 2), (64, 3), (128, 4)])
@pytest.mark.parametrize("channels", [1, 3])
def test_each_doubling_adds_a_stage_and_the_shapes_fit(size, stages, channels):
    config = ModelConfig(z_dim=3, channels=channels, height=size, width=size, base_width=4, hidden=16)
    model = VAE(config)
    convs = [m for m in model.encoder.net if isinstance(m, nn.Conv2d)]
    deconvs = [m for m in model.decoder.net if isinstance(m, nn.ConvTranspose2d)]
    assert config.stages == len(convs) == len(deconvs) == stages
    assert [m.out_channels for m in convs] == [4, 8, 16, 32][:stages]
    x = torch.rand(2, channels, size, size)
    recon, _, z, logits = model(x)
    assert recon.shape == logits.shape == x.shape and z.shape == (2, 3)


def test_a_size_the_stages_cannot_halve_is_refused():
    with pytest.raises(ConfigError, match="multiple of 8"):
        ModelConfig(height=100, width=100)


def _checkpoint(image_size, size=28, channels=1) -> Checkpoint:
    config = ModelConfig(z_dim=2, channels=channels, height=size, width=size, base_width=4, hidden=16)
    model = new_model(config, seed=0)
    return Checkpoint(config, TrainConfig(), "folder:/x", {k: v.clone() for k, v in model.state_dict().items()},
                      image_size=image_size)


def test_image_size_round_trips_and_old_checkpoints_mean_the_native_size(tmp_path):
    path = tmp_path / "big.vaeckpt"
    save_payload(_checkpoint(64, 64, 3).to_payload(), path)
    loaded = load_checkpoint(path)
    assert loaded.image_size == 64 and loaded.model_config.image_shape == (3, 64, 64)

    old = _checkpoint(None).to_payload()
    del old["image_size"]  # what every checkpoint saved before image sizes holds
    save_payload(old, path)
    assert load_checkpoint(path).image_size is None


@pytest.mark.parametrize(("value", "size", "match"), [(65, 28, "image_size is not one of"),
                                                      ("64", 64, "image_size is not one of"),
                                                      (64, 28, "does not match its model's 28×28")])
def test_a_stored_image_size_that_cannot_be_right_is_refused(tmp_path, value, size, match):
    payload = _checkpoint(None, size).to_payload()
    payload["image_size"] = value
    save_payload(payload, tmp_path / "bad.vaeckpt")
    with pytest.raises(CheckpointError, match=match):
        load_checkpoint(tmp_path / "bad.vaeckpt")


def test_a_cifar_like_set_is_scaled_to_the_size_asked_for():
    images = torch.zeros(6, 3, 32, 32, dtype=torch.uint8)
    images[:, 0] = 200  # red everywhere
    images[:, 2, :, :16] = 90  # blue on the left half
    dataset = ImageDataset("cifar-like", images[:4], torch.zeros(4, dtype=torch.int64), images[4:],
                           torch.zeros(2, dtype=torch.int64), ["a"])
    big = resized(dataset, 64)
    assert big.image_shape == (3, 64, 64) and big.num_train == 4 and big.image_size == 64
    assert bool((big.train_images[:, 0] == 200).all())
    assert int(big.test_images[0, 2, 10, 5]) == 90 and int(big.test_images[0, 2, 10, 60]) == 0


def test_a_folder_at_an_explicit_size_is_centre_cropped(tmp_path):
    for i in range(3):  # wide photos: blue | green (holding the middle square) | red
        pixels = Image.new("RGB", (200, 100), (0, 255, 0))
        pixels.paste((0, 0, 255), (0, 0, 30, 100))
        pixels.paste((255, 0, 0), (170, 0, 200, 100))
        pixels.save(tmp_path / f"{i}.png")
    dataset = load_image_folder(tmp_path, image_size=64)
    assert dataset.image_shape == (3, 64, 64) and dataset.image_size == 64
    everything = torch.cat([dataset.train_images, dataset.test_images])
    assert int(everything[:, 1].min()) >= 250 and int(everything[:, [0, 2]].max()) <= 5  # only green is left
