"""The latent explorer's state without Qt: what it holds, what it announces, and the plane it implies."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vae_desktop.core.config import ModelConfig
from vae_desktop.core.explorer import PLANE_DIMS, PLANE_PCA, ExplorerState, Inspected
from vae_desktop.core.inference import decode_images
from vae_desktop.core.latent import pca_plane
from vae_desktop.core.model import VAE


class Recorder:
    """Every signal the state emits, in order, with its arguments."""

    def __init__(self, state: ExplorerState) -> None:
        self.events: list[tuple] = []
        for name in ("reset", "plane_changed", "handles_changed", "handle_moved", "handle_dragged",
                     "selection_changed", "interpolation_changed", "decode_changed", "inspected_changed"):
            getattr(state, name).connect(lambda *args, name=name: self.events.append((name, *args)))

    def names(self) -> list[str]:
        return [event[0] for event in self.events]

    def clear(self) -> None:
        self.events.clear()


def test_adding_and_removing_handles_announces_it_and_keeps_selection_and_pair() -> None:
    state = ExplorerState(2)
    seen = Recorder(state)
    a = state.add_handle_at(0.5, -1.0)
    b = state.add_handle(np.array([1.0, 2.0]), source="photo.png")
    assert seen.names() == ["handles_changed", "handles_changed"]
    np.testing.assert_allclose(a.z, [0.5, -1.0])  # z_dim 2: the map is the latent space
    assert state.selected_name == b.name and state.handles.pair == (a.name, b.name)
    state.remove_handle(b.name)
    assert state.selected_name == a.name and state.handles.pair == (a.name, None)
    assert state.interpolation_path() is None


def test_the_plane_follows_the_selection_only_for_two_chosen_dimensions_of_more() -> None:
    assert not ExplorerState(2).plane_follows_selection
    state = ExplorerState(5)
    assert state.plane_mode == PLANE_PCA and not state.plane_follows_selection and state.uses_pca
    state.set_plane(PLANE_DIMS, (3, 1), by_hand=True)
    assert state.plane_follows_selection and not state.uses_pca and state.plane_dims == (3, 1)
    a = state.add_handle(np.arange(5.0))
    b = state.add_handle(-np.arange(5.0))
    seen = Recorder(state)
    state.select(a.name)
    assert seen.names() == ["plane_changed", "selection_changed"]
    # The dims plane holds the other dimensions at the selected handle's values: a lies on it, b does not.
    assert state.on_plane(a.z) and not state.on_plane(b.z)
    np.testing.assert_allclose(state.plane.to_latent(state.plane.to_map(b.z))[[0, 2, 4]], a.z[[0, 2, 4]])

    state.set_plane(PLANE_PCA)
    seen.clear()
    state.select(b.name)  # on the PCA plane the selection moves nothing
    assert seen.names() == ["selection_changed"]


def test_a_slider_edit_of_the_selected_handle_moves_the_dims_plane_but_a_drag_never_does() -> None:
    state = ExplorerState(4)
    state.set_plane(PLANE_DIMS, (0, 1))
    handle = state.add_handle(np.array([0.0, 0.0, 1.0, 2.0]))
    seen = Recorder(state)
    state.set_value(handle.name, 3, -1.5)
    assert seen.names() == ["plane_changed", "handle_moved"] and seen.events[1] == ("handle_moved", handle.name)
    assert state.on_plane(handle.z)
    seen.clear()
    state.drag(handle.name, 0.25, 0.75)
    assert seen.events == [("handle_dragged", handle.name, 0.25, 0.75)]
    np.testing.assert_allclose(handle.z, [0.25, 0.75, 1.0, -1.5])  # the other dimensions kept


def test_a_handle_off_the_pca_plane_keeps_its_offset_while_dragged_and_snaps_back() -> None:
    rng = np.random.default_rng(0)
    state = ExplorerState(3)
    state.set_pca(pca_plane(rng.normal(size=(200, 3)) * [3.0, 1.0, 0.1]))
    handle = state.add_handle(np.array([0.3, -0.2, 2.0]))  # the data hardly varies along z2
    assert not state.on_plane(handle.z)
    text, off = state.plane_status()
    assert off and "off the map plane" in text
    distance = float(state.plane.distance_from_plane(handle.z))
    state.drag(handle.name, 1.0, 1.0)
    assert float(state.plane.distance_from_plane(handle.z)) == pytest.approx(distance)
    np.testing.assert_allclose(state.plane.to_map(handle.z), [1.0, 1.0], atol=1e-9)
    state.snap_to_plane(handle.name)
    assert state.on_plane(handle.z) and "lies on the map plane" in state.plane_status()[0]


def test_the_dims_plane_shows_the_most_active_dimensions_until_the_user_picks() -> None:
    means = np.zeros((100, 4))
    means[:, 2] = np.linspace(-5, 5, 100)
    means[:, 3] = np.linspace(-2, 2, 100) ** 2
    state = ExplorerState(4)
    state.set_plane(PLANE_DIMS, means=means)
    assert set(state.dims) == {2, 3}
    state.set_plane(PLANE_DIMS, (0, 1), by_hand=True)
    state.suggest_dims(means)  # a later encoding never overrides the user's choice
    assert state.dims == (0, 1)


def test_an_inspected_image_becomes_a_handle_named_after_its_source_not_its_title() -> None:
    state = ExplorerState(2)
    seen = Recorder(state)
    state.inspect(Inspected("Test image #12 · circle", "Test image #12", np.zeros((1, 8, 8), np.uint8), 12))
    assert state.add_inspected_as_handle() is None  # not encoded yet: no posterior to place it at
    state.set_posterior(np.array([0.5, 0.25]), np.array([1.0, 1.0]))
    handle = state.add_inspected_as_handle()
    assert handle is not None and handle.source == "Test image #12"
    np.testing.assert_allclose(handle.z, [0.5, 0.25])
    assert seen.names() == ["inspected_changed", "handles_changed"]


def test_interpolation_follows_the_pair_and_the_steps() -> None:
    state = ExplorerState(2)
    a = state.add_handle(np.zeros(2))
    b = state.add_handle(np.ones(2))
    c = state.add_handle(np.full(2, 3.0))
    assert state.interpolation_path().shape == (8, 2)
    seen = Recorder(state)
    state.set_steps(3)
    state.set_pair_end(1, c.name)
    assert seen.names() == ["interpolation_changed", "interpolation_changed"]
    np.testing.assert_allclose(state.interpolation_path(), [[0, 0], [1.5, 1.5], [3, 3]])
    assert state.handles.pair == (a.name, c.name) and b.name in state.handles
    with pytest.raises(ValueError):
        state.set_steps(1)


def test_a_new_model_starts_the_handles_over_and_keeps_the_modes() -> None:
    state = ExplorerState(3)
    state.set_plane(PLANE_DIMS, (2, 0), by_hand=True)
    state.set_sample(True)
    state.add_handle(np.ones(3))
    seen = Recorder(state)
    state.reset_model(6)
    assert seen.names() == ["reset"]
    assert state.z_dim == 6 and len(state.handles) == 0 and state.inspected is None
    assert state.plane_mode == PLANE_DIMS and state.dims == (0, 1) and state.sample


def test_starting_handles_sit_either_side_of_the_data_and_follow_it_until_touched() -> None:
    state = ExplorerState(2)
    means = np.random.default_rng(1).normal(size=(300, 2)) + [4.0, -1.0]
    state.place_initial_handles(means)
    assert len(state.handles) == 2 and state.handles_untouched()
    centre = np.mean([h.z for h in state.handles], axis=0)
    np.testing.assert_allclose(centre, np.median(means, axis=0), atol=1e-9)
    state.place_initial_handles(means + 10.0, move=True)
    np.testing.assert_allclose(np.mean([h.z for h in state.handles], axis=0), np.median(means + 10.0, axis=0))
    state.drag(state.handles.names[0], 0.0, 0.0)
    assert not state.handles_untouched()


def test_sampled_decoding_keeps_its_noise_until_resampled() -> None:
    torch.manual_seed(0)
    model = VAE(ModelConfig(z_dim=2, base_width=8, hidden=64)).eval()
    state = ExplorerState(2)
    z = np.array([[0.1, -0.3]])
    np.testing.assert_allclose(state.decoding.decode(model, z), decode_images(model, z))
    seen = Recorder(state)
    state.set_sample(True)
    first = state.decoding.decode(model, z)
    assert set(np.unique(first)) <= {0.0, 1.0}
    np.testing.assert_array_equal(state.decoding.decode(model, z), first)
    state.resample()
    assert not np.array_equal(state.decoding.decode(model, z), first)
    assert seen.names() == ["decode_changed", "decode_changed"]
