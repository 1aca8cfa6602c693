"""Reading a single image file for encoding onto the latent map."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vae_desktop.core.image_file import ImageFileError, read_image_file


def test_colour_png_becomes_a_grey_image_of_the_model_size(tmp_path: Path) -> None:
    rgb = np.zeros((56, 40, 3), np.uint8)
    rgb[:28] = (255, 255, 255)
    Image.fromarray(rgb).save(tmp_path / "half.png")
    array = read_image_file(tmp_path / "half.png", (1, 28, 28))
    assert array.shape == (1, 28, 28) and array.dtype == np.uint8
    assert array[0, :12].min() > 240 and array[0, 16:].max() < 10


def test_transparent_pixels_become_black_and_colour_models_get_rgb(tmp_path: Path) -> None:
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[..., :3] = 255  # white everywhere, but only the left half is opaque
    rgba[:, :4, 3] = 255
    Image.fromarray(rgba, "RGBA").save(tmp_path / "alpha.png")
    array = read_image_file(tmp_path / "alpha.png", (3, 8, 8))
    assert array.shape == (3, 8, 8)
    assert array[:, :, :3].min() > 240 and array[:, :, 5:].max() < 10


def test_unreadable_files_give_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "notes.png").write_text("not an image")
    with pytest.raises(ImageFileError, match="notes.png is not an image"):
        read_image_file(tmp_path / "notes.png", (1, 28, 28))
    with pytest.raises(ImageFileError, match="does not exist"):
        read_image_file(tmp_path / "missing.png", (1, 28, 28))
