"""A folder of real rendered shapes as PNG files, the small `folder:` dataset many CLI and window tests train on."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from vae_desktop.core.datasets.shapes import render_shapes


def write_shape_pngs(root: Path, count: int = 200, seed: int = 3) -> Path:
    """`count` grey shape images as root/0.png … (200: a few steps per epoch); returns `root`."""
    rendered, _ = render_shapes(count, seed=seed)
    for i, image in enumerate(rendered[:, 0].numpy()):
        Image.fromarray(image).save(root / f"{i}.png")
    return root
