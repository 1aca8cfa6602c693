"""The training history stays bounded however long a run goes, and survives a checkpoint round trip."""

import numpy as np

from vae_desktop.core.history import TrainingHistory
from vae_desktop.core.metrics import BatchMetrics


def _batch(step: int) -> BatchMetrics:
    return BatchMetrics(1, step, 10**6, step, recon=100.0 + step % 7, kl=3.0, total=103.0, samples_per_s=1.0)


def test_the_batch_trace_is_bounded_and_still_spans_the_run():
    history = TrainingHistory(max_points=100)
    for step in range(1, 5001):
        history.add_batch(_batch(step))
        assert len(history) <= 100
    steps = history.batch_arrays()["global_step"]
    assert len(steps) > 50 and steps[0] == 1 and steps[-1] > 4900
    assert np.all(np.diff(steps) > 0)


def test_a_thinned_history_round_trips_and_keeps_thinning_at_the_same_rate():
    history = TrainingHistory(max_points=64)
    for step in range(1, 1001):
        history.add_batch(_batch(step))
    restored = TrainingHistory.from_state(history.to_state())
    for name, values in history.batch_arrays().items():
        np.testing.assert_array_equal(restored.batch_arrays()[name], values)
    for step in range(1001, 3001):
        history.add_batch(_batch(step))
        restored.add_batch(_batch(step))
    assert len(restored) <= 64
    np.testing.assert_array_equal(restored.batch_arrays()["global_step"], history.batch_arrays()["global_step"])
