"""The latent explorer: a map of latent space the user can touch.

The map shows the encoded test set on a plane through latent space (the latent plane itself when
z_dim == 2, else the PCA plane of the posterior means or two chosen dimensions), a manifold mosaic
of decoded images underneath, and draggable handles whose decodings update on every mouse move.

Who does what: `core.explorer.ExplorerState` holds what is explored and says when it changed;
`ui.latent.explorer_view` redraws from it; `ui.latent.scheduler` decides when the heavy map jobs run
(within a CPU budget while training); this panel wires the widgets (`ui.latent.layout`) to the state
and to the mirror's model changes. Behind another tab it does no work for new weights; it catches up
once when shown.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QMenu, QWidget

from vae_desktop.core.explorer import PLANE_DIMS, ExplorerState, same_plane
from vae_desktop.core.handles import HandleSet
from vae_desktop.core.latent import LatentPlane
from vae_desktop.core.latent_map import MapResult
from vae_desktop.ui.latent import menus
from vae_desktop.ui.latent.explorer_view import ExplorerView
from vae_desktop.ui.latent.layout import build_latent_widgets
from vae_desktop.ui.latent.opening import ImageOpening
from vae_desktop.ui.latent.points import MapPoints
from vae_desktop.ui.latent.scheduler import MapScheduler
from vae_desktop.ui.latent.status_line import StatusLine
from vae_desktop.ui.model_mirror import ModelMirror
from vae_desktop.ui.refresh_when_visible import RefreshWhenVisible
from vae_desktop.ui.theme import Theme, on_theme


class LatentPanel(QWidget):
    testImageSelected = Signal(int)  # a test-set index the user clicked on the map
    imageOpened = Signal(object, str)  # an image file encoded onto the map: uint8 (C, H, W) copy, file name
    selectedImageChanged = Signal()  # the selected handle's decoded image was just set

    def __init__(self, mirror: ModelMirror, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._mirror = mirror
        self._state = ExplorerState(2)
        self._follow_data = True  # fit the view to the points until the user pans or zooms
        self._drawn_plane: LatentPlane = self._state.plane  # the plane the scatter and manifold were drawn on
        self._manifold_coming = False  # the map result being shown brings its own manifold
        self._dims_picked = False  # the dimensions just changed by the user's hand

        w = self._widgets = build_latent_widgets(self)
        self.stack, self.empty_label, self.status_label = w.stack, w.empty_label, w.status_label
        self.controls, self.map_view, self.interpolation_box = w.controls, w.map_view, w.interpolation_box
        self.handle_title, self.handle_image, self.sliders = w.handle_title, w.handle_image, w.sliders
        self.plane_status, self.snap_button, self.inspected_box = w.plane_status, w.snap_button, w.inspected_box
        self._status = StatusLine(self.status_label)
        self._opening = ImageOpening(mirror, self._state, self._status)
        self._points = MapPoints(mirror, self.map_view)
        self._view = ExplorerView(self._state, mirror, w, self.selectedImageChanged.emit)
        self._scheduler = MapScheduler(mirror, self._refresh_after_weights, self._request_manifold, self)
        self._scheduler.resultReady.connect(self._on_map_result)
        self._scheduler.failed.connect(self._status.error)
        self._when_visible = RefreshWhenVisible(self, self._refresh_after_new_weights)
        self._state.plane_changed.connect(self._on_plane_changed)
        self._connect()
        on_theme(self, self._apply_theme)

        mirror.modelReplaced.connect(self._on_model_replaced)
        mirror.weightsUpdated.connect(self._on_weights_updated)
        mirror.datasetChanged.connect(self._on_dataset_changed)
        self._on_model_replaced()

    def _connect(self) -> None:
        """The widgets' requests, each to one state change or panel action."""
        state, c, m = self._state, self.controls, self.map_view
        c.planeChanged.connect(self._on_plane_controls)
        c.dimsPicked.connect(lambda: setattr(self, "_dims_picked", True))
        c.manifoldToggled.connect(self._on_manifold_toggled)
        c.gridSizeChanged.connect(lambda _: self._scheduler.view_changed())
        c.gridToggled.connect(m.set_grid_visible)
        c.decodeModeChanged.connect(self.set_decode_sample)
        c.resampleRequested.connect(self.resample)
        c.fitRequested.connect(self.fit_view)
        c.openRequested.connect(self._open_image_dialog)
        m.handleDragStarted.connect(state.select)
        m.handleClicked.connect(state.select)
        m.handleDragged.connect(state.drag)
        m.handleMenuRequested.connect(lambda name, at: self.handle_menu(name).popup(at))
        m.mapMenuRequested.connect(lambda u, v, at: self.map_menu(u, v).popup(at))
        m.addHandleRequested.connect(self.add_handle_at)
        m.pointClicked.connect(self._on_point_clicked)
        m.deleteRequested.connect(self.delete_selected_handle)
        m.nudgeRequested.connect(self.nudge_selected_handle)
        m.viewChanged.connect(self._scheduler.view_changed)
        m.filesDropped.connect(lambda paths: [self.open_image_file(p) for p in paths])
        m.getPlotItem().getViewBox().sigRangeChangedManually.connect(self._on_user_moved_view)
        self.interpolation_box.pairChanged.connect(state.set_pair)
        self.interpolation_box.stepsChanged.connect(state.set_steps)
        self.inspected_box.addHandleRequested.connect(state.add_inspected_as_handle)
        self.sliders.valueEdited.connect(self._on_slider_edited)
        self.snap_button.clicked.connect(lambda: state.snap_to_plane(state.selected_name))

    def _apply_theme(self, theme: Theme) -> None:
        for label in (self.empty_label, self.plane_status):
            label.setStyleSheet(f"color: {theme.muted_text};")

    # ---- public API ----------------------------------------------------------------------------------
    @property
    def state(self) -> ExplorerState:
        """What is explored (handles, plane, decode mode, inspected image); change it here, views follow."""
        return self._state

    @property
    def handles(self) -> HandleSet:
        return self._state.handles

    @property
    def plane(self) -> LatentPlane:
        """The plane the map currently shows."""
        return self._state.plane

    @property
    def map_version(self) -> int:
        """The ModelMirror.version whose encoding the scatter shows (-1 before the first)."""
        return self._points.version

    @property
    def showing_map(self) -> bool:
        """False while the panel shows its "no model yet" page."""
        return self.stack.currentWidget() is self._widgets.content

    @property
    def scheduler(self) -> MapScheduler:
        return self._scheduler

    def scatter(self) -> tuple[np.ndarray, np.ndarray]:
        """(test-set indices, map positions) of the points on the map."""
        return self._points.scatter()

    def selected_image(self) -> np.ndarray | None:
        return self.handle_image.image()

    def interpolation_images(self) -> np.ndarray | None:
        """The k decoded images along the interpolation path, or None without two handles."""
        return self._view.interpolation

    def set_plane_mode(self, mode: str, dims: tuple[int, int] | None = None) -> None:
        """Show the PCA plane ("pca") or two latent dimensions ("dims", 0-based): these `dims`, or
        until some are chosen, the two the encoder uses most (its posterior means vary most)."""
        self._dims_picked = dims is not None
        self.controls.set_plane(mode, dims)

    def set_grid_size(self, n: int) -> None:
        self.controls.grid_size.setValue(n)

    def add_handle_at(self, u: float, v: float) -> None:
        """Add a handle at a map point (a double click)."""
        if self._mirror.model is not None:
            self._state.add_handle_at(u, v)

    def delete_selected_handle(self) -> None:
        name = self._state.selected_name
        if name is not None:
            self._state.remove_handle(name)

    def delete_handle(self, name: str) -> None:
        self._state.remove_handle(name)

    def nudge_selected_handle(self, du: float, dv: float) -> None:
        """Move the selected handle on the map by (du, dv) map units (arrow keys)."""
        state = self._state
        name = state.selected_name
        if name is None:
            return
        u, v = state.plane.to_map(state.handles.get(name).z) + np.array([du, dv])
        state.drag(name, float(u), float(v))
        self.map_view.place_handle(name, *map(float, state.plane.to_map(state.handles.get(name).z)))

    def snap_handle_to_plane(self, name: str | None) -> None:
        self._state.snap_to_plane(name)

    def show_test_image(self, index: int) -> None:
        """Inspect a test image (e.g. one clicked elsewhere): its reconstruction and posterior ellipse."""
        self._opening.inspect_test_image(index)

    def open_image_file(self, path: str | Path) -> bool:
        """Encode an image file and place it as a handle at its posterior mean. False (and a message) on error."""
        inspected = self._opening.open_file(path)
        if inspected is None:
            return False
        self.imageOpened.emit(inspected.image.copy(), inspected.title)
        return True

    def set_decode_sample(self, sample: bool) -> None:
        """Decode the mean image (False, default) or a Bernoulli sample of it (True)."""
        self._state.set_sample(sample)

    def resample(self) -> None:
        """New pixel noise for the sampled view (a private generator; the global RNG is untouched)."""
        self._state.resample()

    def fit_view(self) -> None:
        """Zoom to the encoded points (or the handles) and keep following the points while training."""
        self._follow_data = True
        self._points.fit_view(self._state, force=True)

    def handle_menu(self, name: str) -> QMenu:
        return menus.handle_menu(self, self._state, name)

    def map_menu(self, u: float, v: float) -> QMenu:
        return menus.map_menu(self, lambda: self.add_handle_at(u, v), self.fit_view, self._open_image_dialog)

    def shutdown(self) -> None:
        """Stop background work and join the map's worker thread (the window calls it once it closes)."""
        self._scheduler.shutdown()

    # ---- model and dataset -----------------------------------------------------------------------------
    def _on_model_replaced(self) -> None:
        self._scheduler.model_replaced()
        self._when_visible.forget()
        model = self._mirror.model
        self._points.clear()
        self._follow_data = True
        self._opening.forget()
        self.map_view.set_manifold(None, (0, 1), (0, 1))
        z_dim = model.config.z_dim if model is not None else 2
        self._state.reset_model(z_dim)
        self._view.update_ellipse()
        self.inspected_box.clear()
        if model is None:
            self.stack.setCurrentIndex(0)
            return
        self.controls.set_z_dim(z_dim)
        self.sliders.set_dimensions(z_dim)
        self.sliders.set_limit(4.0)
        self.stack.setCurrentIndex(1)
        self._status.show(*self._points.prepare())
        with self._manifold_follows():  # the job submitted below decodes it
            if self._points.subset is None:
                self._state.place_initial_handles(None)
            self._state.update_plane()
            self._view.redraw_plane()
            self._state.announce_handles()
        if self._points.subset is None:
            self._points.fit_view(self._state, force=True)
        self._submit(encode=True, manifold=True)

    def _on_dataset_changed(self) -> None:
        if self._mirror.model is None:
            return
        self._points.clear()
        self._state.inspect(None)
        self._status.show(*self._points.prepare())
        self._follow_data = True
        self._submit(encode=True, manifold=False)

    # ---- background refresh -------------------------------------------------------------------------------
    def _submit(self, encode: bool, manifold: bool) -> None:
        view = self.map_view.visible_range() if manifold and self.controls.manifold_check.isChecked() else None
        subset = self._points.subset if encode else None
        state = self._state
        self._scheduler.submit(state.plane, state.uses_pca, subset, view, self.controls.grid_size.value())

    def _request_manifold(self) -> None:
        self._submit(encode=False, manifold=True)

    def _on_weights_updated(self) -> None:
        """Handle images follow every weight update (one small decode); the map follows within its CPU budget.

        A hidden panel (another tab in front) does neither: it catches up once when it is shown.
        """
        if self._when_visible.due():
            self._refresh_after_new_weights()

    def _refresh_after_new_weights(self) -> None:
        self._view.redecode()
        self._scheduler.weights_updated()

    def _refresh_after_weights(self) -> None:
        self._submit(encode=True, manifold=True)
        self._view.update_inspected(encode=True)

    def _on_map_result(self, result: MapResult) -> None:
        state = self._state
        if result.points is not None:
            if result.manifold is not None:
                with self._manifold_follows():
                    self._show_points(result)
            else:
                self._show_points(result)
        if result.manifold is not None and self.controls.manifold_check.isChecked() and same_plane(result.plane, state.plane):
            m = result.manifold
            self.map_view.set_manifold(m.image, m.u_range, m.v_range)

    def _show_points(self, result: MapResult) -> None:
        state, points = self._state, result.points
        assert points is not None
        first = self._points.receive(points, result.version)
        if first:
            self.sliders.set_limit(self._points.slider_limit())
        if state.uses_pca:
            state.set_pca(result.plane)
        if first:
            state.suggest_dims(points.means)
        if not state.initial_handles_placed:
            state.place_initial_handles(points.means)
            state.update_plane()
            self._view.sync_handles()
            # Their images and the interpolation (decodes) follow in the next turn of the event loop:
            # together with the first scatter, this was the GUI thread's longest task as training starts.
            QTimer.singleShot(0, self, state.announce_handles)
        elif self._follow_data and state.handles_untouched():
            state.place_initial_handles(points.means, move=True)  # the starting handles stay on the data as it moves
            state.announce_handles()
        self._points.draw(self._state.plane)
        self._status.info(self._points.shown_text())
        if self._follow_data:
            self._points.fit_view(self._state, force=first)

    @contextmanager
    def _manifold_follows(self) -> Iterator[None]:
        """Plane changes inside need no manifold request: one is on its way (or about to be submitted)."""
        self._manifold_coming = True
        try:
            yield
        finally:
            self._manifold_coming = False

    def _on_manifold_toggled(self, on: bool) -> None:
        self.map_view.set_manifold_visible(on)
        if on:
            self._request_manifold()

    def _on_user_moved_view(self, *_: object) -> None:
        self._follow_data = False

    # ---- plane -----------------------------------------------------------------------------------------------
    def _on_plane_controls(self) -> None:
        by_hand, self._dims_picked = self._dims_picked, False
        c, state = self.controls, self._state
        points = self._points.points
        means = points.means if points is not None and c.plane_mode == PLANE_DIMS else None
        state.set_plane(c.plane_mode, c.dims, by_hand=by_hand, means=means)  # the state keeps the choice
        if self._mirror.model is None:
            return
        if state.uses_pca and state.pca is None:
            self._submit(encode=True, manifold=True)  # the PCA plane comes with the encoding
        self._points.fit_view(self._state, force=True)  # map coordinates mean something else on the new plane

    def _on_plane_changed(self) -> None:
        """The state shows another plane: the scatter moves to it and the manifold is decoded anew."""
        plane = self._state.plane
        changed = not same_plane(plane, self._drawn_plane)
        self._drawn_plane = plane
        self._points.draw(self._state.plane)
        if changed and not self._manifold_coming:
            self._scheduler.view_changed()

    def _on_slider_edited(self, dim: int, value: float) -> None:
        name = self._state.selected_name
        if name is not None:
            self._state.set_value(name, dim, value)

    # ---- inspected image -------------------------------------------------------------------------------------------
    def _on_point_clicked(self, position: int) -> None:
        points = self._points.points
        if points is None:
            return
        index = int(points.indices[position])
        self.show_test_image(index)
        self.testImageSelected.emit(index)

    # ---- files and messages ----------------------------------------------------------------------------------------
    def _open_image_dialog(self) -> None:
        path = self._opening.ask_path(self)
        if path:
            self.open_image_file(path)
