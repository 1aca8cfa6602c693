"""The latent map's job scheduling: pacing by superqt's throttle, the CPU budget, and replaced models."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vae_desktop.core.config import ModelConfig
from vae_desktop.core.latent import identity_plane, subset_indices
from vae_desktop.core.latent_map import MapResult
from vae_desktop.core.model import VAE
from vae_desktop.ui.latent.scheduler import VIEW_REFRESH_MS, WEIGHTS_REFRESH_MS, MapScheduler
from vae_desktop.ui.model_mirror import ModelMirror, state_to_numpy


def _mirror(z_dim: int = 2, seed: int = 0) -> ModelMirror:
    torch.manual_seed(seed)
    model = VAE(ModelConfig(z_dim=z_dim, base_width=8, hidden=64))
    mirror = ModelMirror()
    mirror.set_model(model.config, state_to_numpy(model))
    return mirror


@pytest.fixture
def scheduled(qtbot):
    """A scheduler on a real mirror that counts its refreshes and collects its results."""
    made: list[MapScheduler] = []

    def make(mirror: ModelMirror) -> tuple[MapScheduler, dict[str, int], list[MapResult]]:
        calls = {"weights": 0, "view": 0}
        results: list[MapResult] = []
        scheduler = MapScheduler(
            mirror,
            lambda: calls.__setitem__("weights", calls["weights"] + 1),
            lambda: calls.__setitem__("view", calls["view"] + 1),
        )
        scheduler.resultReady.connect(results.append)
        made.append(scheduler)
        return scheduler, calls, results

    yield make
    for scheduler in made:
        scheduler.shutdown()


def test_weight_updates_refresh_at_once_then_once_per_pause(qtbot, scheduled) -> None:
    scheduler, calls, _ = scheduled(_mirror())
    for _ in range(10):
        scheduler.weights_updated()
    assert calls["weights"] == 1  # the first runs now (leading edge); the burst coalesces...
    qtbot.waitUntil(lambda: calls["weights"] == 2, timeout=3 * WEIGHTS_REFRESH_MS)  # ...into one at the pause's end
    qtbot.wait(WEIGHTS_REFRESH_MS + 200)
    assert calls["weights"] == 2  # and nothing more without new weights


def test_view_changes_coalesce_too(qtbot, scheduled) -> None:
    scheduler, calls, _ = scheduled(_mirror())
    for _ in range(5):
        scheduler.view_changed()
    assert calls["view"] == 1
    qtbot.waitUntil(lambda: calls["view"] == 2, timeout=10 * VIEW_REFRESH_MS)


def test_a_job_runs_off_thread_and_its_cost_sets_the_next_pause(qtbot, scheduled, small_shapes) -> None:
    mirror = _mirror()
    mirror.set_dataset(small_shapes)
    scheduler, _, results = scheduled(mirror)
    indices = subset_indices(small_shapes.num_test, 500)
    subset = (indices, small_shapes.test_images[indices].numpy(), small_shapes.test_labels[indices].numpy())
    scheduler.submit(identity_plane(2), False, subset, ((-3.0, 3.0), (-3.0, 3.0)), 8)
    qtbot.waitUntil(lambda: len(results) == 1, timeout=15_000)
    result = results[0]
    assert result.version == mirror.version and result.points is not None and result.manifold is not None
    np.testing.assert_array_equal(result.points.indices, indices)
    assert scheduler.weights_interval_ms >= WEIGHTS_REFRESH_MS  # never faster than twice a second
    assert scheduler.weights_interval_ms == min(10_000, max(WEIGHTS_REFRESH_MS, round(1000 * result.seconds / 0.05)))


def test_results_of_a_replaced_model_are_dropped(qtbot, scheduled, small_shapes) -> None:
    mirror = _mirror()
    mirror.set_dataset(small_shapes)
    scheduler, _, results = scheduled(mirror)
    scheduler.submit(identity_plane(2), False, None, ((-3.0, 3.0), (-3.0, 3.0)), 8)
    torch.manual_seed(4)
    replacement = VAE(ModelConfig(z_dim=2, base_width=8, hidden=64))
    mirror.set_model(replacement.config, state_to_numpy(replacement))
    scheduler.model_replaced()  # before the worker's result reaches the GUI thread
    qtbot.wait(1500)
    assert results == []
    scheduler.submit(identity_plane(2), False, None, ((-3.0, 3.0), (-3.0, 3.0)), 8)
    qtbot.waitUntil(lambda: len(results) == 1, timeout=15_000)
    assert results[0].version == mirror.version


def test_a_job_for_another_latent_size_is_never_submitted(qtbot, scheduled) -> None:
    mirror = _mirror(z_dim=3)
    scheduler, _, results = scheduled(mirror)
    scheduler.submit(identity_plane(2), False, None, ((-3.0, 3.0), (-3.0, 3.0)), 8)  # the old model's plane
    qtbot.wait(300)
    assert results == [] and not scheduler.worker.isRunning()


def test_shutdown_joins_the_worker_and_is_idempotent(qtbot, scheduled, small_shapes) -> None:
    mirror = _mirror()
    mirror.set_dataset(small_shapes)
    scheduler, calls, results = scheduled(mirror)
    scheduler.submit(identity_plane(2), False, None, ((-3.0, 3.0), (-3.0, 3.0)), 16)
    scheduler.shutdown()
    assert not scheduler.worker.isRunning()
    scheduler.shutdown()
    scheduler.weights_updated()
    scheduler.submit(identity_plane(2), False, None, ((-3.0, 3.0), (-3.0, 3.0)), 8)
    qtbot.wait(200)
    assert calls["weights"] == 0 and not scheduler.worker.isRunning()
