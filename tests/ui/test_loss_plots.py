"""Loss plots: what is plotted equals what arrived, smoothing, epochs, toggles, hover readout, big histories,
readable log-scale ticks, and exports of the whole run."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage, QPainter

from vae_desktop.core.metrics import BatchMetrics, EpochMetrics
from vae_desktop.core.series import MAX_TRACE_ROWS, trailing_mean
from vae_desktop.ui.loss_plots import LossPlots, smoothing_window


def _batch(step: int, recon: float, kl: float) -> BatchMetrics:
    return BatchMetrics(epoch=1 + (step - 1) // 50, step=1 + (step - 1) % 50, steps_per_epoch=50, global_step=step,
                        recon=recon, kl=kl, total=recon + kl, samples_per_s=1000.0)


def _epoch(epoch: int, recon: float, kl: float) -> EpochMetrics:
    return EpochMetrics(epoch, recon, kl, recon + kl, recon - 1, kl + 0.5, recon + kl - 0.5, 1000.0, 1.0)


@pytest.fixture
def plots(qtbot) -> LossPlots:
    widget = LossPlots()
    qtbot.addWidget(widget)
    widget.resize(800, 500)
    widget.show()
    widget.reset(steps_per_epoch=50)
    return widget


def test_bundles_of_batches_are_plotted_in_full_and_smoothed_like_the_whole_series(plots):
    rng = np.random.default_rng(0)
    recon = 200 + rng.normal(0, 5, 120)
    kl = 5 + rng.normal(0, 1, 120)
    for start in range(0, 120, 7):
        plots.append_batches([_batch(i + 1, recon[i], kl[i]) for i in range(start, min(start + 7, 120))])
    data = plots.batch_data()
    np.testing.assert_array_equal(data["global_step"], np.arange(1, 121))
    np.testing.assert_array_equal(data["recon"], recon)
    window = smoothing_window(50)
    np.testing.assert_allclose(data["recon_smoothed"], trailing_mean(recon, window))
    np.testing.assert_allclose(data["kl_smoothed"], trailing_mean(kl, window))

    plots.redraw_now()
    curve = plots.recon.raw
    np.testing.assert_allclose(curve.xData, np.arange(1, 121) / 50)  # the x axis is in epochs
    np.testing.assert_array_equal(curve.yData, recon)
    sx = plots.kl.smooth.xData
    assert sx[0] == pytest.approx((1 + window) / 2 / 50)  # trailing means drawn at their window's centre


def test_epochs_replace_later_ones_and_are_drawn_for_train_and_test(plots):
    plots.add_epoch(_epoch(1, 150, 4))
    plots.add_epoch(_epoch(2, 120, 5))
    plots.add_epoch(_epoch(2, 110, 6))  # the same epoch again (a rolled-back run) replaces it
    assert [(e.epoch, e.train_recon) for e in plots.epoch_data()] == [(1, 150), (2, 110)]
    plots.redraw_now()
    np.testing.assert_array_equal(plots.recon.train.yData, [150, 110])
    np.testing.assert_array_equal(plots.recon.test.yData, [149, 109])
    np.testing.assert_array_equal(plots.kl.test.yData, [4.5, 6.5])


def test_hover_reads_the_nearest_values(plots):
    plots.append_batches([_batch(i, 100.0 + i, 2.0) for i in range(1, 101)])
    plots.add_epoch(_epoch(1, 130, 3))
    text = plots.show_values_at(40 / 50)  # step 40
    assert "step 40" in text and "recon 140.0" in text and "KL 2" in text
    assert "epoch 1</b> train/test" in text
    assert plots.recon.cursor.isVisible() and plots.recon.cursor.value() == pytest.approx(0.8)


def test_log_scale_and_follow_latest_toggles(plots, qtbot):
    plots.append_batches([_batch(i, 100.0 / i, 0.0 if i < 5 else 1.0) for i in range(1, 301)])
    plots.log_scale.setChecked(True)
    plots.redraw_now()
    assert plots.recon.plot.getAxis("left").logMode
    plots.follow_latest.setChecked(True)
    plots.redraw_now()
    low, high = plots.kl.plot.getViewBox().viewRange()[0]
    assert low == pytest.approx(6 - 2, abs=0.01) and high >= 6
    # Panning by hand hands the view back to the user.
    plots.kl.plot.getViewBox().sigRangeChangedManually.emit([True, False])
    assert not plots.follow_latest.isChecked()


def test_a_million_points_are_thinned_to_a_bounded_trace_and_drawn_downsampled(plots):
    n = 1_000_000
    steps = np.arange(1, n + 1, dtype=np.float64)
    recon = 100 + np.sin(steps / 1000)
    plots.set_history(steps, recon, np.full(n, 3.0), [], steps_per_epoch=500)
    plots.redraw_now()
    plots.canvas.grab()  # paint once, so the curve computes what it shows
    data = plots.batch_data()
    kept = len(data["recon"])
    assert MAX_TRACE_ROWS // 2 < kept <= MAX_TRACE_ROWS  # bounded, however long the run
    assert data["global_step"][0] == 1 and data["global_step"][-1] > n - plots.point_stride  # spans the whole run
    np.testing.assert_array_equal(data["recon"], recon[data["global_step"].astype(int) - 1])
    shown_x, _ = plots.recon.raw.getData()  # what is drawn, after clipping and downsampling
    assert len(plots.recon.raw.xData) == kept and len(shown_x) < 20_000  # peak-downsampled to the plot's width
    plots.append_arrays(np.arange(n + 1.0, n + 1.0 + plots.point_stride), np.full(plots.point_stride, 50.0),
                        np.ones(plots.point_stride))
    assert plots.batch_data()["recon"][-1] == 50.0


def test_live_batches_beyond_the_bound_thin_the_plot_but_keep_its_values(qtbot):
    widget = LossPlots(max_points=64)
    qtbot.addWidget(widget)
    widget.reset(steps_per_epoch=50)
    rng = np.random.default_rng(2)
    recon = 200 + rng.normal(0, 5, 1000)
    for start in range(0, 1000, 7):
        widget.append_batches([_batch(i + 1, recon[i], 1.0) for i in range(start, min(start + 7, 1000))])
        assert len(widget.batch_data()["global_step"]) <= 64
    data = widget.batch_data()
    assert widget.point_stride == 16
    np.testing.assert_array_equal(data["global_step"], np.arange(1, 1001, 16))
    np.testing.assert_allclose(data["recon_smoothed"], trailing_mean(recon, smoothing_window(50))[::16])


def _drawn_tick_labels(axis) -> list[tuple[QRectF, str]]:
    """The tick labels an axis draws: (rectangle, text) each, as its paint computes them."""
    image = QImage(8, 8, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        _, _, texts = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return [(rect, text) for rect, _flags, text in texts]


@pytest.mark.parametrize("height", [420, 600, 900])
def test_log_scale_tick_labels_never_overlap_and_read_as_plain_numbers(qtbot, height):
    widget = LossPlots()
    qtbot.addWidget(widget)
    widget.resize(700, height)
    widget.show()
    widget.reset(steps_per_epoch=50)
    steps = np.arange(1.0, 601.0)
    widget.append_arrays(steps, np.geomspace(540.0, 42.0, 600), np.geomspace(0.03, 18.0, 600))
    widget.log_scale.setChecked(True)
    widget.redraw_now()
    for loss_plot in (widget.recon, widget.kl):
        labels = _drawn_tick_labels(loss_plot.plot.getAxis("left"))
        assert len(labels) >= 2, labels
        for (a, text_a), (b, text_b) in itertools.combinations(labels, 2):
            assert not a.intersects(b), f"{text_a!r} and {text_b!r} overlap"
        for _rect, text in labels:
            float(text)  # "200", not "2·10²"


def test_an_export_shows_the_whole_run_even_while_following_the_latest_epochs(plots):
    for epoch in range(1, 13):
        plots.append_arrays(np.arange((epoch - 1) * 50 + 1.0, epoch * 50 + 1.0), np.full(50, 300.0 / epoch),
                            np.full(50, 2.0 + epoch))
        plots.add_epoch(_epoch(epoch, 300.0 / epoch, 2.0 + epoch))
    plots.follow_latest.setChecked(True)
    plots.redraw_now()
    following = plots.kl.plot.getViewBox().viewRange()[0]
    assert following[0] >= 9.5  # on screen: the last two epochs
    with plots.showing_whole_run():
        x_range = plots.kl.plot.getViewBox().viewRange()[0]
        y_range = plots.recon.plot.getViewBox().viewRange()[1]
        whole = _drawn_tick_labels(plots.kl.plot.getAxis("bottom"))
    assert x_range[0] <= 0.02 and x_range[1] >= 12.0
    assert y_range[0] <= 25.0 and y_range[1] >= 300.0  # every epoch's values, not only the last ones'
    assert {"0", "12"} <= {text for _rect, text in whole}
    assert plots.follow_latest.isChecked()
    np.testing.assert_allclose(plots.kl.plot.getViewBox().viewRange()[0], following)  # the screen is as it was
