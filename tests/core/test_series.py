import numpy as np
import pytest

from vae_desktop.core.series import (
    GrowingColumns,
    extend_trailing_mean,
    extend_window_centers,
    trailing_mean,
    window_centers,
)


def test_growing_columns_keep_every_row_in_order_across_growth():
    cols = GrowingColumns(2, capacity=4)
    blocks = [np.vstack([np.arange(i, i + k), -np.arange(i, i + k)]) for i, k in ((0, 3), (3, 5), (8, 100))]
    for block in blocks:
        cols.append(block)
    assert len(cols) == 108
    np.testing.assert_array_equal(cols.view()[0], np.arange(108))
    np.testing.assert_array_equal(cols.view()[1], -np.arange(108))
    cols.clear()
    assert len(cols) == 0 and cols.view().shape == (2, 0)


def test_growing_columns_refuse_a_block_of_the_wrong_width():
    with pytest.raises(ValueError):
        GrowingColumns(3).append(np.zeros((2, 4)))


def test_trailing_mean_averages_the_last_window_values():
    values = np.array([2.0, 4.0, 6.0, 8.0, 10.0])
    np.testing.assert_allclose(trailing_mean(values, 2), [2, 3, 5, 7, 9])
    np.testing.assert_allclose(trailing_mean(values, 3), [2, 3, 4, 6, 8])
    np.testing.assert_allclose(trailing_mean(values, 1), values)
    assert trailing_mean(np.array([]), 5).size == 0


def test_incremental_smoothing_equals_smoothing_everything_at_once():
    rng = np.random.default_rng(0)
    values = rng.normal(100, 5, size=5000)
    whole = trailing_mean(values, 50)
    pieces, done = [], 0
    for k in rng.integers(1, 200, size=200):
        if done >= values.size:
            break
        pieces.append(extend_trailing_mean(values[:done], values[done : done + k], 50))
        done += k
    np.testing.assert_allclose(np.concatenate(pieces), whole, rtol=1e-12)


def test_window_centres_put_a_trailing_mean_in_the_middle_of_its_window():
    steps = np.array([1.0, 2.0, 3.0, 4.0, 6.0])
    centers = window_centers(steps, 3)
    assert np.isnan(centers[:2]).all()
    np.testing.assert_allclose(centers[2:], [2.0, 3.0, 4.5])
    # A linear trend smoothed and re-positioned lands back on the trend: no lag.
    values = 3 * steps
    np.testing.assert_allclose(trailing_mean(values, 3)[2:4], 3 * centers[2:4])


def test_incremental_window_centres_equal_computing_them_at_once():
    steps = np.cumsum(np.random.default_rng(1).integers(1, 3, size=300)).astype(float)
    whole = window_centers(steps, 20)
    pieces = [extend_window_centers(steps[:k], steps[k : k + 7], 20) for k in range(0, 300, 7)]
    np.testing.assert_array_equal(np.concatenate(pieces), whole)


def test_loss_trace_is_bounded_evenly_spaced_and_spans_the_whole_run():
    from vae_desktop.core.series import LossTrace

    rng = np.random.default_rng(1)
    n = 10_000
    steps = np.arange(1, n + 1, dtype=np.float64)
    recon, kl = rng.normal(100, 5, n), rng.normal(3, 1, n)
    trace = LossTrace(window=20, max_rows=1000)
    done = 0
    for k in rng.integers(1, 300, size=400):
        if done >= n:
            break
        trace.append(steps[done : done + k], recon[done : done + k], kl[done : done + k])
        done += k
        assert len(trace) <= 1000
    data = trace.arrays()
    assert 500 < len(trace) <= 1000 and trace.stride == 16
    assert data["global_step"][0] == 1 and data["global_step"][-1] > n - trace.stride
    np.testing.assert_array_equal(np.diff(data["global_step"]), trace.stride)  # evenly spaced
    # Kept rows hold the exact raw values, and trailing means over every batch, not the kept ones.
    kept = data["global_step"].astype(int) - 1
    np.testing.assert_array_equal(data["recon"], recon[kept])
    np.testing.assert_allclose(data["recon_smoothed"], trailing_mean(recon, 20)[kept], rtol=1e-12)
    np.testing.assert_allclose(data["kl_smoothed"], trailing_mean(kl, 20)[kept], rtol=1e-12)
    np.testing.assert_allclose(data["smoothed_step"][2:], window_centers(steps, 20)[kept][2:])


def test_loss_trace_takes_a_huge_history_at_once_and_resets():
    from vae_desktop.core.series import LossTrace

    trace = LossTrace(window=5, max_rows=100)
    trace.append(np.arange(1.0, 1001.0), np.ones(1000), np.zeros(1000))
    assert len(trace) <= 100 and trace.arrays()["global_step"][0] == 1
    trace.reset(window=3)
    assert len(trace) == 0 and trace.stride == 1 and trace.window == 3
    trace.append(np.array([1.0, 2.0]), np.array([4.0, 6.0]), np.array([1.0, 1.0]))
    np.testing.assert_allclose(trace.arrays()["recon_smoothed"], [4.0, 5.0])
