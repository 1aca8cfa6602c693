"""Off-GUI-thread work of the latent map: mosaics, manifold decoding, encoding jobs, pixel sampling."""

from __future__ import annotations

import numpy as np
import torch

from vae_desktop.core.config import ModelConfig
from vae_desktop.core.datasets.base import ImageDataset
from vae_desktop.core.inference import decode_images, encode_means
from vae_desktop.core.latent import dims_plane, grid_points, identity_plane, pca_plane
from vae_desktop.core.latent_map import MapComputer, MapJob, decode_manifold, merge_jobs
from vae_desktop.core.model import VAE
from vae_desktop.core.mosaic import tile_mosaic
from vae_desktop.core.pixel_sampling import sample_pixels, uniform_noise


def numpy_state(model: VAE) -> dict[str, np.ndarray]:
    return {k: v.detach().clone().numpy() for k, v in model.state_dict().items()}


def test_mosaic_places_images_row_by_row() -> None:
    images = np.arange(6)[:, None, None] * np.ones((6, 2, 3))
    mosaic = tile_mosaic(images, 2, 3)
    assert mosaic.shape == (4, 9)
    assert mosaic[0, 0] == 0 and mosaic[0, 8] == 2 and mosaic[3, 0] == 3 and mosaic[3, 8] == 5
    spaced = tile_mosaic(images, 2, 3, gap=1, fill=-1)
    assert spaced.shape == (5, 11)
    assert spaced[2, 0] == -1 and spaced[0, 4] == 1 and spaced[0, 3] == -1 and spaced[4, 10] == 5
    colour = tile_mosaic(np.zeros((4, 2, 2, 3)), 2, 2)
    assert colour.shape == (4, 4, 3)


def test_manifold_tiles_are_the_decodings_of_the_grid_points() -> None:
    torch.manual_seed(0)
    model = VAE(ModelConfig(z_dim=3, base_width=8, hidden=32)).eval()
    plane = dims_plane(3, 0, 2, np.array([0.0, 0.7, 0.0]))
    result = decode_manifold(model, plane, (-2, 2), (-1, 1), 4)
    assert (result.rows, result.columns) == (2, 4)
    assert result.image.shape == (56, 112)
    points = grid_points((-2, 2), (-1, 1), 2, 4)
    top_right = decode_images(model, plane.to_latent(points[0, 3])[None])[0]
    bottom_left = decode_images(model, plane.to_latent(points[1, 0])[None])[0]
    np.testing.assert_allclose(result.image[:28, 84:], top_right, atol=1e-6)
    np.testing.assert_allclose(result.image[28:, :28], bottom_left, atol=1e-6)


def test_map_computer_encodes_with_the_job_weights_and_fits_the_pca_plane(small_shapes: ImageDataset) -> None:
    torch.manual_seed(0)
    model = VAE(ModelConfig(z_dim=4, base_width=8, hidden=32)).eval()
    images = small_shapes.test_images[:200].numpy()
    job = MapJob(
        version=1,
        config=model.config,
        state=numpy_state(model),
        plane=identity_plane(4),
        plane_mode="pca",
        images=images,
        indices=np.arange(200),
        labels=small_shapes.test_labels[:200].numpy(),
        view=((-1.0, 1.0), (-1.0, 1.0)),
        grid_size=3,
    )
    computer = MapComputer()
    result = computer.run(job)
    means, stds = encode_means(model, torch.from_numpy(images))
    np.testing.assert_allclose(result.points.means, means, atol=1e-6)
    np.testing.assert_allclose(result.points.stddevs, stds, atol=1e-6)
    np.testing.assert_allclose(result.plane.origin, pca_plane(means).origin, atol=1e-5)
    assert result.manifold.image.shape == (84, 84)

    # Newer weights under a newer version are picked up; the same version is not reloaded.
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05)
    result2 = computer.run(MapJob(2, model.config, numpy_state(model), identity_plane(4), images=images,
                                  indices=np.arange(200), labels=np.zeros(200, np.int64)))
    np.testing.assert_allclose(result2.points.means, encode_means(model, torch.from_numpy(images))[0], atol=1e-6)
    assert result2.manifold is None
    np.testing.assert_array_equal(result2.plane.axes, identity_plane(4).axes)


def test_merging_a_newer_job_keeps_the_pending_work() -> None:
    config = ModelConfig(z_dim=2, base_width=8, hidden=32)
    encode = MapJob(1, config, {}, identity_plane(2), images=np.zeros((1, 1, 28, 28), np.uint8),
                    indices=np.zeros(1), labels=np.zeros(1))
    manifold = MapJob(2, config, {}, identity_plane(2), view=((0, 1), (0, 1)), grid_size=7)
    merged = merge_jobs(encode, manifold)
    assert merged.version == 2 and merged.images is not None and merged.grid_size == 7
    assert merge_jobs(manifold, encode).view == ((0, 1), (0, 1))
    assert merge_jobs(None, encode) is encode


def test_pixel_samples_follow_the_means_and_leave_the_global_rng_alone() -> None:
    torch.manual_seed(123)
    before = torch.get_rng_state()
    noise = uniform_noise((100, 100), seed=5)
    assert torch.equal(before, torch.get_rng_state())
    np.testing.assert_array_equal(noise, uniform_noise((100, 100), seed=5))
    assert not np.array_equal(noise, uniform_noise((100, 100), seed=6))
    means = np.full((2, 100, 100), 0.3, np.float32)
    means[1] = 1.0
    samples = sample_pixels(means, noise)
    assert set(np.unique(samples)) <= {0.0, 1.0}
    assert abs(samples[0].mean() - 0.3) < 0.03 and samples[1].mean() == 1.0
