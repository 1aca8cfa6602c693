"""The latent explorer, driven like a user would: real mouse drags, clicks, keys, sliders, files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from tests.ui.mouse import drag_path, mouse_click, mouse_double_click, mouse_move, mouse_press, mouse_release
from vae_desktop.core.config import ModelConfig, TrainConfig
from vae_desktop.core.datasets.base import ImageDataset
from vae_desktop.core.datasets.shapes import load_shapes
from vae_desktop.core.inference import decode_images, encode_means
from vae_desktop.core.latent import grid_points, identity_plane, pca_plane
from vae_desktop.core.model import VAE
from vae_desktop.core.trainer import Trainer
from vae_desktop.ui.latent_panel import LatentPanel
from vae_desktop.ui.model_mirror import ModelMirror, state_to_numpy

LEFT = Qt.MouseButton.LeftButton


@pytest.fixture(scope="module")
def shapes() -> ImageDataset:
    return load_shapes(num_train=2000, num_test=500)


def small_config(z_dim: int) -> ModelConfig:
    return ModelConfig(z_dim=z_dim, base_width=8, hidden=64)


def make_mirror(z_dim: int, dataset: ImageDataset | None, seed: int = 0) -> ModelMirror:
    torch.manual_seed(seed)
    model = VAE(small_config(z_dim))
    mirror = ModelMirror()
    mirror.set_dataset(dataset)
    mirror.set_model(model.config, state_to_numpy(model))
    return mirror


@pytest.fixture
def open_panel(qtbot):
    def make(mirror: ModelMirror, wait_for_points: bool = True) -> LatentPanel:
        panel = LatentPanel(mirror)
        qtbot.addWidget(panel, before_close_func=LatentPanel.shutdown)
        panel.resize(1100, 720)
        panel.show()
        qtbot.waitExposed(panel)
        if wait_for_points:
            qtbot.waitUntil(lambda: panel.map_version == mirror.version, timeout=15_000)
        qtbot.wait(50)
        return panel

    return make


def decode_one(mirror: ModelMirror, z: np.ndarray) -> np.ndarray:
    return decode_images(mirror.model, np.asarray(z)[None])[0]


def handle_point(panel: LatentPanel, name: str) -> QPoint:
    u, v = panel.plane.to_map(panel.handles.get(name).z)
    return panel.map_view.point_to_widget(u, v)


def real_drag(qtbot, panel: LatentPanel, start: QPoint, end: QPoint, steps: int = 8) -> list[np.ndarray]:
    """Press, move with the button held (one image snapshot per move), release."""
    viewport = panel.map_view.viewport()
    mouse_move(viewport, start)
    qtbot.wait(15)
    mouse_press(viewport, start)
    seen = []
    for point in drag_path(start, end, steps):
        qtbot.wait(12)  # pyqtgraph drops moves closer than 10 ms apart
        mouse_move(viewport, point, LEFT)
        seen.append(panel.selected_image().copy())
    mouse_release(viewport, end)
    return seen


# ---- empty state and model changes -------------------------------------------------------------------
def test_shows_an_empty_state_until_a_model_exists(qtbot, shapes) -> None:
    mirror = ModelMirror()
    panel = LatentPanel(mirror)
    qtbot.addWidget(panel, before_close_func=LatentPanel.shutdown)
    assert not panel.showing_map and "No model yet" in panel.empty_label.text()
    torch.manual_seed(0)
    model = VAE(small_config(3))
    mirror.set_dataset(shapes)
    mirror.set_model(model.config, state_to_numpy(model))
    assert panel.showing_map
    assert panel.sliders.z_dim == 3
    qtbot.waitUntil(lambda: panel.map_version == mirror.version, timeout=15_000)
    assert len(panel.handles) == 2  # placed around the centre of the encoded data
    qtbot.waitUntil(lambda: panel.selected_image() is not None, timeout=5_000)  # decoded on the next turn
    np.testing.assert_allclose(panel.selected_image(), decode_one(mirror, panel.handles.selected.z), atol=1e-6)

    # A different architecture replaces everything z-shaped.
    model16 = VAE(small_config(16))
    mirror.set_model(model16.config, state_to_numpy(model16))
    assert panel.sliders.z_dim == 16 and panel.handles.z_dim == 16
    qtbot.waitUntil(lambda: panel.map_version == mirror.version, timeout=15_000)
    assert all(h.z.shape == (16,) for h in panel.handles)


def test_works_without_a_dataset(open_panel) -> None:
    mirror = make_mirror(2, None)
    panel = open_panel(mirror, wait_for_points=False)
    assert len(panel.handles) == 2
    np.testing.assert_allclose(panel.selected_image(), decode_one(mirror, panel.handles.selected.z), atol=1e-6)
    assert "No dataset" in panel.status_label.text()


# ---- scatter, hover, click ------------------------------------------------------------------------------
def test_scatter_shows_encoded_test_means_with_class_legend(open_panel, shapes) -> None:
    mirror = make_mirror(2, shapes)
    panel = open_panel(mirror)
    indices, uv = panel.scatter()
    np.testing.assert_array_equal(indices, np.arange(500))
    means, _ = encode_means(mirror.model, shapes.test_images)
    np.testing.assert_allclose(uv, means, atol=1e-5)  # z_dim == 2: the map is the latent plane
    legend = panel.map_view.legend_names()
    assert legend == shapes.class_names


def test_the_legend_names_the_classes_before_the_first_points_arrive(qtbot, shapes) -> None:
    """Made with the model, not in the first map refresh: that refresh was the GUI thread's longest task
    as training starts (bench_gui_latency --explain: 31 ms of GUI-thread CPU, now about half)."""
    mirror = make_mirror(2, shapes)
    panel = LatentPanel(mirror)  # no event loop turn yet: the map's first encoding cannot have arrived
    qtbot.addWidget(panel, before_close_func=LatentPanel.shutdown)
    assert panel.map_view.legend_names() == shapes.class_names
    assert len(panel.scatter()[0]) == 0
    mirror.set_dataset(load_shapes(num_train=200, num_test=100))  # the same classes: the items are kept
    assert panel.map_view.legend_names() == shapes.class_names


def test_clicking_a_point_inspects_it_and_emits_its_index(qtbot, open_panel, shapes) -> None:
    mirror = make_mirror(2, shapes)
    panel = open_panel(mirror)
    indices, uv = panel.scatter()
    target = 137
    point = panel.map_view.point_to_widget(*uv[target])
    with qtbot.waitSignal(panel.testImageSelected, timeout=2000) as signal:
        mouse_click(panel.map_view.viewport(), point)
    clicked = signal.args[0]
    # Several points can share a pixel; whichever was picked must be under the cursor.
    assert (panel.map_view.point_to_widget(*uv[clicked]) - point).manhattanLength() <= 8
    box = panel.inspected_box
    assert f"#{clicked}" in box.title_label.text()
    np.testing.assert_allclose(box.original.image(), shapes.test_images[clicked, 0].numpy() / 255.0, atol=1e-6)
    mean, std = encode_means(mirror.model, shapes.test_images[clicked : clicked + 1])
    np.testing.assert_allclose(box.reconstruction.image(), decode_one(mirror, mean[0]), atol=1e-6)
    outline = panel.map_view.ellipse_outline()
    np.testing.assert_allclose(outline.min(0), mean[0] - std[0], atol=1e-3)
    np.testing.assert_allclose(outline.max(0), mean[0] + std[0], atol=1e-3)


def test_hovering_a_point_shows_its_image(qtbot, open_panel, shapes) -> None:
    panel = open_panel(make_mirror(2, shapes))
    _, uv = panel.scatter()
    mouse_move(panel.map_view.viewport(), panel.map_view.point_to_widget(*uv[42]))
    thumbnail = panel.map_view.hover_thumbnail()
    assert thumbnail.isVisible() and not thumbnail.pixmap().isNull()
    mouse_move(panel.map_view.viewport(), QPoint(3, 3))  # outside the plot area
    qtbot.wait(15)
    mouse_move(panel.map_view.viewport(), QPoint(4, 4))
    assert not thumbnail.isVisible()


# ---- dragging -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("z_dim", [2, 4])
def test_a_real_mouse_drag_moves_the_handle_and_decodes_live(qtbot, open_panel, shapes, z_dim) -> None:
    mirror = make_mirror(z_dim, shapes)
    panel = open_panel(mirror)
    name = panel.handles.names[1]  # not the selected one: the drag selects it
    z_before = panel.handles.get(name).z.copy()
    start = handle_point(panel, name)
    end = start + QPoint(-90, 60)
    seen = real_drag(qtbot, panel, start, end)

    handle = panel.handles.get(name)
    assert panel.handles.selected.name == name
    u, v = panel.plane.to_map(handle.z)
    landed = panel.map_view.point_to_widget(u, v)
    assert (landed - end).manhattanLength() <= 2  # the handle followed the mouse
    np.testing.assert_allclose(handle.z, panel.plane.to_latent([u, v]), atol=1e-9)  # still on the plane
    assert not np.allclose(handle.z, z_before)
    item = panel.map_view.handle_item(name)
    np.testing.assert_allclose([item.pos().x(), item.pos().y()], [u, v], atol=1e-9)
    np.testing.assert_allclose(panel.selected_image(), decode_one(mirror, handle.z), atol=1e-6)
    # Live: the image changed while the button was still down, not only on release.
    changes = sum(not np.array_equal(a, b) for a, b in zip(seen, seen[1:], strict=False))
    assert changes >= len(seen) - 3
    np.testing.assert_allclose(seen[-1], panel.selected_image())


def test_double_click_adds_a_handle_delete_and_arrow_keys(qtbot, open_panel, shapes) -> None:
    mirror = make_mirror(2, shapes)
    panel = open_panel(mirror)
    view = panel.map_view
    (u0, u1), (v0, v1) = view.visible_range()
    target = np.array([u0 + 0.8 * (u1 - u0), v0 + 0.2 * (v1 - v0)])
    mouse_double_click(view.viewport(), view.point_to_widget(*target))
    assert panel.handles.names == ["A", "B", "C"] and panel.handles.selected.name == "C"
    np.testing.assert_allclose(panel.handles.get("C").z, target, atol=(u1 - u0) / 100)

    before = panel.handles.get("C").z.copy()
    qtbot.keyClick(view, Qt.Key.Key_Right)
    qtbot.keyClick(view, Qt.Key.Key_Up, Qt.KeyboardModifier.ShiftModifier)
    moved = panel.handles.get("C").z
    np.testing.assert_allclose(moved - before, [0.02 * (u1 - u0), 0.1 * (v1 - v0)], rtol=1e-6)
    np.testing.assert_allclose(panel.selected_image(), decode_one(mirror, moved), atol=1e-6)

    qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert panel.handles.names == ["A", "B"]
    with qtbot.waitSignal(view.handleMenuRequested, timeout=2000) as menu_request:
        mouse_click(view.viewport(), handle_point(panel, "A"), Qt.MouseButton.RightButton)
    assert menu_request.args[0] == "A"
    popup = QApplication.activePopupWidget()
    assert popup is not None and "Delete handle A" in [a.text() for a in popup.actions()]
    popup.close()
    menu = panel.handle_menu("A")
    next(a for a in menu.actions() if a.text() == "Delete handle A").trigger()
    assert panel.handles.names == ["B"] and panel.interpolation_images() is None


# ---- planes and sliders ---------------------------------------------------------------------------------------------
def test_pca_and_chosen_dimension_planes_place_points_and_handles(qtbot, open_panel, shapes) -> None:
    mirror = make_mirror(5, shapes)
    panel = open_panel(mirror)
    means, _ = encode_means(mirror.model, shapes.test_images)
    expected = pca_plane(means)
    np.testing.assert_allclose(panel.plane.origin, expected.origin, atol=1e-4)
    np.testing.assert_allclose(panel.scatter()[1], expected.to_map(means), atol=1e-3)

    panel.set_plane_mode("dims", (3, 1))
    assert panel.controls.u_combo.isVisible() and panel.plane.label_u == "z3"  # z[:, 3]: numbered from 0
    np.testing.assert_allclose(panel.scatter()[1], means[:, [3, 1]], atol=1e-5)
    selected = panel.handles.selected
    other = [d for d in range(5) if d not in (3, 1)]
    np.testing.assert_allclose(panel.plane.origin[other], selected.z[other])  # others held at the handle
    for handle in panel.handles:
        item = panel.map_view.handle_item(handle.name)
        np.testing.assert_allclose([item.pos().x(), item.pos().y()], handle.z[[3, 1]], atol=1e-9)

    # A drag in this mode changes only the two chosen dimensions.
    z_before = selected.z.copy()
    real_drag(qtbot, panel, handle_point(panel, selected.name), handle_point(panel, selected.name) + QPoint(40, 30))
    z_after = panel.handles.get(selected.name).z
    np.testing.assert_array_equal(z_after[other], z_before[other])
    assert not np.allclose(z_after[[3, 1]], z_before[[3, 1]])


def test_slider_edits_change_z_and_image_and_leave_the_pca_plane(qtbot, open_panel, shapes) -> None:
    mirror = make_mirror(4, shapes)
    panel = open_panel(mirror)
    name = panel.handles.selected.name
    assert "lies on the map plane" in panel.plane_status.text()
    image_before = panel.selected_image().copy()
    _, slider, spin = panel.sliders.row_widgets(2)
    slider.setValue(slider.value() + 150)  # what a user drag of the slider does
    z = panel.handles.get(name).z
    assert spin.value() == pytest.approx(z[2])
    np.testing.assert_allclose(panel.selected_image(), decode_one(mirror, z), atol=1e-6)
    assert not np.allclose(panel.selected_image(), image_before)
    assert panel.plane.distance_from_plane(z) > 0.01
    assert "off the map plane" in panel.plane_status.text() and panel.snap_button.isVisibleTo(panel)
    assert panel.map_view.handle_item(name).pen.style() == Qt.PenStyle.DashLine

    spin.setValue(-0.5)  # typing an exact number
    assert panel.handles.get(name).z[2] == pytest.approx(-0.5)

    panel.snap_button.click()
    assert panel.plane.distance_from_plane(panel.handles.get(name).z) < 1e-9
    assert "lies on the map plane" in panel.plane_status.text()

    # Dragging the handle on the map updates the sliders (coalesced to one update per frame).
    real_drag(qtbot, panel, handle_point(panel, name), handle_point(panel, name) + QPoint(30, -20))
    qtbot.waitUntil(lambda: np.allclose(panel.sliders.values(), panel.handles.get(name).z, atol=1e-9))


def test_sliders_cover_every_dimension_of_a_large_latent_space(open_panel, shapes) -> None:
    mirror = make_mirror(64, shapes)
    panel = open_panel(mirror)
    assert panel.sliders.z_dim == 64
    _, slider, _ = panel.sliders.row_widgets(63)
    slider.setValue(200)
    assert panel.handles.selected.z[63] == pytest.approx(2.0)


# ---- interpolation, manifold, sampling ------------------------------------------------------------------------------
def test_interpolation_endpoints_are_the_handles_decodings(open_panel, shapes) -> None:
    mirror = make_mirror(3, shapes)
    panel = open_panel(mirror)
    panel.interpolation_box.steps.setValue(6)
    images = panel.interpolation_images()
    start, end = panel.handles.pair
    assert images.shape == (6, 28, 28)
    np.testing.assert_allclose(images[0], decode_one(mirror, panel.handles.get(start).z), atol=1e-6)
    np.testing.assert_allclose(images[-1], decode_one(mirror, panel.handles.get(end).z), atol=1e-6)
    panel.add_handle_at(1.0, 1.0)
    panel.interpolation_box.end_combo.setCurrentText("C")
    np.testing.assert_allclose(
        panel.interpolation_images()[-1], decode_one(mirror, panel.handles.get("C").z), atol=1e-6
    )


def test_manifold_tiles_are_decodings_of_the_visible_grid(qtbot, open_panel, shapes) -> None:
    mirror = make_mirror(2, shapes)
    panel = open_panel(mirror)
    panel.set_grid_size(6)
    view = panel.map_view
    view.set_visible_range((-2.0, 2.0), (-1.0, 1.0))  # the 1:1 aspect lock may widen one side

    def shows_current_view() -> bool:
        return view.manifold_image() is not None and np.allclose(view.manifold_range(), view.visible_range())

    qtbot.waitUntil(shows_current_view, timeout=10_000)
    mosaic = view.manifold_image()
    rows, columns = mosaic.shape[0] // 28, mosaic.shape[1] // 28
    assert max(rows, columns) == 6 and min(rows, columns) >= 1
    points = grid_points(*view.manifold_range(), rows, columns)
    np.testing.assert_allclose(mosaic[:28, -28:], decode_one(mirror, points[0, -1]), atol=1e-6)
    np.testing.assert_allclose(mosaic[-28:, :28], decode_one(mirror, points[-1, 0]), atol=1e-6)
    panel.controls.manifold_check.setChecked(False)
    assert not view.manifold_visible()


def test_sampled_decoding_is_binary_resamples_and_leaves_the_global_rng_alone(open_panel, shapes) -> None:
    mirror = make_mirror(2, shapes)
    panel = open_panel(mirror)
    mean_image = panel.selected_image().copy()
    rng_before = torch.get_rng_state()
    panel.controls.decode_combo.setCurrentIndex(1)
    sample = panel.selected_image().copy()
    assert set(np.unique(sample)) <= {0.0, 1.0}
    assert panel.controls.resample_button.isEnabled()
    panel.controls.resample_button.click()
    assert not np.array_equal(panel.selected_image(), sample)
    assert torch.equal(rng_before, torch.get_rng_state())
    panel.set_decode_sample(False)
    np.testing.assert_allclose(panel.selected_image(), mean_image, rtol=1e-6)  # batched decode: float32 rounding


# ---- files -----------------------------------------------------------------------------------------------------------
def test_opening_and_dropping_image_files_places_handles(qtbot, open_panel, shapes, tmp_path: Path) -> None:
    mirror = make_mirror(2, shapes)
    panel = open_panel(mirror)
    picture = shapes.test_images[7, 0].numpy()
    Image.fromarray(picture).save(tmp_path / "shape.png")
    assert panel.open_image_file(tmp_path / "shape.png")
    handle = panel.handles.selected
    mean, _ = encode_means(mirror.model, shapes.test_images[7:8])
    np.testing.assert_allclose(handle.z, mean[0], atol=1e-5)
    assert handle.source == "shape.png" and "shape.png" in panel.handle_title.text()

    Image.fromarray(255 - picture).save(tmp_path / "inverted.png")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(tmp_path / "inverted.png"))])
    no_modifier = Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(QPoint(200, 200), Qt.DropAction.CopyAction, mime, LEFT, no_modifier)
    QApplication.sendEvent(panel.map_view.viewport(), enter)  # Qt delivers a drop only after an accepted enter
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(200, 200), Qt.DropAction.CopyAction, mime, LEFT, no_modifier)
    QApplication.sendEvent(panel.map_view.viewport(), drop)
    assert panel.handles.selected.source == "inverted.png"

    count = len(panel.handles)
    (tmp_path / "notes.png").write_text("hello")
    assert not panel.open_image_file(tmp_path / "notes.png")
    assert len(panel.handles) == count and "not an image" in panel.status_label.text()


# ---- training --------------------------------------------------------------------------------------------------------
def test_keeps_working_while_training_updates_the_weights(qtbot, open_panel, shapes) -> None:
    torch.manual_seed(0)
    model = VAE(small_config(3))
    trainer = Trainer(model, shapes, TrainConfig(epochs=5, batch_size=100, lr=3e-3, seed=1, device="cpu"))
    mirror = ModelMirror()
    mirror.set_dataset(shapes)
    mirror.set_model(model.config, state_to_numpy(trainer.model))
    panel = open_panel(mirror)
    first_version = mirror.version
    steps = trainer.run()

    def train_step() -> None:  # the training worker's role: a step, then fresh weights to the mirror
        next(steps, None)
        mirror.update_weights(state_to_numpy(trainer.model))

    timer = QTimer()
    timer.timeout.connect(train_step)
    timer.start(15)
    try:
        qtbot.waitUntil(lambda: mirror.version >= first_version + 10, timeout=20_000)
        name = panel.handles.names[0]
        real_drag(qtbot, panel, handle_point(panel, name), handle_point(panel, name) + QPoint(50, 40))
        np.testing.assert_allclose(panel.selected_image(), decode_one(mirror, panel.handles.get(name).z), atol=1e-6)
        qtbot.waitUntil(lambda: panel.map_version > first_version + 3, timeout=20_000)  # scatter refreshed
    finally:
        timer.stop()
    # Once training pauses, the map catches up with the final weights.
    qtbot.waitUntil(lambda: panel.map_version == mirror.version, timeout=15_000)
    means, _ = encode_means(mirror.model, shapes.test_images)
    np.testing.assert_allclose(panel.scatter()[1], pca_plane(means).to_map(means), atol=1e-3)
    np.testing.assert_allclose(panel.selected_image(), decode_one(mirror, panel.handles.selected.z), atol=1e-6)


def test_identity_plane_for_two_dims_hides_the_plane_choice(open_panel, shapes) -> None:
    panel = open_panel(make_mirror(2, shapes))
    assert not panel.controls.plane_combo.isVisibleTo(panel)
    assert "latent plane" in panel.controls.fixed_plane_label.text()
    np.testing.assert_array_equal(panel.plane.axes, identity_plane(2).axes)


# ---- lifecycle ---------------------------------------------------------------------------------------------------------
def test_results_computed_for_a_replaced_model_are_dropped(qtbot, open_panel, shapes) -> None:
    mirror = make_mirror(2, shapes)
    panel = open_panel(mirror)
    torch.manual_seed(5)
    replacement = VAE(small_config(3))
    panel.set_grid_size(25)  # queue work for the old model, then replace it before it can land
    mirror.set_model(replacement.config, state_to_numpy(replacement))
    qtbot.waitUntil(lambda: panel.map_version == mirror.version, timeout=15_000)
    qtbot.wait(200)
    means, _ = encode_means(mirror.model, shapes.test_images)
    np.testing.assert_allclose(panel.scatter()[1], pca_plane(means).to_map(means), atol=1e-3)
    assert all(h.z.shape == (3,) for h in panel.handles)


def test_a_closed_panel_shown_again_keeps_updating(qtbot, open_panel, shapes) -> None:
    mirror = make_mirror(2, shapes)
    panel = open_panel(mirror)
    panel.close()
    panel.show()
    torch.manual_seed(9)
    other = VAE(small_config(2))
    mirror.update_weights(state_to_numpy(other))
    qtbot.waitUntil(lambda: panel.map_version == mirror.version, timeout=15_000)


def test_dataset_changes_re_encode_and_a_mismatched_dataset_is_explained(qtbot, open_panel, shapes) -> None:
    mirror = make_mirror(2, shapes)
    panel = open_panel(mirror)
    smaller = load_shapes(num_train=2000, num_test=500, seed=3)
    mirror.set_dataset(smaller)
    qtbot.waitUntil(lambda: panel.map_version == mirror.version, timeout=15_000)
    means, _ = encode_means(mirror.model, smaller.test_images)
    np.testing.assert_allclose(panel.scatter()[1], means, atol=1e-5)

    colour = ImageDataset(
        "colour", torch.zeros((4, 3, 32, 32), dtype=torch.uint8), torch.zeros(4, dtype=torch.int64),
        torch.zeros((2, 3, 32, 32), dtype=torch.uint8), torch.zeros(2, dtype=torch.int64), ["a"],
    )
    mirror.set_dataset(colour)
    assert len(panel.scatter()[0]) == 0
    assert "does not fit" in panel.status_label.text() or "expects" in panel.status_label.text()
    panel.add_handle_at(0.5, 0.5)  # handles keep working without points
    np.testing.assert_allclose(panel.selected_image(), decode_one(mirror, [0.5, 0.5]), atol=1e-6)


def test_a_hidden_panel_does_no_work_for_new_weights_and_catches_up_when_shown(qtbot, open_panel, shapes) -> None:
    """Behind another tab, training's weight updates cost nothing here; showing the panel brings it up to date."""
    mirror = make_mirror(2, shapes)
    panel = open_panel(mirror)
    before_image = panel.selected_image().copy()
    before_map = panel.map_version
    panel.hide()
    torch.manual_seed(9)
    other = VAE(small_config(2))
    mirror.update_weights(state_to_numpy(other))
    qtbot.wait(300)
    np.testing.assert_array_equal(panel.selected_image(), before_image)  # nothing decoded while hidden
    assert panel.map_version == before_map  # and nothing encoded

    panel.show()
    qtbot.waitUntil(lambda: panel.map_version == mirror.version, timeout=15_000)
    selected = panel.handles.selected
    np.testing.assert_allclose(panel.selected_image(), decode_images(other, selected.z[None])[0], rtol=1e-5, atol=1e-6)


