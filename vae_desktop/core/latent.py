"""Latent geometry for the 2-D map: planes through latent space, grids and interpolation.

A `LatentPlane` maps map coordinates (u, v) to a latent vector z = origin + u*axis_u + v*axis_v
and back by orthogonal projection. With z_dim == 2 the standard plane is the latent space itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LatentPlane:
    origin: np.ndarray  # (z_dim,)
    axes: np.ndarray  # (2, z_dim), orthonormal rows (the second row is zero when z_dim == 1)
    label_u: str = "z0"  # dimensions are numbered from 0 everywhere, as in the code: z[:, 0] is z0
    label_v: str = "z1"

    @property
    def z_dim(self) -> int:
        return int(self.origin.shape[0])

    def to_latent(self, uv: np.ndarray) -> np.ndarray:
        """(…, 2) map points to (…, z_dim) latent vectors."""
        uv = np.asarray(uv, dtype=np.float64)
        return self.origin + uv @ self.axes

    def to_map(self, z: np.ndarray) -> np.ndarray:
        """(…, z_dim) latent vectors to (…, 2) map points (orthogonal projection onto the plane)."""
        z = np.asarray(z, dtype=np.float64)
        return (z - self.origin) @ self.axes.T

    def distance_from_plane(self, z: np.ndarray) -> np.ndarray:
        """How far z lies off the plane (0 for points the map can show exactly)."""
        z = np.asarray(z, dtype=np.float64)
        back = self.to_latent(self.to_map(z))
        return np.linalg.norm(z - back, axis=-1)


def dimension_name(dim: int) -> str:
    """How every view names latent dimension `dim`: "z0" for the first, as `z[:, 0]` in the code.

    Numbered from 0 like the encoder's outputs (`mean = out[:, :z_dim]`): the inspector's
    "dimension 3", the map's axis "z3" and the slider "z3" are all `z[:, 3]`.
    """
    return f"z{dim}"


def identity_plane(z_dim: int) -> LatentPlane:
    """The plane of the first two latent dimensions through the origin (the whole space if z_dim==2)."""
    return dims_plane(z_dim, 0, 1 if z_dim > 1 else 0, np.zeros(z_dim))


def dims_plane(z_dim: int, dim_u: int, dim_v: int, anchor: np.ndarray) -> LatentPlane:
    """Vary latent dims `dim_u` and `dim_v`; every other dimension is held at `anchor`'s value."""
    if not (0 <= dim_u < z_dim and 0 <= dim_v < z_dim):
        raise ValueError(f"latent dimensions must be in 0..{z_dim - 1}")
    if dim_u == dim_v and z_dim > 1:
        raise ValueError("choose two different latent dimensions")
    origin = np.asarray(anchor, dtype=np.float64).copy()
    axes = np.zeros((2, z_dim))
    axes[0, dim_u] = 1.0
    origin[dim_u] = 0.0
    if dim_v != dim_u:
        axes[1, dim_v] = 1.0
        origin[dim_v] = 0.0
    return LatentPlane(origin, axes, dimension_name(dim_u), dimension_name(dim_v))


def most_active_dimensions(means: np.ndarray, count: int = 2) -> tuple[int, ...]:
    """The `count` latent dimensions whose posterior means vary most over the data, most varied first.

    The variance of the posterior mean is the active-units measure (Burda et al. 2015): a map of two
    dimensions the encoder does not use shows every image in one small blob.
    """
    means = np.asarray(means, dtype=np.float64)
    variance = means.var(axis=0) if len(means) else np.zeros(means.shape[1])
    order = sorted(range(len(variance)), key=lambda d: (-variance[d], d))  # ties: the lower index first
    return tuple(int(d) for d in order[:count])


def pca_plane(means: np.ndarray) -> LatentPlane:
    """The plane through the centre of the posterior means spanned by their top two principal axes.

    For z_dim <= 2 the latent space is already a plane and the identity plane is returned.
    """
    means = np.asarray(means, dtype=np.float64)
    z_dim = means.shape[1]
    if z_dim <= 2 or len(means) < 2:
        return identity_plane(z_dim)
    centre = means.mean(axis=0)
    _, _, vt = np.linalg.svd(means - centre, full_matrices=False)
    axes = vt[:2].copy()
    # Make the sign deterministic: the largest component of each axis is positive.
    for row in axes:
        if row[np.argmax(np.abs(row))] < 0:
            row *= -1
    return LatentPlane(centre, axes, "PC1", "PC2")


def interpolate(z_start: np.ndarray, z_end: np.ndarray, steps: int) -> np.ndarray:
    """`steps` latent vectors evenly spaced on the straight line from z_start to z_end (both included)."""
    if steps < 2:
        raise ValueError("interpolation needs at least 2 steps")
    t = np.linspace(0.0, 1.0, steps)[:, None]
    return (1 - t) * np.asarray(z_start, dtype=np.float64) + t * np.asarray(z_end, dtype=np.float64)


