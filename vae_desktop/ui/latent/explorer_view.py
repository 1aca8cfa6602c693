"""Draws the latent explorer's state: handle markers, path, ellipse, sliders, plane note, decoded images.

`ExplorerView` subscribes to `ExplorerState`'s signals and redraws what each change touches, so no
caller has to remember which parts to update. Decodes run on the GUI thread with the mirror's model
(one small batch, about a millisecond), so a drag never waits for anything else.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from superqt.utils import qdebounced

from vae_desktop.core.explorer import ExplorerState
from vae_desktop.core.inference import encode_means
from vae_desktop.core.latent import posterior_ellipse
from vae_desktop.core.mosaic import tile_mosaic
from vae_desktop.ui.latent.layout import LatentWidgets
from vae_desktop.ui.model_mirror import ModelMirror

SLIDER_SYNC_MS = 30  # during a drag the sliders follow once the mouse rests this long


def display_image(image: np.ndarray) -> np.ndarray:
    """uint8 (C, H, W) to float (H, W) or (H, W, C) in [0, 1]."""
    array = np.asarray(image, dtype=np.float32) / 255.0
    return array[0] if array.shape[0] == 1 else array.transpose(1, 2, 0)


class ExplorerView:
    """Keeps the panel's widgets in step with the state (plain object: the widgets are Qt's)."""

    def __init__(
        self, state: ExplorerState, mirror: ModelMirror, widgets: LatentWidgets, selected_image_set: Callable[[], None]
    ) -> None:
        self._state = state
        self._mirror = mirror
        self._w = widgets
        self._selected_image_set = selected_image_set
        self.interpolation: np.ndarray | None = None  # the decoded images along the path
        self._sync_sliders_soon = qdebounced(self.sync_sliders, SLIDER_SYNC_MS, parent=widgets.sliders)
        state.plane_changed.connect(self.redraw_plane)
        state.handles_changed.connect(self._on_handles_changed)
        state.handle_moved.connect(self._on_handle_moved)
        state.handle_dragged.connect(self._on_handle_dragged)
        state.selection_changed.connect(self._on_selection_changed)
        state.interpolation_changed.connect(self._on_interpolation_changed)
        state.decode_changed.connect(self._on_decode_changed)
        state.inspected_changed.connect(self._on_inspected_changed)

    # ---- reactions -------------------------------------------------------------------------------
    def redraw_plane(self) -> None:
        """Re-project everything z-shaped onto the shown plane (z values never change)."""
        state, w = self._state, self._w
        plane = state.plane
        one_dim = state.z_dim == 1  # the map is a line; its vertical axis means nothing
        w.map_view.set_axis_labels(plane.label_u, "(no second latent dimension)" if one_dim else plane.label_v)
        w.sliders.set_highlighted(state.plane_dims)
        w.controls.show_plane(state.plane_mode, state.dims)
        self.sync_handles()
        self.update_path()
        self.update_ellipse()
        self.update_plane_status()

    def _on_handles_changed(self) -> None:
        self.sync_handles()
        self.update_path()
        self.update_plane_status()
        self._w.interpolation_box.set_handles(self._state.handles.names, self._state.handles.pair)
        self.show_selected()
        self.sync_sliders()
        self.update_interpolation()

    def _on_handle_moved(self, name: str) -> None:
        self.sync_handles()
        self.update_plane_status()
        if name == self._state.selected_name:
            self.show_selected()
            self.sync_sliders()
        if name in self._state.handles.pair:
            self.update_interpolation()

    def _on_handle_dragged(self, name: str, u: float, v: float) -> None:
        """The hot path: every mouse move of a drag lands here and the decoded image is set before returning."""
        state = self._state
        selected = name == state.selected_name
        if selected:
            self.show_selected()
            self._sync_sliders_soon()
        if name in state.handles.pair:
            self.update_interpolation()
        shown = state.plane.to_map(state.handles.get(name).z)
        if abs(shown[0] - u) + abs(shown[1] - v) > 1e-9:  # e.g. z_dim == 1: the map is a line
            self._w.map_view.place_handle(name, float(shown[0]), float(shown[1]))
        if state.z_dim > 2 and selected:
            self.update_plane_status()

    def _on_selection_changed(self) -> None:
        self.sync_handles()
        self.show_selected()
        self.sync_sliders()
        self.update_plane_status()

    def _on_interpolation_changed(self) -> None:
        self._w.interpolation_box.set_handles(self._state.handles.names, self._state.handles.pair)
        self.update_interpolation()

    def _on_decode_changed(self) -> None:
        combo = self._w.controls.decode_combo
        if combo.currentIndex() != int(self._state.sample):
            combo.setCurrentIndex(int(self._state.sample))
        self.redecode()

    def _on_inspected_changed(self) -> None:
        if self._state.inspected is None:
            self._w.inspected_box.clear()
            self._w.map_view.set_ellipse(None)
        else:
            self.update_inspected(encode=True)

    # ---- drawing ---------------------------------------------------------------------------------
    def sync_handles(self) -> None:
        state = self._state
        plane, selected = state.plane, state.selected_name
        rows = [(h.name, plane.to_map(h.z), h.name == selected, state.on_plane(h.z)) for h in state.handles]
        self._w.map_view.sync_handles(rows)

    def sync_sliders(self) -> None:
        selected = self._state.selected
        w = self._w
        w.sliders.set_enabled_rows(selected is not None)
        w.sliders_title.setText(f"z of handle {selected.name} (all {self._state.z_dim} dimensions)" if selected else "z")
        if selected is not None:
            w.sliders.set_values(selected.z)

    def update_plane_status(self) -> None:
        text, off = self._state.plane_status()
        self._w.snap_button.setVisible(off)
        self._w.plane_status.setText(text)

    def update_path(self) -> None:
        path = self._state.interpolation_path()
        self._w.map_view.set_path(None if path is None else self._state.plane.to_map(path))

    def update_ellipse(self) -> None:
        inspected = self._state.inspected
        if inspected is None or inspected.mean is None or inspected.stddev is None:
            self._w.map_view.set_ellipse(None)
            return
        plane = self._state.plane
        self._w.map_view.set_ellipse(posterior_ellipse(plane, inspected.mean, inspected.stddev), plane.to_map(inspected.mean))

    def _decode(self, z: np.ndarray) -> np.ndarray:
        model = self._mirror.model
        assert model is not None
        return self._state.decoding.decode(model, z)

    def show_selected(self, image: np.ndarray | None = None) -> None:
        """Show the selected handle's decoding (`image` when the caller already decoded it)."""
        selected = self._state.selected
        w = self._w
        if selected is None or self._mirror.model is None:
            w.handle_title.setText("No handle selected")
            w.handle_image.set_image(None)
            return
        source = f" · {selected.source}" if selected.source else ""
        w.handle_title.setText(f"Handle {selected.name}{source}")
        w.handle_image.set_image(self._decode(selected.z[None])[0] if image is None else image)
        self._selected_image_set()

    def update_interpolation(self, images: np.ndarray | None = None) -> None:
        """Decode (or take the already decoded `images` of) the interpolation path and draw it."""
        path = self._state.interpolation_path()
        box, view = self._w.interpolation_box, self._w.map_view
        if path is None or self._mirror.model is None:
            self.interpolation = None
            box.strip.set_image(None)
            view.set_path(None)
            return
        self.interpolation = self._decode(path) if images is None else images
        box.strip.set_image(tile_mosaic(self.interpolation, 1, len(path), gap=2, fill=0.1))
        view.set_path(self._state.plane.to_map(path))

    def update_inspected(self, encode: bool, reconstruction: np.ndarray | None = None) -> None:
        """Show the inspected image; `encode` re-encodes it first, `reconstruction` is its decoding if known."""
        state, model = self._state, self._mirror.model
        inspected = state.inspected
        if inspected is None or model is None:
            return
        if encode or inspected.mean is None:
            mean, std = encode_means(model, torch.from_numpy(inspected.image[None]))
            state.set_posterior(mean[0], std[0])
        assert inspected.mean is not None
        box = self._w.inspected_box
        box.title_label.setText(inspected.title)
        box.original.set_image(display_image(inspected.image))
        if reconstruction is None or encode:
            reconstruction = self._decode(inspected.mean[None])[0]
        box.reconstruction.set_image(reconstruction)
        box.add_button.setEnabled(True)
        self.update_ellipse()

    def redecode(self) -> None:
        """Decode everything shown (selected handle, inspected image, interpolation) in one batch.

        This runs on every weight update while training: each decoder call has a fixed Python cost, and
        Python on the GUI thread competes with the training thread for the GIL, so one call beats three.
        """
        if self._mirror.model is None:
            return
        state = self._state
        selected = state.selected
        inspected = state.inspected if state.inspected is not None and state.inspected.mean is not None else None
        path = state.interpolation_path()
        nothing = np.zeros((0, state.z_dim))
        blocks = [
            nothing if selected is None else selected.z[None],
            nothing if inspected is None or inspected.mean is None else inspected.mean[None],
            nothing if path is None else path,
        ]
        decoded = self._decode(np.concatenate(blocks))
        selected_image, inspected_image, path_images = np.split(decoded, np.cumsum([len(b) for b in blocks])[:-1])
        self.show_selected(selected_image[0] if selected is not None else None)
        if inspected is not None:
            self.update_inspected(encode=False, reconstruction=inspected_image[0])
        self.update_interpolation(path_images if path is not None else None)
