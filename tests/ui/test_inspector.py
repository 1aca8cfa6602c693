"""The encoder inspector shows the live model's numbers: read back from the bars, cells and images a user sees."""

import gc
import re
from collections import Counter

import numpy as np
import pytest
import torch
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QImage, QPainter

from vae_desktop.core.config import ModelConfig
from vae_desktop.core.datasets.base import ImageDataset, to_float
from vae_desktop.core.datasets.shapes import load_shapes
from vae_desktop.core.errors import ConfigError
from vae_desktop.core.inspection import dimension_activity
from vae_desktop.core.losses import kl_nats, reconstruction_nats
from vae_desktop.core.metrics import EpochMetrics
from vae_desktop.core.model import VAE
from vae_desktop.ui.inspector import InspectorPanel, style
from vae_desktop.ui.model_mirror import ModelMirror, state_to_numpy
from vae_desktop.ui.theme import DARK_NAME, LIGHT_NAME, contrast_ratio, theme_manager

Z_DIM = 3
MU, LOG_SIGMA, SIGMA, EPS, Z, KL, TEST_KL = 1, 2, 3, 4, 5, 6, 7  # table columns


@pytest.fixture(scope="module")
def shapes():
    return load_shapes(num_train=2000, num_test=500)


def _model(z_dim: int = Z_DIM, seed: int = 0) -> VAE:
    torch.manual_seed(seed)
    return VAE(ModelConfig(z_dim=z_dim, base_width=8, hidden=64)).eval()


@pytest.fixture
def model() -> VAE:
    return _model()


@pytest.fixture
def mirror(qtbot, shapes, model):
    mirror = ModelMirror()
    mirror.set_dataset(shapes)
    mirror.set_model(model.config, state_to_numpy(model))
    return mirror


@pytest.fixture
def panel(qtbot, mirror):
    panel = InspectorPanel(mirror, refresh_interval_ms=40, activity_interval_ms=80)
    qtbot.addWidget(panel, before_close_func=InspectorPanel.shutdown)
    panel.resize(800, 900)
    panel.show()
    return panel


def _x(shapes, index: int) -> torch.Tensor:
    return to_float(shapes.test_images[index : index + 1])


def _column(panel: InspectorPanel, column: int) -> np.ndarray:
    rows = panel.table.table_model.rowCount()
    return np.array([float(panel.table.cell(r, column).split()[0]) for r in range(rows)])


def _epoch(epoch: int, kl_per_dim) -> EpochMetrics:
    kl = float(sum(kl_per_dim))
    return EpochMetrics(epoch, 80.0, kl, 80.0 + kl, 81.0, kl, 81.0 + kl, 500.0, 2.0, tuple(kl_per_dim))


def test_clear_empty_state_before_a_model_exists(qtbot, shapes):
    mirror = ModelMirror()
    panel = InspectorPanel(mirror)
    qtbot.addWidget(panel, before_close_func=InspectorPanel.shutdown)
    assert panel.stack.currentWidget() is panel.empty_page
    assert "No model yet" in panel.empty_label.text()
    assert panel.inspection is None
    mirror.set_dataset(shapes)
    assert panel.stack.currentWidget() is panel.empty_page  # still no model
    model = _model()
    mirror.set_model(model.config, state_to_numpy(model))
    assert panel.stack.currentWidget() is panel.content_page
    assert "Test image #0" in panel.source_label.text()


def test_bars_are_the_raw_encoder_output_in_emission_order(panel, shapes, model):
    panel.show_test_image(5)
    raw = model.encoder_output(_x(shapes, 5))[0].detach().numpy()
    np.testing.assert_allclose(panel.raw_chart.values(), raw, rtol=1e-6, atol=1e-6)
    colors = panel.raw_chart.bar_colors()
    assert colors == [style.MEAN.lower()] * Z_DIM + [style.LOG_STD.lower()] * Z_DIM
    assert panel.raw_chart.divider.value() == pytest.approx(Z_DIM - 0.5)
    assert "Test image #5" in panel.source_label.text()
    assert f"outputs 0–{Z_DIM - 1} as the mean" in panel.raw_section.caption.text()


