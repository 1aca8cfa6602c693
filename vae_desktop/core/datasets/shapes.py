"""`shapes`: a built-in, dSprites-like dataset generated procedurally (no download).

Four shape classes vary in scale, rotation and position. Each image is rendered at 4x resolution
and averaged down, which anti-aliases the edges. Generation is deterministic from the seed and the
result is cached as an .npz file so later starts load it in milliseconds.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import torch

from vae_desktop.core.atomic import atomic_write_bytes
from vae_desktop.core.datasets.base import ImageDataset
from vae_desktop.core.paths import user_cache_dir
from vae_desktop.core.regular_files import open_regular

CLASS_NAMES = ["square", "ellipse", "heart", "triangle"]
GENERATOR_VERSION = 1
IMAGE_SIZE = 28
SUPERSAMPLE = 4
WINDOW = 22  # pixels; the largest rotated shape spans about 20
DEFAULT_TRAIN = 20_000
DEFAULT_TEST = 5_000


def load_shapes(
    seed: int = 0,
    num_train: int = DEFAULT_TRAIN,
    num_test: int = DEFAULT_TEST,
    cache_dir: Path | None = None,
) -> ImageDataset:
    """Load the cached set for these arguments, generating (and caching) it on first use."""
    folder = cache_dir if cache_dir is not None else user_cache_dir()
    cache = folder / f"shapes-v{GENERATOR_VERSION}-seed{seed}-{num_train}-{num_test}.npz"
    arrays = _read_cache(cache, num_train + num_test)
    if arrays is None:
        images, labels = render_shapes(num_train + num_test, seed)
        arrays = {"images": images.numpy(), "labels": labels.numpy()}
        _write_cache(cache, arrays)
    images = torch.from_numpy(arrays["images"])
    labels = torch.from_numpy(arrays["labels"]).long()
    return ImageDataset(
        name="shapes",
        train_images=images[:num_train],
        train_labels=labels[:num_train],
        test_images=images[num_train:],
        test_labels=labels[num_train:],
        class_names=list(CLASS_NAMES),
    )


def render_shapes(count: int, seed: int, chunk: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
    """Render `count` images; returns uint8 (count, 1, 28, 28) and int64 labels."""
    gen = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, len(CLASS_NAMES), (count,), generator=gen)
    radius = 0.28 + 0.32 * torch.rand(count, generator=gen)
    angle = 2 * math.pi * torch.rand(count, generator=gen)
    margin = 1.0 - 1.05 * radius
    centre = (2 * torch.rand(count, 2, generator=gen) - 1) * margin[:, None]

    # Each shape fits in a WINDOW-pixel square around its centre, so only that window is rendered.
    offset = ((centre + 1) / 2 * IMAGE_SIZE - WINDOW / 2).round().clamp(0, IMAGE_SIZE - WINDOW).long()
    hi = WINDOW * SUPERSAMPLE
    local = (torch.arange(hi, dtype=torch.float32) + 0.5) / SUPERSAMPLE  # in pixels
    out = torch.zeros(count, 1, IMAGE_SIZE, IMAGE_SIZE, dtype=torch.uint8)
    for label, inside_test in enumerate(_INSIDE_TESTS):
        members = torch.nonzero(labels == label).flatten()
        for start in range(0, len(members), chunk):
            idx = members[start : start + chunk]
            px = (offset[idx, 0, None] + local[None]) / IMAGE_SIZE * 2 - 1  # (n, hi) in [-1, 1]
            py = (offset[idx, 1, None] + local[None]) / IMAGE_SIZE * 2 - 1
            dx = px[:, None, :] - centre[idx, 0, None, None]
            dy = py[:, :, None] - centre[idx, 1, None, None]
            cos = torch.cos(angle[idx])[:, None, None]
            sin = torch.sin(angle[idx])[:, None, None]
            r = radius[idx, None, None]
            u = (cos * dx + sin * dy) / r
            v = (-sin * dx + cos * dy) / r
            coverage = torch.nn.functional.avg_pool2d(inside_test(u, v).float()[:, None], SUPERSAMPLE)
            window = (coverage * 255).round().to(torch.uint8)
            for k, i in enumerate(idx.tolist()):
                ox, oy = offset[i].tolist()
                out[i, :, oy : oy + WINDOW, ox : ox + WINDOW] = window[k]
    return out, labels


# Point-in-shape tests in each shape's own unit frame (v points down the image), in class order.
def _square(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    return torch.maximum(u.abs(), v.abs()) <= 0.8


def _ellipse(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    return u**2 + (v / 0.55) ** 2 <= 1.0


def _heart(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    hx, hy = u * 1.15, -v * 1.15 + 0.15
    return (hx**2 + hy**2 - 1) ** 3 - hx**2 * hy**3 <= 0


def _triangle(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    ty = -v
    return (ty >= -0.5) & (ty + 1.732 * u <= 1.0) & (ty - 1.732 * u <= 1.0)


_INSIDE_TESTS = (_square, _ellipse, _heart, _triangle)


def _read_cache(path: Path, count: int) -> dict[str, np.ndarray] | None:
    """The cached arrays, or None (regenerate) when the cache is missing, damaged, not a regular file
    (a pipe there would block np.load) or holds arrays of another shape or type."""
    try:
        with open_regular(path) as handle, np.load(handle, allow_pickle=False) as data:
            images, labels = data["images"], data["labels"]
    except Exception:  # zipfile, numpy and the OS raise many types for a damaged file
        return None
    if images.dtype != np.uint8 or images.shape != (count, 1, IMAGE_SIZE, IMAGE_SIZE):
        return None
    if labels.shape != (count,) or labels.dtype.kind not in "iu" or (
        count and not 0 <= labels.min() <= labels.max() < len(CLASS_NAMES)
    ):
        return None
    return {"images": images, "labels": labels}


def _write_cache(path: Path, arrays: dict[str, np.ndarray]) -> None:
    buffer = io.BytesIO()
    np.savez(buffer, images=arrays["images"], labels=arrays["labels"])
    try:
        atomic_write_bytes(path, buffer.getvalue())
    except OSError:
        pass  # a read-only cache folder only costs regeneration next time
