"""Reading a single image file for encoding onto the latent map."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vae_desktop.core.datasets.folder import load_image_folder
from vae_desktop.core.image_file import ImageFileError, read_image_file


def test_colour_png_becomes_a_grey_image_of_the_model_size(tmp_path: Path) -> None:
    rgb = np.zeros((56, 56, 3), np.uint8)
    rgb[:28] = (255, 255, 255)
    Image.fromarray(rgb).save(tmp_path / "half.png")
    array = read_image_file(tmp_path / "half.png", (1, 28, 28))
    assert array.shape == (1, 28, 28) and array.dtype == np.uint8
    assert array[0, :12].min() > 240 and array[0, 16:].max() < 10


@pytest.mark.parametrize("size", [(640, 480), (480, 640)])
def test_a_photo_of_another_shape_is_letterboxed_not_squashed(tmp_path: Path, size: tuple[int, int]) -> None:
    """A round object stays round: the image is scaled to fit and padded with its own background."""
    width, height = size
    yy, xx = np.mgrid[:height, :width]
    photo = np.full((height, width), 255, np.uint8)  # white background, as in a photo of a drawing
    photo[(yy - height / 2) ** 2 + (xx - width / 2) ** 2 < 150**2] = 0  # a black disc, 300 px across
    Image.fromarray(photo).save(tmp_path / "disc.png")
    array = read_image_file(tmp_path / "disc.png", (1, 28, 28))[0]
    rows, columns = np.nonzero(array < 128)
    blob_height, blob_width = rows.max() - rows.min() + 1, columns.max() - columns.min() + 1
    assert abs(int(blob_height) - int(blob_width)) <= 1, f"the disc became {blob_width}x{blob_height}"
    band = (28 - round(28 * min(width, height) / max(width, height))) // 2
    edges = (array[:band], array[-band:]) if width > height else (array[:, :band], array[:, -band:])
    assert all(edge.min() > 240 for edge in edges)  # padded with white, the photo's own background


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


@pytest.mark.parametrize("kind", ["16-bit dark", "16-bit full range", "float", "transparent colour"])
def test_an_opened_file_is_prepared_exactly_like_its_copy_in_an_image_folder(tmp_path, kind):
    """Encoding a file onto the map must show the same pixels the model saw for it in a folder dataset."""
    rng = np.random.default_rng(3)
    folder = tmp_path / "images"
    folder.mkdir()
    if kind == "16-bit dark":  # a 16-bit file that only uses 0..255 (scaled by its own range)
        Image.fromarray(rng.integers(0, 200, (40, 30)).astype(np.uint16)).save(folder / "a.png")
    elif kind == "16-bit full range":  # scaled by the 16-bit range, not clipped at 255
        Image.fromarray(rng.integers(0, 65535, (40, 30)).astype(np.uint16)).save(folder / "a.png")
    elif kind == "float":
        Image.fromarray(rng.random((40, 30)).astype(np.float32), mode="F").save(folder / "a.tiff")
    else:
        rgba = rng.integers(0, 256, (40, 30, 4)).astype(np.uint8)
        Image.fromarray(rgba, mode="RGBA").save(folder / "a.png")
    file = next(folder.iterdir())
    shutil.copy(file, folder / f"copy{file.suffix}")  # an image folder needs two: one to train, one to test
    dataset = load_image_folder(folder)
    (channels, height, width) = dataset.image_shape
    opened = read_image_file(file, (channels, height, width))
    np.testing.assert_array_equal(opened, dataset.train_images[0].numpy())
    np.testing.assert_array_equal(opened, dataset.test_images[0].numpy())


def test_a_float_tiff_with_nan_is_refused_not_turned_black(tmp_path: Path) -> None:
    from tests.helpers_hostile_files import nan_tiff

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's "invalid value encountered in cast" on main
        with pytest.raises(ImageFileError, match=r"nan.tiff has pixels that are not numbers \(NaN or infinity\)"):
            read_image_file(nan_tiff(tmp_path / "nan.tiff"), (1, 28, 28))


def test_a_decompression_bomb_is_a_clear_error_and_a_large_header_prints_no_warning(tmp_path: Path, capfd) -> None:
    from tests.helpers_hostile_files import png_claiming_size

    with pytest.raises(ImageFileError, match="bomb.png is too large to open safely"):
        read_image_file(png_claiming_size(tmp_path / "bomb.png", 20_000, 10_000), (1, 28, 28))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # DecompressionBombWarning, printed with its source line on main
        with pytest.raises(ImageFileError, match="Cannot read big.png"):
            read_image_file(png_claiming_size(tmp_path / "big.png", 10_000, 10_000), (1, 28, 28))
    assert capfd.readouterr().err == ""


def test_an_empty_file_says_it_is_empty(tmp_path: Path) -> None:
    (tmp_path / "empty.png").touch()
    with pytest.raises(ImageFileError, match="empty.png is empty"):
        read_image_file(tmp_path / "empty.png", (1, 28, 28))


def test_an_unreadable_file_says_permission(tmp_path: Path) -> None:
    from tests.unprivileged import run_obeying_permissions

    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "locked.png")
    (tmp_path / "locked.png").chmod(0)
    result = run_obeying_permissions(f"""
        from vae_desktop.core.image_file import ImageFileError, read_image_file
        try:
            read_image_file({str(tmp_path / "locked.png")!r}, (1, 28, 28))
        except ImageFileError as exc:
            print(exc)
    """)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == f"No permission to read {tmp_path / 'locked.png'}."
