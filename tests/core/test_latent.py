"""Latent-plane geometry: map <-> z round trips, decoding a map point, ellipses, picking, grids."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from vae_desktop.core.config import ModelConfig
from vae_desktop.core.inference import decode_images
from vae_desktop.core.latent import (
    dims_plane,
    fit_view,
    grid_points,
    identity_plane,
    interpolate,
    manifold_shape,
    move_in_plane,
    nearest_point,
    pca_plane,
    posterior_ellipse,
    snap_to_plane,
    subset_indices,
)
from vae_desktop.core.model import VAE

finite = st.floats(-50, 50, allow_nan=False, allow_infinity=False)


def correlated_means(z_dim: int = 6, n: int = 400, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(z_dim, z_dim))
    return rng.normal(size=(n, z_dim)) @ mixing + rng.normal(size=z_dim)


def test_pca_plane_is_centred_on_the_means_and_spans_their_top_two_directions() -> None:
    means = correlated_means()
    plane = pca_plane(means)
    np.testing.assert_allclose(plane.origin, means.mean(0))
    np.testing.assert_allclose(plane.axes @ plane.axes.T, np.eye(2), atol=1e-12)
    # Independent check: eigenvectors of the covariance with the two largest eigenvalues.
    values, vectors = np.linalg.eigh(np.cov(means.T))
    top = vectors[:, np.argsort(values)[::-1][:2]].T
    np.testing.assert_allclose(np.abs(plane.axes @ top.T), np.eye(2), atol=1e-8)
    # The map coordinates of the means are uncorrelated with the first having the larger spread.
    uv = plane.to_map(means)
    np.testing.assert_allclose(uv.mean(0), 0, atol=1e-9)
    assert uv[:, 0].var() > uv[:, 1].var()
    assert abs(np.corrcoef(uv.T)[0, 1]) < 1e-8


@settings(max_examples=50, deadline=None)
@given(uv=arrays(np.float64, (5, 2), elements=finite))
def test_pca_plane_round_trips_map_points(uv: np.ndarray) -> None:
    plane = pca_plane(correlated_means())
    np.testing.assert_allclose(plane.to_map(plane.to_latent(uv)), uv, atol=1e-9)
    np.testing.assert_allclose(plane.distance_from_plane(plane.to_latent(uv)), 0, atol=1e-9)


@settings(max_examples=50, deadline=None)
@given(
    anchor=arrays(np.float64, (5,), elements=finite),
    uv=arrays(np.float64, (3, 2), elements=finite),
    dims=st.permutations(range(5)).map(lambda p: (p[0], p[1])),
)
def test_chosen_dimensions_plane_sets_those_dims_and_holds_the_others(anchor, uv, dims) -> None:
    du, dv = dims
    plane = dims_plane(5, du, dv, anchor)
    z = plane.to_latent(uv)
    np.testing.assert_allclose(z[:, du], uv[:, 0])
    np.testing.assert_allclose(z[:, dv], uv[:, 1])
    others = [d for d in range(5) if d not in dims]
    np.testing.assert_allclose(z[:, others], np.broadcast_to(anchor[others], (3, 3)))
    np.testing.assert_allclose(plane.to_map(z), uv, atol=1e-12)


def test_dims_plane_rejects_bad_dimensions() -> None:
    with pytest.raises(ValueError, match="different"):
        dims_plane(4, 1, 1, np.zeros(4))
    with pytest.raises(ValueError, match="0..3"):
        dims_plane(4, 0, 4, np.zeros(4))


@pytest.mark.parametrize("which", ["pca", "dims", "identity"])
def test_decoding_a_map_point_equals_decoding_the_z_it_claims(which: str) -> None:
    torch.manual_seed(3)
    z_dim = 2 if which == "identity" else 5
    model = VAE(ModelConfig(z_dim=z_dim, base_width=8, hidden=32)).eval()
    uv = np.array([[0.7, -1.3], [-2.0, 0.4]])
    if which == "pca":
        means = correlated_means(z_dim)
        plane = pca_plane(means)
        values, vectors = np.linalg.eigh(np.cov(means.T))
        order = np.argsort(values)[::-1][:2]
        axes = vectors[:, order].T * np.sign(plane.axes @ vectors[:, order]).diagonal()[:, None]
        claimed = means.mean(0) + uv[:, :1] * axes[0] + uv[:, 1:] * axes[1]
    elif which == "dims":
        anchor = np.array([0.5, -0.25, 1.0, 2.0, -1.0])
        plane = dims_plane(z_dim, 3, 1, anchor)
        claimed = np.tile(anchor, (2, 1))
        claimed[:, 3], claimed[:, 1] = uv[:, 0], uv[:, 1]
    else:
        plane = identity_plane(2)
        claimed = uv
    np.testing.assert_allclose(
        decode_images(model, plane.to_latent(uv)), decode_images(model, claimed), atol=1e-6
    )


def test_moving_in_the_plane_keeps_the_off_plane_offset() -> None:
    plane = pca_plane(correlated_means())
    on_plane = plane.to_latent(np.array([1.0, 2.0]))
    np.testing.assert_allclose(move_in_plane(plane, on_plane, [3.0, -1.0]), plane.to_latent([3.0, -1.0]), atol=1e-12)
    off = on_plane + 0.8 * np.linalg.svd(plane.axes)[2][3]  # a direction orthogonal to the plane
    moved = move_in_plane(plane, off, [3.0, -1.0])
    np.testing.assert_allclose(plane.to_map(moved), [3.0, -1.0], atol=1e-12)
    np.testing.assert_allclose(plane.distance_from_plane(moved), 0.8, atol=1e-12)
    np.testing.assert_allclose(snap_to_plane(plane, moved), plane.to_latent([3.0, -1.0]), atol=1e-12)


def test_posterior_ellipse_on_latent_axes_has_the_stddevs_as_radii() -> None:
    plane = dims_plane(3, 0, 2, np.zeros(3))
    outline = posterior_ellipse(plane, np.array([1.0, 9.0, -2.0]), np.array([0.5, 7.0, 0.2]), points=400)
    np.testing.assert_allclose(outline[0], outline[-1])
    np.testing.assert_allclose(outline.min(0), [0.5, -2.2], atol=1e-4)
    np.testing.assert_allclose(outline.max(0), [1.5, -1.8], atol=1e-4)


def test_posterior_ellipse_projected_on_a_tilted_plane_matches_the_projected_covariance() -> None:
    plane = pca_plane(correlated_means(4))
    std = np.array([0.3, 1.0, 0.5, 2.0])
    outline = posterior_ellipse(plane, np.zeros(4), std, points=2000)[:-1]
    centred = outline - plane.to_map(np.zeros(4))
    # Points of the 1-sigma contour of N(0, C) satisfy x^T C^-1 x = 1.
    cov = plane.axes @ np.diag(std**2) @ plane.axes.T
    np.testing.assert_allclose(np.einsum("ni,ij,nj->n", centred, np.linalg.inv(cov), centred), 1.0, atol=1e-9)


def test_nearest_point_measures_in_screen_pixels() -> None:
    points = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 1.0]])
    # One pixel is 0.1 map units wide and 1 unit tall: (0, 1) is 1 px away, (10, 0) is 100 px away.
    assert nearest_point(points, np.array([0.0, 0.9]), (0.1, 1.0), 2) == 2
    assert nearest_point(points, np.array([9.5, 0.0]), (0.1, 1.0), 4) is None
    assert nearest_point(points, np.array([9.8, 0.0]), (0.1, 1.0), 4) == 1
    assert nearest_point(np.zeros((0, 2)), np.zeros(2), (1, 1), 5) is None


def test_subset_indices_are_at_most_the_limit_sorted_and_stable() -> None:
    np.testing.assert_array_equal(subset_indices(7, 10), np.arange(7))
    chosen = subset_indices(60_000, 10_000)
    assert len(chosen) == 10_000 and chosen[0] == 0 and chosen[-1] == 59_999
    assert np.all(np.diff(chosen) > 0)
    np.testing.assert_array_equal(chosen, subset_indices(60_000, 10_000))


def test_manifold_shape_keeps_cells_square_with_n_along_the_longer_side() -> None:
    assert manifold_shape((0, 1), (0, 1), 20) == (20, 20)
    assert manifold_shape((0, 2), (0, 1), 20) == (10, 20)
    assert manifold_shape((0, 1), (0, 3), 9) == (9, 3)
    assert manifold_shape((0, 100), (0, 1), 5) == (1, 5)


def test_grid_points_are_cell_centres_with_the_top_row_first() -> None:
    grid = grid_points((0, 4), (0, 2), 2, 4)
    assert grid.shape == (2, 4, 2)
    np.testing.assert_allclose(grid[0, :, 0], [0.5, 1.5, 2.5, 3.5])
    np.testing.assert_allclose(grid[:, 0, 1], [1.5, 0.5])


def test_fit_view_covers_the_bulk_and_ignores_a_far_outlier() -> None:
    rng = np.random.default_rng(0)
    points = np.vstack([rng.normal(size=(5000, 2)), [[1e6, 1e6]]])
    (u0, u1), (v0, v1) = fit_view(points)
    assert -5 < u0 < -2.5 and 2.5 < u1 < 5 and -5 < v0 < -2.5 and 2.5 < v1 < 5


def test_interpolation_starts_and_ends_at_the_endpoints() -> None:
    path = interpolate(np.array([0.0, 1.0]), np.array([2.0, -1.0]), 5)
    np.testing.assert_allclose(path[0], [0, 1])
    np.testing.assert_allclose(path[-1], [2, -1])
    np.testing.assert_allclose(path[2], [1, 0])
