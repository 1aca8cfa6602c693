"""The heavy half of the latent map: encoding the test set and decoding the manifold grid.

These run off the GUI thread (see `ui/latent/map_worker.py`) on their own copy of the model built
from a numpy snapshot of the weights, so a slow encode never delays a drag and never reads weights
while they are being replaced. Everything here is plain numpy/torch and testable without Qt.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import torch

from vae_desktop.core.config import ModelConfig
from vae_desktop.core.inference import decode_images, encode_means
from vae_desktop.core.latent import LatentPlane, grid_points, manifold_shape, pca_plane
from vae_desktop.core.model import VAE
from vae_desktop.core.mosaic import tile_mosaic
from vae_desktop.core.private_model import PrivateModel


@dataclass(frozen=True)
class ManifoldImage:
    """Decoded grid as one image (top row first) and the map rectangle it covers."""

    image: np.ndarray  # (rows*H, columns*W) or (rows*H, columns*W, C), float32 in [0, 1]
    u_range: tuple[float, float]
    v_range: tuple[float, float]
    rows: int
    columns: int


def decode_manifold(
    model: VAE, plane: LatentPlane, u_range: tuple[float, float], v_range: tuple[float, float], n: int
) -> ManifoldImage:
    """Decode a grid over the view (n cells along its longer side) in one batch and tile it."""
    rows, columns = manifold_shape(u_range, v_range, n)
    points = grid_points(u_range, v_range, rows, columns).reshape(-1, 2)
    images = decode_images(model, plane.to_latent(points))
    mosaic = tile_mosaic(images, rows, columns)
    u_span, v_span = (float(u_range[0]), float(u_range[1])), (float(v_range[0]), float(v_range[1]))
    return ManifoldImage(mosaic, u_span, v_span, rows, columns)


@dataclass(frozen=True)
class EncodedPoints:
    """Posterior means and stddevs of a subset of the test set (`indices` into the full test set)."""

    indices: np.ndarray  # (N,) int64
    labels: np.ndarray  # (N,) int64
    means: np.ndarray  # (N, z_dim) float32
    stddevs: np.ndarray  # (N, z_dim) float32


@dataclass(frozen=True)
class MapJob:
    """One refresh request. `images` set: re-encode; `view` set: re-decode the manifold.

    plane_mode "pca" means the plane is recomputed from the freshly encoded means (falling back to
    `plane` when nothing is encoded); "fixed" means `plane` is used as given.
    """

    version: int
    config: ModelConfig
    state: Mapping[str, np.ndarray]
    plane: LatentPlane
    plane_mode: str = "fixed"
    images: np.ndarray | None = None  # uint8 (N, C, H, W), read-only
    indices: np.ndarray | None = None
    labels: np.ndarray | None = None
    view: tuple[tuple[float, float], tuple[float, float]] | None = None
    grid_size: int = 20


def merge_jobs(pending: MapJob | None, newer: MapJob) -> MapJob:
    """The newer job, still doing the work a pending (not yet started) job asked for."""
    if pending is None:
        return newer
    if newer.images is None and pending.images is not None:
        newer = replace(newer, images=pending.images, indices=pending.indices, labels=pending.labels)
    if newer.view is None and pending.view is not None:
        newer = replace(newer, view=pending.view, grid_size=pending.grid_size)
    return newer


@dataclass(frozen=True)
class MapResult:
    version: int
    plane: LatentPlane
    points: EncodedPoints | None
    manifold: ManifoldImage | None
    seconds: float = 0.0  # compute time, so callers can space refreshes to a CPU budget


class MapComputer:
    """Runs MapJobs on a private model, reloading weights only when the job's version changes."""

    def __init__(self) -> None:
        self._model = PrivateModel()

    def run(self, job: MapJob) -> MapResult:
        started = time.perf_counter()
        model = self._model.get(job.config, job.state, job.version)
        points = None
        plane = job.plane
        if job.images is not None:
            means, stds = encode_means(model, torch.from_numpy(np.asarray(job.images)))
            points = EncodedPoints(np.asarray(job.indices), np.asarray(job.labels), means, stds)
            if job.plane_mode == "pca":
                plane = pca_plane(means)
        manifold = None
        if job.view is not None:
            manifold = decode_manifold(model, plane, job.view[0], job.view[1], job.grid_size)
        return MapResult(job.version, plane, points, manifold, time.perf_counter() - started)