def test_mean_and_stddev_shown_equal_encode(panel, shapes, model):
    panel.show_test_image(7)
    mean, std = (t[0].detach().numpy() for t in model.encode(_x(shapes, 7)))
    np.testing.assert_allclose(_column(panel, MU), mean, atol=1e-4)
    np.testing.assert_allclose(_column(panel, SIGMA), std, rtol=1e-3)
    # The exp step: left bars log sigma (any sign), right bars sigma = exp(log sigma) > 0.
    np.testing.assert_allclose(panel.exp_step_chart.before_values(), np.log(std), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(panel.exp_step_chart.after_values(), std, rtol=1e-6)
    assert (panel.exp_step_chart.after_values() > 0).all()
    np.testing.assert_allclose(np.exp(_column(panel, LOG_SIGMA)), _column(panel, SIGMA), rtol=2e-3)


def test_sample_is_mean_plus_stddev_times_the_eps_shown(panel, shapes, model):
    panel.show_test_image(2)
    mu, sigma, eps, z = (_column(panel, c) for c in (MU, SIGMA, EPS, Z))
    np.testing.assert_allclose(z, mu + sigma * eps, atol=1e-3)
    np.testing.assert_allclose(panel.sample_chart.sample_positions(), panel.inspection.z, rtol=1e-6)
    np.testing.assert_allclose(eps, panel.eps, atol=1e-4)
    with torch.no_grad():
        decoded_sample = model.decode(torch.from_numpy(panel.inspection.z)[None])[0, 0].numpy()
        decoded_mean = model.decode(torch.from_numpy(panel.inspection.mean)[None])[0, 0].numpy()
    shown_sample = panel.sample_tile.shown_pixels().astype(int)
    shown_mean = panel.mean_tile.shown_pixels().astype(int)
    assert np.abs(shown_sample - np.rint(decoded_sample * 255)).max() <= 1
    assert np.abs(shown_mean - np.rint(decoded_mean * 255)).max() <= 1
    np.testing.assert_array_equal(panel.input_tile.shown_pixels(), shapes.test_images[2, 0].numpy())


def test_draw_again_changes_eps_and_z_consistently(qtbot, panel):
    from PySide6.QtCore import Qt

    panel.show_test_image(1)
    torch.manual_seed(42)
    global_state = torch.get_rng_state()
    mu, sigma, eps, z = (_column(panel, c) for c in (MU, SIGMA, EPS, Z))
    label_before = panel.draws_label.text()
    qtbot.mouseClick(panel.draw_button, Qt.MouseButton.LeftButton)
    mu2, sigma2, eps2, z2 = (_column(panel, c) for c in (MU, SIGMA, EPS, Z))
    np.testing.assert_array_equal(mu2, mu)
    np.testing.assert_array_equal(sigma2, sigma)
    assert not np.allclose(eps2, eps) and not np.allclose(z2, z)
    np.testing.assert_allclose(z2, mu2 + sigma2 * eps2, atol=1e-3)
    np.testing.assert_allclose(panel.sample_chart.sample_positions(), panel.inspection.z, rtol=1e-6)
    assert panel.draws_label.text() != label_before
    assert torch.equal(torch.get_rng_state(), global_state)  # the trainer's RNG is untouched


def test_per_dimension_kl_sums_to_the_image_kl_and_the_loss_is_shown(panel, shapes, model):
    panel.show_test_image(3)
    x = _x(shapes, 3)
    with torch.no_grad():
        kl = kl_nats(model.posterior(x))[0].item()
        z = torch.from_numpy(panel.inspection.z)[None]
        recon = reconstruction_nats(model.decode_logits(z), x)[0].item()
    bars = panel.kl_chart.values()
    assert bars.sum() == pytest.approx(kl, rel=1e-5)
    np.testing.assert_allclose(_column(panel, KL), bars, atol=1e-4)
    text = panel.loss_label.text()
    assert f"{recon:.2f}" in text and f"{kl:.2f}" in text and f"{recon + kl:.2f}" in text


def test_reconstruction_loss_kind_follows_the_run(panel, shapes, model):
    panel.show_test_image(3)
    bernoulli = panel.inspection.recon_of_sample
    panel.set_reconstruction_loss("gaussian")
    x = _x(shapes, 3)
    with torch.no_grad():
        expected = reconstruction_nats(model.decode_logits(torch.from_numpy(panel.inspection.z)[None]), x, "gaussian")
    assert panel.inspection.recon_of_sample == pytest.approx(expected.item(), rel=1e-5)
    assert panel.inspection.recon_of_sample != pytest.approx(bernoulli)
    assert "Gaussian" in panel.loss_label.text()
    with pytest.raises(ConfigError, match="bernoulli, gaussian"):
        panel.set_reconstruction_loss("laplace")
    assert panel.inspection.recon_loss == "gaussian"


def test_collapsed_dimension_is_marked_and_counted(qtbot, shapes):
    model = _model()
    last = model.encoder.net[-1]
    with torch.no_grad():
        last.weight[[0, 2]] *= 30.0  # dimensions 0 and 2: means that vary a lot from image to image
        for row in (1, Z_DIM + 1):  # dimension 1 ignores the image: mean 0, log-stddev 0, exactly the prior
            last.weight[row].zero_()
            last.bias[row] = 0.0
    mirror = ModelMirror()
    mirror.set_dataset(shapes)
    mirror.set_model(model.config, state_to_numpy(model))
    panel = InspectorPanel(mirror)
    qtbot.addWidget(panel, before_close_func=InspectorPanel.shutdown)
    assert panel.kl_chart.inactive_dimensions() == [1]
    assert f"1 of {Z_DIM} dimensions inactive" in panel.activity_label.text()
    assert "(inactive)" in panel.table.cell(1, TEST_KL)
    assert "(inactive)" not in panel.table.cell(0, TEST_KL)
    assert panel.kl_chart.values()[1] == pytest.approx(0.0, abs=1e-7)
    assert "Compare dimension 1, inactive" in panel.note_label.text()


def test_heat_map_gains_a_row_per_epoch(panel):
    assert panel.heatmap_empty.isVisibleTo(panel) and not panel.heatmap.isVisibleTo(panel)
    rows = [[0.0, 0.01, 0.02], [0.5, 0.0, 1.0], [0.9, 0.0, 1.4]]
    for epoch, row in enumerate(rows, start=1):
        panel.add_epoch(_epoch(epoch, row))
        shown = panel.heatmap.shown_matrix()
        assert shown.shape == (epoch, Z_DIM)
        np.testing.assert_allclose(shown[-1], row)
    assert panel.heatmap.isVisibleTo(panel) and not panel.heatmap_empty.isVisibleTo(panel)
    assert panel.heatmap.epoch_axis.epochs == [1, 2, 3]
    panel.add_epoch(_epoch(1, [0.2, 0.2, 0.2]))  # a new run starts the map over
    np.testing.assert_allclose(panel.heatmap.shown_matrix(), [[0.2, 0.2, 0.2]])


def test_the_heat_map_axis_reads_epoch_with_a_single_epoch(panel):
    panel.add_epoch(_epoch(1, [0.3, 0.0, 1.1]))
    axis = panel.heatmap.epoch_axis
    assert axis.labelString().count("epoch") == 1 and "x0." not in axis.labelString()  # not "epoch (x0.001)"
    assert "x0." not in panel.heatmap.color_bar.axis.labelString()
    image = QImage(8, 8, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    _, _, texts = axis.generateDrawSpecs(painter)
    painter.end()
    assert [text for _rect, _flags, text in texts] == ["1"]


def test_epoch_history_restores_the_heat_map(panel):
    panel.set_epoch_history([_epoch(e, [e * 0.1, 0.0, e * 0.3]) for e in (1, 2, 3, 4)])
    shown = panel.heatmap.shown_matrix()
    assert shown.shape == (4, Z_DIM)
    np.testing.assert_allclose(shown[:, 2], [0.3, 0.6, 0.9, 1.2])
    assert panel.heatmap.describe(2.0, 3.0) == "epoch 4, dimension 2: mean test KL 1.2000 nats"
    panel.set_epoch_history([])
    assert panel.heatmap.shown_matrix().shape[0] == 0 and panel.heatmap_empty.isVisibleTo(panel)


def test_weight_updates_refresh_the_numbers_throttled(qtbot, panel, mirror, shapes, monkeypatch):
    import vae_desktop.ui.inspector.panel as panel_module

    panel.show_test_image(4)
    eps = panel.eps
    calls = []
    original = panel_module.inspect_image
    monkeypatch.setattr(panel_module, "inspect_image", lambda *a, **k: calls.append(1) or original(*a, **k))
    trained = _model(seed=9)  # stand-in for fresher weights
    for _ in range(10):
        mirror.update_weights(state_to_numpy(trained))
    assert calls == []  # nothing recomputed synchronously: the updates are coalesced
    expected = trained.encoder_output(_x(shapes, 4))[0].detach().numpy()
    qtbot.waitUntil(lambda: np.allclose(panel.raw_chart.values(), expected, atol=1e-6), timeout=2000)
    qtbot.wait(200)  # past the activity pass too
    assert len(calls) == 1
    np.testing.assert_allclose(panel.kl_chart.values().sum(), panel.inspection.kl, rtol=1e-6)
    fresh = dimension_activity(trained, shapes.test_images)
    np.testing.assert_allclose(panel.activity.kl_per_dim, fresh.kl_per_dim, rtol=1e-5)  # the activity pass reran
    np.testing.assert_array_equal(panel.eps, eps)  # same noise: the change on screen comes from the weights


def test_a_hidden_panel_catches_up_when_shown(qtbot, panel, mirror, shapes, monkeypatch):
    import vae_desktop.ui.inspector.panel as panel_module

    panel.show_test_image(4)
    panel.hide()
    calls = []
    original = panel_module.inspect_image
    monkeypatch.setattr(panel_module, "inspect_image", lambda *a, **k: calls.append(1) or original(*a, **k))
    trained = _model(seed=9)
    for _ in range(5):
        mirror.update_weights(state_to_numpy(trained))
    qtbot.wait(150)
    assert calls == []  # hidden behind another tab: no work
    panel.show()
    expected = trained.encoder_output(_x(shapes, 4))[0].detach().numpy()
    np.testing.assert_allclose(panel.raw_chart.values(), expected, atol=1e-6)
    assert len(calls) == 1


def test_model_replaced_with_another_latent_size(qtbot, panel, mirror, shapes):
    bigger = _model(z_dim=5, seed=3)
    mirror.set_model(bigger.config, state_to_numpy(bigger))
    assert len(panel.raw_chart.values()) == 10
    assert len(panel.eps) == 5 and panel.table.table_model.rowCount() == 5
    np.testing.assert_allclose(
        panel.raw_chart.values(), bigger.encoder_output(_x(shapes, 0))[0].detach().numpy(), atol=1e-6
    )
    assert len(panel.kl_chart.values()) == 5


def test_dataset_change_resets_to_the_first_test_image(panel, mirror, shapes):
    panel.show_test_image(9)
    mirror.set_dataset(load_shapes(num_train=2000, num_test=500, seed=1))
    assert "Test image #0" in panel.source_label.text()
    assert panel.index_spin.value() == 0
    mirror.set_dataset(None)
    assert panel.stack.currentWidget() is panel.empty_page
    assert "No dataset" in panel.empty_label.text()


def test_spin_box_picks_a_test_image(panel, shapes, model):
    panel.index_spin.setValue(11)
    assert "Test image #11" in panel.source_label.text()
    raw = model.encoder_output(_x(shapes, 11))[0].detach().numpy()
    np.testing.assert_allclose(panel.raw_chart.values(), raw, atol=1e-6)
    panel.show_test_image(12)
    assert panel.index_spin.value() == 12


def test_out_of_range_index_is_a_message_not_a_crash(panel):
    panel.show_test_image(10_000)
    assert panel.stack.currentWidget() is panel.empty_page
    assert "#10000" in panel.empty_label.text()
    panel.show_test_image(0)
    assert panel.stack.currentWidget() is panel.content_page


def test_an_image_outside_the_test_set(panel, model):
    image = np.zeros((1, 28, 28), np.uint8)
    image[0, 8:20, 8:20] = 255
    panel.show_image(image)
    raw = model.encoder_output(to_float(torch.from_numpy(image)[None]))[0].detach().numpy()
    np.testing.assert_allclose(panel.raw_chart.values(), raw, atol=1e-6)
    assert "not from the test set" in panel.source_label.text()
    np.testing.assert_array_equal(panel.input_tile.shown_pixels(), image[0])


def test_an_image_of_the_wrong_shape_says_what_the_model_expects(panel):
    panel.show_image(np.zeros((3, 32, 32), np.uint8))
    assert panel.stack.currentWidget() is panel.empty_page
    assert "1-channel 28x28" in panel.empty_label.text()


def test_a_dataset_the_model_cannot_take_is_explained_not_inspected(panel, mirror):
    colour = ImageDataset(
        "colour", torch.zeros((4, 3, 28, 28), dtype=torch.uint8), torch.zeros(4, dtype=torch.int64),
        torch.zeros((2, 3, 28, 28), dtype=torch.uint8), torch.zeros(2, dtype=torch.int64), ["a"],
    )
    mirror.set_dataset(colour)  # the mirror refuses the pair: the panel says why, once, in the mirror's words
    assert panel.stack.currentWidget() is panel.empty_page and panel.inspection is None
    assert mirror.refusal is not None and mirror.refusal in panel.empty_label.text()


def test_how_it_learns_refers_to_the_numbers_on_screen(panel):
    panel.show_test_image(6)
    result = panel.inspection
    d = int(np.argmax(result.kl_per_dim))
    note = panel.note_label.text()
    assert "Nobody tells the network which half is the mean" in note
    assert f"dimension {d}" in note
    assert f"{result.mean[d]:+.3f}" in note and f"{result.log_std[d]:+.3f}" in note
    assert "http" not in note


def test_hover_readout_names_the_output_and_its_role(panel):
    panel.show_test_image(0)
    mean_text = panel.raw_chart.describe(0.1, 0.0)
    log_std_text = panel.raw_chart.describe(float(Z_DIM), 0.0)
    assert "mean μ0" in mean_text and f"{panel.inspection.raw[0]:+.4f}" in mean_text
    assert "log σ0" in log_std_text and f"{panel.inspection.std[0]:.4g}" in log_std_text
    assert panel.raw_chart.describe(-3.0, 0.0) is None


def test_moving_the_mouse_over_a_bar_reads_it_out(qtbot, panel):
    from PySide6.QtTest import QTest

    panel.show_test_image(0)
    plot = panel.raw_chart.plot
    bar = plot.getPlotItem().getViewBox().mapViewToScene(QPointF(1.0, 0.0))  # output 1: mean of dimension 1
    QTest.mouseMove(plot.viewport(), plot.mapFromScene(bar))
    qtbot.waitUntil(lambda: "mean μ1" in panel.raw_chart.readout.text(), timeout=1000)
    assert f"{panel.inspection.raw[1]:+.4f}" in panel.raw_chart.readout.text()


@pytest.mark.parametrize("z_dim", [1, 256])
def test_smallest_and_largest_latent_sizes(qtbot, shapes, z_dim):
    model = _model(z_dim=z_dim)
    mirror = ModelMirror()
    mirror.set_dataset(shapes)
    mirror.set_model(model.config, state_to_numpy(model))
    panel = InspectorPanel(mirror)
    qtbot.addWidget(panel, before_close_func=InspectorPanel.shutdown)
    assert len(panel.raw_chart.values()) == 2 * z_dim
    assert panel.table.table_model.rowCount() == z_dim
    assert len(panel.kl_chart.values()) == z_dim
    assert panel.kl_chart.values().sum() == pytest.approx(panel.inspection.kl, rel=1e-5)
    panel.add_epoch(_epoch(1, [0.1] * z_dim))
    assert panel.heatmap.shown_matrix().shape == (1, z_dim)


def test_live_training_fills_the_heat_map_and_leaves_the_run_reproducible(qtbot, panel, mirror, shapes):
    from vae_desktop.core.config import TrainConfig
    from vae_desktop.core.datasets.base import ImageDataset
    from vae_desktop.core.trainer import Trainer

    small = ImageDataset(
        "shapes", shapes.train_images[:1000], shapes.train_labels[:1000], shapes.test_images[:200],
        shapes.test_labels[:200], shapes.class_names,
    )  # fmt: skip

    def run(with_panel: bool) -> tuple[list[float], list[EpochMetrics]]:
        torch.manual_seed(0)
        model = VAE(ModelConfig(z_dim=Z_DIM, base_width=8, hidden=64))
        trainer = Trainer(model, small, TrainConfig(epochs=2, batch_size=250, seed=3, device="cpu"))
        losses, epochs = [], []
        for metrics in trainer.run():
            if isinstance(metrics, EpochMetrics):
                epochs.append(metrics)
                if with_panel:
                    panel.add_epoch(metrics)
            else:
                losses.append(metrics.total)
                if with_panel:  # what the GUI does between batches: new weights, a curious user
                    mirror.update_weights(state_to_numpy(model))
                    panel.draw_again()
                    qtbot.wait(1)
        return losses, epochs

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        losses_with, epochs = run(with_panel=True)
        losses_without, _ = run(with_panel=False)
    finally:
        torch.set_num_threads(threads)
    assert losses_with == losses_without  # the panel's noise never touches the trainer's random state
    shown = panel.heatmap.shown_matrix()
    assert shown.shape == (2, Z_DIM)
    np.testing.assert_allclose(shown, [e.kl_per_dim for e in epochs])


# ---- what the learner came for: the split, the rule, the numbering, readable colours --------------------------
def test_section_one_shows_the_line_of_code_and_marks_each_half_with_its_expression(panel):
    panel.show_test_image(0)
    caption = panel.raw_section.caption
    assert caption.isVisibleTo(panel), "the caption of ① is hidden"
    text = caption.text()
    assert f"mean, log_std = out[:, :{Z_DIM}], out[:, {Z_DIM}:]" in text
    assert f"outputs 0–{Z_DIM - 1} as the mean μ" in text and "numbered from 0" in text
    chart = panel.raw_chart
    assert chart.half_titles() == (f"μ = out[:, :{Z_DIM}]", f"log σ = out[:, {Z_DIM}:]")
    view = chart.plot.getPlotItem().getViewBox().sceneBoundingRect()
    mean_rect, log_std_rect = chart.mean_title.sceneBoundingRect(), chart.log_std_title.sceneBoundingRect()
    assert view.contains(mean_rect) and view.contains(log_std_rect), "a half's title is cut by the chart"
    assert not mean_rect.intersects(log_std_rect)
    divider = chart.plot.getPlotItem().getViewBox().mapViewToScene(QPointF(Z_DIM - 0.5, 0.0)).x()
    assert mean_rect.right() <= divider <= log_std_rect.left()  # each title over its own half


def _collapsed_mirror(shapes):
    model = _model()
    last = model.encoder.net[-1]
    with torch.no_grad():
        last.weight[[0, 2]] *= 30.0  # dimensions 0 and 2: means that vary a lot from image to image
        for row in (1, Z_DIM + 1):  # dimension 1 ignores the image: mean 0, log-stddev 0, exactly the prior
            last.weight[row].zero_()
            last.bias[row] = 0.0
    mirror = ModelMirror()
    mirror.set_dataset(shapes)
    mirror.set_model(model.config, state_to_numpy(model))
    return mirror


def test_inactive_is_defined_by_its_rule_with_active_units_and_so_far_until_training_ends(qtbot, shapes):
    panel = InspectorPanel(_collapsed_mirror(shapes))
    qtbot.addWidget(panel, before_close_func=InspectorPanel.shutdown)
    panel.set_planned_epochs(10)
    panel.add_epoch(_epoch(3, [1.0, 0.001, 2.0]))
    text = panel.activity_label.text()
    assert "1 of 3 dimensions inactive so far (after epoch 3 of 10)" in text
    assert "averaged over 500 test images, is below 0.05 nats" in text  # the rule, exactly
    assert "μ ≈ 0 and σ ≈ 1 for every image" not in text
    assert "Active units: <b>2 of 3</b>" in text and "Burda et al. 2015" in text and "exceeds 0.01" in text
    assert "posterior collapse" not in text
    assert "Var μ" in panel.table.table_model.headerData(8, Qt.Orientation.Horizontal)
    assert panel.table.cell(1, 8) == "0.0000" and float(panel.table.cell(0, 8)) > 0.01
    note = panel.note_label.text()
    assert "inactive so far" in note and "whatever the image" not in note
    assert f"KL {panel.inspection.kl_per_dim[1]:.2f} nats" in note  # this image's own numbers, not a claim

    panel.add_epoch(_epoch(10, [1.0, 0.001, 2.0]))
    text = panel.activity_label.text()
    assert "inactive after all 10 epochs" in text and "posterior collapse" in text


def _contrast_cases(panel):
    """(text colour, background colour) of every coloured header label as drawn."""
    header = panel.table.horizontalHeader()
    image = header.grab().toImage()
    model = panel.table.table_model
    for column in range(model.columnCount()):
        brush = model.headerData(column, Qt.Orientation.Horizontal, Qt.ItemDataRole.ForegroundRole)
        if brush is None:
            continue
        left = header.sectionViewportPosition(column)
        xs = range(left + 1, left + header.sectionSize(column) - 1)
        for y in (2, header.height() - 3):  # above and below the text: Fusion shades headers top to bottom
            row = Counter(image.pixelColor(x, y).name() for x in xs)
            background = row.most_common(1)[0][0]
            yield model.headerData(column, Qt.Orientation.Horizontal), brush.color(), QColor(background)


@pytest.mark.parametrize("theme_name", [DARK_NAME, LIGHT_NAME])
def test_coloured_table_headers_and_captions_read_in_both_themes(qtbot, shapes, theme_name):
    # Collect the garbage earlier tests left (pytest's own objects) now: collected in the middle of
    # this panel's first paint, after exactly these earlier tests, it crashed the test process.
    gc.collect()
    manager = theme_manager()
    manager.set_preference(theme_name)
    try:
        panel = InspectorPanel(_collapsed_mirror(shapes))
        qtbot.addWidget(panel, before_close_func=InspectorPanel.shutdown)
        panel.resize(900, 900)
        panel.show()
        qtbot.waitExposed(panel)
        cases = list(_contrast_cases(panel))
        assert {"μ (mean)", "KL (nats)"} <= {title for title, _, _ in cases}
        for title, text, background in cases:
            ratio = contrast_ratio(text, background)
            assert ratio >= 4.5, f"{title!r}: {text.name()} on {background.name()} is {ratio:.2f}:1"
        window = manager.theme.window
        for caption in (panel.exp_section.caption.text(), panel.activity_label.text()):
            for color in re.findall(r"<b style=.color:(#[0-9a-fA-F]{6})", caption):
                assert contrast_ratio(color, window) >= 4.5, f"{color} on {window}"
    finally:
        manager.set_preference("system")


def test_an_image_of_your_own_is_named_and_judged_against_the_test_images(panel, model):
    image = np.zeros((1, 28, 28), np.uint8)
    image[0, 8:20, 8:20] = 255
    panel.show_image(image, "square.png")
    assert "square.png" in panel.source_label.text() and "not from the test set" in panel.source_label.text()
    verdict = panel.typicality
    assert verdict is not None and verdict.count == 500
    assert panel.off_data_label.isVisibleTo(panel) == verdict.off_data
    panel.show_test_image(3)
    assert panel.typicality is None and not panel.off_data_label.isVisibleTo(panel)


def test_an_image_opened_on_the_map_is_followed_through_the_encoder_in_the_window(qtbot, make_window, settings, tmp_path):
    from PIL import Image

    from tests.ui.helpers import wait_for_state

    window = make_window(settings, epochs=1)
    window.start_button.click()
    wait_for_state(qtbot, window, "ready", timeout=60_000)
    latent, inspector = window.side_tabs.widget(0), window.side_tabs.widget(1)
    picture = np.zeros((30, 40), np.uint8)  # not the model's 28x28: letterboxed on the way in
    picture[5:25, 10:30] = 255
    Image.fromarray(picture).save(tmp_path / "my drawing.png")
    assert latent.open_image_file(tmp_path / "my drawing.png")
    assert "my drawing.png" in inspector.source_label.text() and "not from the test set" in inspector.source_label.text()
    shown = inspector.input_tile.shown_pixels()
    assert shown.shape == (28, 28) and shown[:3].max() == 0 and shown[-3:].max() == 0  # black bands, no squash
    expected = window.mirror.model.encoder_output(to_float(torch.from_numpy(shown[None, None].copy())))
    np.testing.assert_allclose(inspector.raw_chart.values(), expected[0].detach().numpy(), atol=1e-5)
    assert inspector.stage.planned == 1 and inspector.stage.done == 1