# ---- one numbering, useful defaults -----------------------------------------------------------------------------------
def _mirror_with_unused_first_dimensions(shapes: ImageDataset) -> ModelMirror:
    """z_dim 4 where the encoder ignores the image in dimensions 0 and 1 (constant means) and uses 2 and 3 most."""
    torch.manual_seed(0)
    model = VAE(small_config(4))
    last = model.encoder.net[-1]
    with torch.no_grad():
        last.weight[[0, 1]] = 0.0
        last.bias[[0, 1]] = 0.0
        last.weight[2] *= 40.0
        last.weight[3] *= 20.0
    mirror = ModelMirror()
    mirror.set_dataset(shapes)
    mirror.set_model(model.config, state_to_numpy(model))
    return mirror


def test_two_dimension_mode_starts_on_the_two_most_active_dimensions(qtbot, open_panel, shapes) -> None:
    mirror = _mirror_with_unused_first_dimensions(shapes)
    panel = open_panel(mirror)
    means, _ = encode_means(mirror.model, shapes.test_images)
    expected = tuple(int(d) for d in np.argsort(-means.var(axis=0))[:2])
    assert set(expected) == {2, 3}
    panel.controls.plane_combo.setCurrentIndex(panel.controls.plane_combo.findData("dims"))  # as a user picks it
    assert panel.controls.dims == expected
    assert (panel.plane.label_u, panel.plane.label_v) == tuple(f"z{d}" for d in expected)
    spread = panel.scatter()[1].std(axis=0)
    np.testing.assert_allclose(spread, means[:, list(expected)].std(axis=0), rtol=1e-4)
    assert (spread > 0.1).all() and np.allclose(means[:, [0, 1]].std(axis=0), 0.0)  # z0/z1: every image at one point
    panel.controls.v_combo.setCurrentIndex(0)  # the user's own choice then stays
    panel.set_plane_mode("pca")
    panel.set_plane_mode("dims")
    assert panel.controls.dims == (expected[0], 0)


