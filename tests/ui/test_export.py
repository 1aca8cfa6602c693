"""Every export of the real window writes a valid file of the right size and content."""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image
from PySide6.QtWidgets import QFileDialog

from tests.ui.helpers import wait_for_state
from vae_desktop.core.export import SHEET_GAP, ExportError, enlarge, to_uint8
from vae_desktop.core.latent import manifold_shape
from vae_desktop.core.latent_map import decode_manifold
from vae_desktop.core.report import (
    CONFIG_JSON,
    INDEX_HTML,
    INTERPOLATION_GIF,
    LOSS_PNG,
    LOSS_SVG,
    MANIFOLD_PNG,
    MAP_PNG,
    MAP_SVG,
    METRICS_CSV,
    RECON_PNG,
)
from vae_desktop.ui.export_menu import ExportController

EPOCHS = 2


@pytest.fixture
def trained(qtbot, make_window, settings):
    """A window that has trained EPOCHS epochs, with the map encoded and two handles placed."""
    window = make_window(settings, epochs=EPOCHS)
    window.resize(1500, 900)
    window.start_button.click()
    wait_for_state(qtbot, window, "ready", timeout=60_000)
    latent = window.side_tabs.widget(0)
    qtbot.waitUntil(lambda: len(latent.handles.names) == 2 and latent.map_version >= 0, timeout=10_000)
    return window


def exporter(window) -> ExportController:
    controller = window.findChild(ExportController)
    assert controller is not None
    return controller


def png(path) -> np.ndarray:
    with Image.open(path) as image:
        assert image.format == "PNG"
        return np.asarray(image.convert("RGB"))


def test_plots_and_map_export_as_png_at_twice_their_size_and_as_svg(trained, tmp_path):
    window, ex = trained, exporter(trained)
    canvas = window.plots.canvas
    pixels = png(ex.export_loss_plots_png(tmp_path / "loss.png"))
    assert pixels.shape[:2] == (2 * canvas.height(), 2 * canvas.width())
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 20  # axes, text and curves, not a blank image

    svg = ET.parse(ex.export_loss_plots_svg(tmp_path / "loss.svg")).getroot()
    assert svg.tag.endswith("svg")
    assert len([e for e in svg.iter() if e.tag.endswith(("path", "polyline"))]) > 10  # vector curves

    latent = window.side_tabs.widget(0)
    view = latent.map_view
    with_handles = png(ex.export_latent_map_png(tmp_path / "map.png"))
    assert with_handles.shape[:2] == (2 * view.height(), 2 * view.width())
    latent.delete_handle(latent.handles.names[0])
    without = png(ex.export_latent_map_png(tmp_path / "map-without.png"))
    assert (with_handles != without).any()  # the handle is part of the picture
    svg = ET.parse(ex.export_latent_map_svg(tmp_path / "map.svg")).getroot()
    assert svg.tag.endswith("svg") and any(e.tag.endswith("image") for e in svg.iter())  # the manifold


def test_manifold_grid_png_holds_the_decoded_grid_of_the_visible_map(trained, tmp_path):
    window, ex = trained, exporter(trained)
    latent = window.side_tabs.widget(0)
    latent.set_grid_size(6)
    u_range, v_range = latent.map_view.visible_range()
    rows, columns = manifold_shape(u_range, v_range, 6)
    pixels = png(ex.export_manifold_png(tmp_path / "manifold.png"))[..., 0]
    assert pixels.shape == (rows * 56, columns * 56)  # 28 px tiles enlarged twice
    expected = decode_manifold(window.mirror.model, latent.plane, u_range, v_range, 6).image
    np.testing.assert_array_equal(pixels, enlarge(to_uint8(expected), 2))


