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
    label_u: str = "z1"
    label_v: str = "z2"

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
    return LatentPlane(origin, axes, f"z{dim_u + 1}", f"z{dim_v + 1}")


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


def grid_coordinates(u_range: tuple[float, float], v_range: tuple[float, float], n: int) -> np.ndarray:
    """An n×n grid of map points at cell centres, row-major from the top (v high) to the bottom.

    Returned shape (n, n, 2): [row, column] -> (u, v); row 0 is the top of the view.
    """
    if n < 1:
        raise ValueError("grid size must be at least 1")
    (u0, u1), (v0, v1) = u_range, v_range
    us = u0 + (np.arange(n) + 0.5) / n * (u1 - u0)
    vs = v1 - (np.arange(n) + 0.5) / n * (v1 - v0)
    grid_u, grid_v = np.meshgrid(us, vs)
    return np.stack([grid_u, grid_v], axis=-1)


def interpolate(z_start: np.ndarray, z_end: np.ndarray, steps: int) -> np.ndarray:
    """`steps` latent vectors evenly spaced on the straight line from z_start to z_end (both included)."""
    if steps < 2:
        raise ValueError("interpolation needs at least 2 steps")
    t = np.linspace(0.0, 1.0, steps)[:, None]
    return (1 - t) * np.asarray(z_start, dtype=np.float64) + t * np.asarray(z_end, dtype=np.float64)