def test_every_view_numbers_the_dimensions_from_zero_like_the_code(qtbot, open_panel, shapes) -> None:
    from vae_desktop.ui.inspector import InspectorPanel

    mirror = make_mirror(4, shapes)
    panel = open_panel(mirror)
    inspector = InspectorPanel(mirror)
    qtbot.addWidget(inspector, before_close_func=InspectorPanel.shutdown)
    panel.set_plane_mode("dims", (3, 1))
    controls = panel.controls
    assert [controls.u_combo.itemText(i) for i in range(4)] == ["z0", "z1", "z2", "z3"]
    assert controls.u_combo.currentText() == "z3" and controls.v_combo.currentText() == "z1"
    bottom = panel.map_view.getPlotItem().getAxis("bottom").labelText
    left = panel.map_view.getPlotItem().getAxis("left").labelText
    assert (bottom, left) == ("z3", "z1")
    assert "varies z3 and z1" in panel.plane_status.text()
    label, slider, _spin = panel.sliders.row_widgets(3)
    assert label.text() == "z3" and "bold" in label.styleSheet() and slider.accessibleName() == "z3"
    assert [panel.sliders.row_widgets(d)[0].text() for d in range(4)] == ["z0", "z1", "z2", "z3"]
    # The inspector: dimension 3 is row 3, bar 3, output 3 (μ) and output 4 + 3 (log σ), as out[:, 3].
    assert inspector.table.cell(3, 0) == "3"
    assert "dimension 3" in inspector.kl_chart.describe(3.0, 0.0)
    assert "of dimension 3" in inspector.raw_chart.describe(3.0, 0.0)
    assert "of dimension 3" in inspector.raw_chart.describe(7.0, 0.0)
    ticks = inspector.kl_chart.plot.getPlotItem().getAxis("bottom")._tickLevels[0]
    assert [text for _value, text in ticks] == ["0", "1", "2", "3"]