def move_in_plane(plane: LatentPlane, z: np.ndarray, uv: np.ndarray) -> np.ndarray:
    """Move z so that its map position becomes uv, keeping the part of z that lies off the plane.

    A handle on the plane lands exactly on `plane.to_latent(uv)`; a handle a slider moved off the
    plane keeps that offset while it is dragged, so the map never silently undoes a slider edit.
    """
    z = np.asarray(z, dtype=np.float64)
    delta = np.asarray(uv, dtype=np.float64) - plane.to_map(z)
    return z + delta @ plane.axes


def snap_to_plane(plane: LatentPlane, z: np.ndarray) -> np.ndarray:
    """The point of the plane nearest to z (what the map shows at z's map position)."""
    return plane.to_latent(plane.to_map(z))


def posterior_ellipse(
    plane: LatentPlane, mean: np.ndarray, stddev: np.ndarray, n_sigma: float = 1.0, points: int = 64
) -> np.ndarray:
    """Outline (points+1, 2) of the posterior N(mean, diag(stddev²)) projected onto the map.

    The projection of a Gaussian is a Gaussian with covariance A Σ Aᵀ (A = the plane's axes); its
    n_sigma contour is centre + n_sigma * L [cos t, sin t] with L Lᵀ = A Σ Aᵀ. The first point is
    repeated at the end so the outline draws closed.
    """
    mean = np.asarray(mean, dtype=np.float64)
    variance = np.asarray(stddev, dtype=np.float64) ** 2
    cov = (plane.axes * variance) @ plane.axes.T
    values, vectors = np.linalg.eigh(cov)
    root = vectors * np.sqrt(np.clip(values, 0.0, None))  # root @ root.T == cov
    t = np.linspace(0.0, 2 * np.pi, points + 1)
    circle = np.stack([np.cos(t), np.sin(t)])
    return plane.to_map(mean) + n_sigma * (root @ circle).T


def nearest_point(
    points: np.ndarray, target: np.ndarray, pixel_size: tuple[float, float], max_pixels: float
) -> int | None:
    """Index of the map point nearest to target on screen, or None if none is within max_pixels.

    Distances are measured in screen pixels (map units divided by the size of one pixel), so the
    pick radius feels the same at every zoom level.
    """
    if len(points) == 0:
        return None
    sx, sy = (max(abs(float(s)), 1e-300) for s in pixel_size)
    d2 = ((points[:, 0] - target[0]) / sx) ** 2 + ((points[:, 1] - target[1]) / sy) ** 2
    best = int(np.argmin(d2))
    return best if d2[best] <= max_pixels**2 else None


def subset_indices(total: int, max_points: int) -> np.ndarray:
    """At most max_points indices spread evenly over range(total), always the same for the same sizes."""
    if total <= max_points:
        return np.arange(total)
    return np.unique(np.linspace(0, total - 1, max_points).round().astype(np.int64))


def manifold_shape(u_range: tuple[float, float], v_range: tuple[float, float], n: int) -> tuple[int, int]:
    """(rows, columns) of a grid over the view with n cells along its longer side and near-square cells.

    Square cells keep decoded images undistorted in a view that is wider than tall (the map keeps a
    1:1 aspect ratio); the image count never exceeds n×n.
    """
    if n < 1:
        raise ValueError("grid size must be at least 1")
    width = abs(u_range[1] - u_range[0])
    height = abs(v_range[1] - v_range[0])
    if width <= 0 or height <= 0:
        return n, n
    if width >= height:
        return max(1, min(n, round(n * height / width))), n
    return n, max(1, min(n, round(n * width / height)))


def grid_points(u_range: tuple[float, float], v_range: tuple[float, float], rows: int, columns: int) -> np.ndarray:
    """A rows×columns grid of map points at cell centres; [row, column] -> (u, v), row 0 at the top."""
    if rows < 1 or columns < 1:
        raise ValueError("grid size must be at least 1")
    (u0, u1), (v0, v1) = u_range, v_range
    us = u0 + (np.arange(columns) + 0.5) / columns * (u1 - u0)
    vs = v1 - (np.arange(rows) + 0.5) / rows * (v1 - v0)
    grid_u, grid_v = np.meshgrid(us, vs)
    return np.stack([grid_u, grid_v], axis=-1)


def fit_view(points: np.ndarray, margin: float = 0.08, quantile: float = 0.002) -> tuple[tuple[float, float], ...]:
    """A view ((u0, u1), (v0, v1)) around the bulk of the points; far outliers do not shrink the map."""
    if len(points) == 0:
        return (-3.0, 3.0), (-3.0, 3.0)
    low = np.quantile(points, quantile, axis=0)
    high = np.quantile(points, 1 - quantile, axis=0)
    span = np.maximum(high - low, 1e-3)
    low, high = low - margin * span, high + margin * span
    return (float(low[0]), float(high[0])), (float(low[1]), float(high[1]))
