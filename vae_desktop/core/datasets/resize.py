"""A registry dataset (CIFAR-10, MNIST, ...) at another image size: scaled, then centre-cropped square.

Image folders are scaled while they are decoded (core/datasets/folder.py, with Pillow); the
sets that arrive as uint8 tensors are scaled here with torch (no torchvision: a small build lacks
it), in chunks, so the float copy never holds more than a few thousand images at a time.
"""

from __future__ import annotations

from dataclasses import replace

import torch
import torch.nn.functional as F

from vae_desktop.core.datasets.base import ImageDataset

CHUNK = 2048


def resized(dataset: ImageDataset, size: int) -> ImageDataset:
    """`dataset` with every image scaled (antialiased bilinear) so its shorter side is `size`, then cut
    to the middle size×size square; labels, names and notes are kept. A dataset already that size
    is returned as it is (with `image_size` recorded)."""
    if dataset.image_shape[1:] == (size, size):
        return replace(dataset, image_size=size)
    c, h, w = dataset.image_shape
    return replace(
        dataset,
        train_images=_resize(dataset.train_images, size),
        test_images=_resize(dataset.test_images, size),
        notes=[*dataset.notes, f"scaled from {h}×{w} to {size}×{size}"],
        image_size=size,
    )


def _resize(images: torch.Tensor, size: int) -> torch.Tensor:
    n, c, h, w = images.shape
    scale = size / min(h, w)
    scaled = (max(size, round(h * scale)), max(size, round(w * scale)))
    top, left = (scaled[0] - size) // 2, (scaled[1] - size) // 2
    out = torch.empty((n, c, size, size), dtype=torch.uint8)
    for start in range(0, n, CHUNK):
        chunk = images[start : start + CHUNK].float()
        big = F.interpolate(chunk, size=scaled, mode="bilinear", align_corners=False, antialias=True)
        out[start : start + CHUNK] = big[:, :, top : top + size, left : left + size].round().clamp_(0, 255).to(torch.uint8)
    return out