def test_the_plane_of_a_two_dimensional_model_is_named_z0_z1(open_panel, shapes) -> None:
    panel = open_panel(make_mirror(2, shapes))
    assert panel.controls.fixed_plane_label.text() == "the latent plane (z0, z1)"
    assert panel.map_view.getPlotItem().getAxis("bottom").labelText == "z0"


# ---- opened images: letterboxed, inspectable, judged --------------------------------------------------------------
def test_an_opened_image_is_sent_to_the_inspector_and_an_unlike_one_is_flagged(qtbot, open_panel, shapes, tmp_path):
    torch.manual_seed(0)
    model = VAE(small_config(2))
    for _ in Trainer(model, shapes, TrainConfig(epochs=1, batch_size=50, lr=2e-3, device="cpu")).run():
        pass
    mirror = ModelMirror()
    mirror.set_dataset(shapes)
    mirror.set_model(model.config, state_to_numpy(model))
    panel = open_panel(mirror)
    opened = []
    panel.imageOpened.connect(lambda image, name: opened.append((image, name)))

    Image.fromarray(shapes.test_images[7, 0].numpy()).save(tmp_path / "shape.png")
    assert panel.open_image_file(tmp_path / "shape.png")
    assert opened[-1][1] == "shape.png"
    np.testing.assert_array_equal(opened[-1][0], shapes.test_images[7].numpy())
    assert "unlike the training data" not in panel.status_label.text()

    photo = np.full((480, 640), 255, np.uint8)  # a photo of a dark blob on white paper: the inverse of the data
    photo[140:340, 220:420] = 0
    Image.fromarray(photo).save(tmp_path / "photo.png")
    assert panel.open_image_file(tmp_path / "photo.png")
    image, name = opened[-1]
    assert name == "photo.png" and image.shape == (1, 28, 28)
    assert image[0, :3].min() > 240 and image[0, -3:].min() > 240  # letterboxed with the photo's white
    assert "unlike the training data" in panel.status_label.text()


def test_during_a_drag_the_image_follows_every_move_and_the_sliders_once_it_rests(qtbot, open_panel, shapes) -> None:
    """The decoded image is set before each move returns; the sliders wait for a 30 ms rest (superqt's debounce)."""
    mirror = make_mirror(4, shapes)
    panel = open_panel(mirror)
    qtbot.waitUntil(lambda: panel.selected_image() is not None, timeout=5_000)
    state = panel.state
    name = state.selected_name
    start = state.plane.to_map(state.handles.get(name).z)
    for step in range(1, 6):
        state.drag(name, float(start[0]) + 0.1 * step, float(start[1]))
        z = state.handles.get(name).z
        np.testing.assert_allclose(panel.selected_image(), decode_one(mirror, z), atol=1e-6)
        assert not np.allclose(panel.sliders.values(), z, atol=1e-9)  # not yet: no slider work per move
    qtbot.waitUntil(lambda: np.allclose(panel.sliders.values(), state.handles.get(name).z, atol=1e-9), timeout=2_000)
