"""Export files: PNG sheets, animated GIFs, JSON and the report folder are valid, sized and complete."""

from __future__ import annotations

import csv
import json
import os
from datetime import datetime

import numpy as np
import pytest
from PIL import Image

from vae_desktop.core.config import ModelConfig, TrainConfig
from vae_desktop.core.export import (
    SHEET_GAP,
    gif_bytes,
    json_bytes,
    png_bytes,
    reconstruction_sheet,
    tile_factor,
    write_gif,
    write_png,
)
from vae_desktop.core.metrics import EpochMetrics
from vae_desktop.core.report import (
    CONFIG_JSON,
    INDEX_HTML,
    INTERPOLATION_GIF,
    LOSS_PNG,
    MANIFOLD_PNG,
    METRICS_CSV,
    RECON_PNG,
    ReportContents,
    run_config,
    write_report,
)


def epochs(n: int) -> list[EpochMetrics]:
    return [EpochMetrics(e, 100.0 / e, 3.0, 100.0 / e + 3, 101.0 / e, 3.1, 101.0 / e + 3.1, 5000.0, 1.5, (1.0, 2.1))
            for e in range(1, n + 1)]


def ramp(n: int, h: int = 28, w: int = 28, colour: bool = False) -> np.ndarray:
    """n distinct images: image i is uniformly i / (n - 1)."""
    values = np.linspace(0.0, 1.0, n, dtype=np.float32)[:, None, None]
    images = np.broadcast_to(values, (n, h, w)).copy()
    return np.repeat(images[..., None], 3, axis=3) if colour else images


def test_png_is_enlarged_by_whole_pixels_and_keeps_values(tmp_path):
    image = np.zeros((28, 28), np.float32)
    image[3, 5] = 1.0
    path = write_png(image, tmp_path / "a.png", factor=4)
    with Image.open(path) as png:
        assert png.format == "PNG" and png.size == (112, 112) and png.mode == "L"
        pixels = np.asarray(png)
    assert (pixels[12:16, 20:24] == 255).all() and pixels.sum() == 255 * 16

    colour = np.zeros((32, 32, 3), np.float32)
    colour[..., 0] = 1.0
    with Image.open(write_png(colour, tmp_path / "c.png", 2)) as png:
        assert png.size == (64, 64) and png.mode == "RGB" and png.getpixel((10, 10)) == (255, 0, 0)


def test_png_refuses_an_image_it_cannot_represent():
    with pytest.raises(ValueError):
        png_bytes(np.zeros((4, 4, 2)))


def test_reconstruction_sheet_has_originals_above_reconstructions():
    originals, recons = ramp(10), ramp(10)[::-1]
    sheet = reconstruction_sheet(originals, recons)
    assert sheet.shape == (2 * 28 + SHEET_GAP, 10 * 28 + 9 * SHEET_GAP)
    np.testing.assert_allclose(sheet[:28, :28], originals[0])
    np.testing.assert_allclose(sheet[28 + SHEET_GAP :, :28], recons[0])


@pytest.mark.parametrize("colour", [False, True])
def test_gif_has_one_frame_per_step_loops_and_is_enlarged(tmp_path, colour):
    frames = ramp(8, colour=colour)
    path = write_gif(frames, tmp_path / "path.gif", factor=tile_factor(28))
    with Image.open(path) as gif:
        assert gif.format == "GIF" and gif.n_frames == 8 and gif.is_animated
        assert gif.size == (112, 112) and gif.info["loop"] == 0
        first = np.asarray(gif.convert("L"))
        gif.seek(7)
        last = np.asarray(gif.convert("L"))
    assert first.max() < 10 and last.min() > 245  # the frames are the images, in order


def test_gif_needs_frames():
    with pytest.raises(ValueError):
        gif_bytes([])


def test_json_writes_numpy_values():
    data = json_bytes({"a": np.float32(1.5), "b": (1, 2), "c": np.arange(3)})
    assert json.loads(data) == {"a": 1.5, "b": [1, 2], "c": [0, 1, 2]}


def report_contents(n_epochs: int = 3) -> ReportContents:
    config = run_config("shapes", ModelConfig(z_dim=2), TrainConfig(epochs=5), epochs_done=n_epochs, global_step=60,
                        device="CPU", versions=[("VAE Desktop", "0.1.0")])
    return ReportContents(
        title="shapes · z = 2",
        config=config,
        epochs=epochs(n_epochs),
        rendered={LOSS_PNG: png_bytes(np.zeros((10, 20)))},
        manifold=np.zeros((5 * 28, 4 * 28), np.float32),
        originals=ramp(10),
        reconstructions=ramp(10),
        interpolation=ramp(6),
        notes=["Latent map: skipped for the test."],
    )


def test_report_folder_holds_every_file_valid_and_complete(tmp_path):
    folder = write_report(tmp_path, report_contents(3), datetime(2024, 5, 1, 14, 3, 22))
    assert folder == tmp_path / "vae-report-2024-05-01_14-03-22"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [LOSS_PNG, MANIFOLD_PNG, RECON_PNG, INTERPOLATION_GIF, METRICS_CSV, CONFIG_JSON, INDEX_HTML]
    )
    assert [p.name for p in tmp_path.iterdir()] == [folder.name]  # no staging folder left behind
    with Image.open(folder / MANIFOLD_PNG) as png:
        assert png.size == (4 * 56, 5 * 56)
    with Image.open(folder / RECON_PNG) as png:
        assert png.size == (4 * (10 * 28 + 9 * SHEET_GAP), 4 * (2 * 28 + SHEET_GAP))
    with Image.open(folder / INTERPOLATION_GIF) as gif:
        assert gif.n_frames == 6
    rows = list(csv.DictReader((folder / METRICS_CSV).open()))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    config = json.loads((folder / CONFIG_JSON).read_text())
    assert config["dataset"] == "shapes" and config["model"]["z_dim"] == 2 and config["training"]["epochs"] == 5
    assert config["progress"] == {"epochs_done": 3, "global_step": 60}
    TrainConfig.from_dict(config["training"])  # the saved settings are valid training settings
    page = (folder / INDEX_HTML).read_text()
    for name in (LOSS_PNG, MANIFOLD_PNG, RECON_PNG, INTERPOLATION_GIF, METRICS_CSV, CONFIG_JSON):
        assert name in page
    assert "skipped for the test" in page and "After epoch 3" in page
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(folder).st_mode & 0o777 == 0o777 & ~umask  # not mkdtemp's private 0700


def test_a_second_report_in_the_same_second_gets_its_own_folder(tmp_path):
    stamp = datetime(2024, 5, 1, 14, 3, 22)
    first = write_report(tmp_path, report_contents(), stamp)
    second = write_report(tmp_path, report_contents(), stamp)
    assert second != first and second.name == first.name + "-2"
    assert (first / INDEX_HTML).exists() and (second / INDEX_HTML).exists()


def test_a_report_that_cannot_be_encoded_leaves_nothing_behind(tmp_path):
    bad = ReportContents(title="x", config={}, epochs=[], manifold=np.zeros((4, 4, 2)))
    with pytest.raises(ValueError):
        write_report(tmp_path, bad)
    assert list(tmp_path.iterdir()) == []