def test_reconstructions_png_shows_the_strip_originals_above_reconstructions(trained, tmp_path):
    window, ex = trained, exporter(trained)
    strip = window.recon_strip
    pixels = png(ex.export_reconstructions_png(tmp_path / "recon.png"))[..., 0]
    count = len(strip.indices)
    assert pixels.shape == (4 * (2 * 28 + SHEET_GAP), 4 * (count * 28 + (count - 1) * SHEET_GAP))
    np.testing.assert_array_equal(pixels[: 4 * 28, : 4 * 28], enlarge(to_uint8(strip.originals()[0]), 4))
    bottom = 4 * (28 + SHEET_GAP)
    np.testing.assert_array_equal(pixels[bottom:, : 4 * 28], enlarge(to_uint8(strip.reconstructions()[0]), 4))


def test_interpolation_gif_has_one_frame_per_step(trained, tmp_path):
    window, ex = trained, exporter(trained)
    latent = window.side_tabs.widget(0)
    latent.interpolation_box.steps.setValue(7)
    frames = latent.interpolation_images()
    assert len(frames) == 7
    with Image.open(ex.export_interpolation_gif(tmp_path / "path.gif")) as gif:
        assert gif.n_frames == 7 and gif.size == (112, 112) and gif.info["loop"] == 0
        gif.seek(6)
        last = np.asarray(gif.convert("L"))
    np.testing.assert_allclose(last[::4, ::4], to_uint8(frames[-1]), atol=1)


def test_metrics_csv_and_report_through_the_export_menu(trained, tmp_path, monkeypatch):
    window, ex = trained, exporter(trained)
    menu = ex.menu
    bar = window.menuBar().actions()  # Export sits just before Help
    assert bar.index(menu.menuAction()) == bar.index(window.menu_actions.help_menu.menuAction()) - 1
    ex.update_actions()
    # everything shown is on; the comparison's CSV is shown only while runs are compared
    assert all(a.isEnabled() for a in menu.actions() if not a.isSeparator() and a.isVisible())
    assert not ex.comparison_csv_action.isVisible()

    csv_path = tmp_path / "metrics.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(csv_path), ""))
    ex.metrics_action.trigger()
    rows = list(csv.DictReader(csv_path.open()))
    assert [int(r["epoch"]) for r in rows] == list(range(1, EPOCHS + 1))

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(tmp_path / "reports"))
    ex.report_action.trigger()
    (folder,) = (tmp_path / "reports").iterdir()
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [LOSS_PNG, LOSS_SVG, MAP_PNG, MAP_SVG, MANIFOLD_PNG, RECON_PNG, INTERPOLATION_GIF, METRICS_CSV,
         CONFIG_JSON, INDEX_HTML]
    )
    assert len(list(csv.DictReader((folder / METRICS_CSV).open()))) == EPOCHS
    config = json.loads((folder / CONFIG_JSON).read_text())
    assert config["dataset"] == "shapes" and config["model"]["z_dim"] == 2
    assert config["training"]["epochs"] == EPOCHS and config["progress"]["epochs_done"] == EPOCHS
    assert config["progress"]["global_step"] == window.plots.batch_data()["global_step"][-1]
    with Image.open(folder / INTERPOLATION_GIF) as gif:
        assert gif.n_frames == window.side_tabs.widget(0).interpolation_box.steps.value()
    assert window.banner.kind == "info" and str(folder) in window.banner.message()


def test_before_any_training_exports_say_what_to_do_first(window, tmp_path):
    ex = exporter(window)
    ex.update_actions()
    assert not ex.loss_png_action.isEnabled() and not ex.gif_action.isEnabled()
    with pytest.raises(ExportError, match="start training"):
        ex.export_loss_plots_png(tmp_path / "x.png")
    with pytest.raises(ExportError, match="Start training or open a checkpoint"):
        ex.export_latent_map_png(tmp_path / "x.png")
    with pytest.raises(ExportError, match="open a checkpoint"):
        ex.export_report(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["settings.ini"]  # no export file, only the test's settings


def test_a_failed_write_says_so_and_keeps_everything(trained, tmp_path, monkeypatch):
    window, ex = trained, exporter(trained)
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(blocker / "loss.png"), ""))
    ex.loss_png_action.trigger()
    assert window.banner.kind == "error" and "Could not write" in window.banner.message()
    assert blocker.read_text() == "not a folder" and window.plots.epoch_data()
