"""The latent explorer: a map of latent space the user can touch.

The map shows the encoded test set on a plane through latent space (the latent plane itself when
z_dim == 2, else the PCA plane of the posterior means or two chosen dimensions), a manifold mosaic
of decoded images underneath, and draggable handles whose decodings update on every mouse move.

Who does what:
- `core.latent` holds the map <-> z formulas, `core.handles` the handles (z is their truth).
- Drags, sliders and interpolation decode on the GUI thread with `ModelMirror.model` (one tiny
  batch, about a millisecond), so a drag never waits for anything else.
- Encoding up to 10,000 test images and decoding the manifold run on `MapWorker` from a numpy
  snapshot of the weights; while training sends new weights they are refreshed within a CPU budget
  (at most twice a second, and at most 5% of one core counting every job a refresh causes).
- Behind another tab the panel does no work for new weights; it catches up once when shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PySide6.QtCore import QCoreApplication, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QFont, QShowEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSplitter,
    QStackedLayout,
    QVBoxLayout,
    QWidget,
)

from vae_desktop.core.handles import HandleSet
from vae_desktop.core.image_file import ImageFileError, read_image_file
from vae_desktop.core.inference import decode_images, encode_means
from vae_desktop.core.inspection import Typicality, reference_losses, typicality
from vae_desktop.core.latent import (
    LatentPlane,
    dimension_name,
    dims_plane,
    fit_view,
    identity_plane,
    interpolate,
    most_active_dimensions,
    move_in_plane,
    posterior_ellipse,
    snap_to_plane,
    subset_indices,
)
from vae_desktop.core.latent_map import EncodedPoints, MapJob, MapResult
from vae_desktop.core.mosaic import tile_mosaic
from vae_desktop.core.pixel_sampling import sample_pixels, uniform_noise
from vae_desktop.ui.latent.boxes import InspectedImageBox, InterpolationBox
from vae_desktop.ui.latent.controls import PLANE_DIMS, PLANE_PCA, MapControls
from vae_desktop.ui.latent.cpu_budget import RefreshBudget
from vae_desktop.ui.latent.image_view import ImageView
from vae_desktop.ui.latent.map_view import LatentMapView
from vae_desktop.ui.latent.map_worker import MapWorker
from vae_desktop.ui.latent.sliders import LatentSliders
from vae_desktop.ui.latent.throttle import Throttle
from vae_desktop.ui.model_mirror import ModelMirror, state_to_numpy
from vae_desktop.ui.theme import Theme, on_theme

MAX_POINTS = 10_000
WEIGHTS_REFRESH_MS = 500  # scatter + manifold at most twice a second while training...
MAP_CPU_BUDGET = 0.05  # ...and at most 5 % of one core: a 300 ms refresh waits 6 s before the next
MAX_WEIGHTS_REFRESH_MS = 10_000
VIEW_REFRESH_MS = 120  # manifold while panning or zooming
ON_PLANE_TOLERANCE = 1e-6
REFERENCE_IMAGES = 500  # test images whose losses tell whether an opened image is like the data
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp *.ppm *.pgm)"


@dataclass
class _Inspected:
    """An image whose posterior is drawn on the map: a test point or an opened file."""

    title: str
    image: np.ndarray  # uint8 (C, H, W)
    test_index: int | None
    mean: np.ndarray | None = None  # posterior under the current weights
    stddev: np.ndarray | None = None


def _same_plane(a: LatentPlane, b: LatentPlane) -> bool:
    return a.axes.shape == b.axes.shape and np.allclose(a.origin, b.origin) and np.allclose(a.axes, b.axes)


def _display(image: np.ndarray) -> np.ndarray:
    """uint8 (C, H, W) to float (H, W) or (H, W, C) in [0, 1]."""
    array = np.asarray(image, dtype=np.float32) / 255.0
    return array[0] if array.shape[0] == 1 else array.transpose(1, 2, 0)


class LatentPanel(QWidget):
    testImageSelected = Signal(int)  # a test-set index the user clicked on the map
    imageOpened = Signal(object, str)  # an image file encoded onto the map: uint8 (C, H, W) copy, file name
    selectedImageChanged = Signal()  # the selected handle's decoded image was just set

    def __init__(self, mirror: ModelMirror, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._mirror = mirror
        self._handles = HandleSet(2)
        self._pca: LatentPlane | None = None
        self._plane = identity_plane(2)
        self._points: EncodedPoints | None = None
        self._map_version = -1
        self._first_version = 0  # map results older than this belong to a replaced model
        self._subset: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # indices, images, labels
        self._inspected: _Inspected | None = None
        self._interpolation: np.ndarray | None = None
        self._sample = False
        self._noise_seed = 0
        self._noise: np.ndarray | None = None
        self._weights: tuple[int, dict[str, np.ndarray]] | None = None
        self._stale_weights = False  # weights changed while the panel was hidden
        self._follow_data = True  # fit the view to the points until the user pans or zooms
        self._initial_handles_placed = False
        self._auto_handles: dict[str, np.ndarray] = {}  # where the starting handles were put, until moved by hand
        self._dims_by_hand = False  # the user picked the two dimensions: no default replaces them
        self._reference: tuple[int, np.ndarray] | None = None  # (mirror version, test images' losses)

        self._weights_throttle = Throttle(WEIGHTS_REFRESH_MS, self._refresh_after_weights, self)
        self._map_budget = RefreshBudget(MAP_CPU_BUDGET, WEIGHTS_REFRESH_MS / 1000, MAX_WEIGHTS_REFRESH_MS / 1000)
        self._view_throttle = Throttle(VIEW_REFRESH_MS, self._request_manifold, self)
        self._build_ui()
        self._worker = MapWorker(self)
        self._worker.resultReady.connect(self._on_map_result)
        self._worker.failed.connect(self._show_error)
        worker = self._worker
        self.destroyed.connect(lambda *_: worker.shutdown())
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        self._slider_sync = QTimer(self)
        self._slider_sync.setSingleShot(True)
        self._slider_sync.setInterval(30)
        self._slider_sync.timeout.connect(self._sync_sliders)

        mirror.modelReplaced.connect(self._on_model_replaced)
        mirror.weightsUpdated.connect(self._on_weights_updated)
        mirror.datasetChanged.connect(self._on_dataset_changed)
        self._on_model_replaced()

    # ---- layout ------------------------------------------------------------------------------------
    def _build_ui(self) -> None:
        self._stack = QStackedLayout(self)
        self._empty = QLabel(
            "No model yet.\n\nStart training or open a checkpoint to explore its latent space here:\n"
            "the encoded test set, a manifold of decoded images, and handles you can drag."
        )
        self._empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._empty.setWordWrap(True)
        font = QFont(self._empty.font())
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self._empty.setFont(font)
        self._stack.addWidget(self._empty)

        content = QWidget()
        self._stack.addWidget(content)
        self.controls = MapControls()
        self.map_view = LatentMapView()
        self.interpolation_box = InterpolationBox()
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.map_view, 1)
        left_layout.addWidget(self.interpolation_box)

        self._handle_title = QLabel()
        self._handle_title.setStyleSheet("font-weight: bold;")
        self.handle_image = ImageView(200, "Double-click the map to add a handle.")
        self._plane_status = QLabel()
        self._plane_status.setWordWrap(True)
        self._snap_button = QPushButton("Back onto the map plane")
        self._snap_button.setToolTip("Move the handle to the point of the map plane nearest to it")
        self._snap_button.hide()
        self.inspected_box = InspectedImageBox()
        self._sliders_title = QLabel()
        self.sliders = LatentSliders()
        side = QWidget()
        side.setMinimumWidth(250)
        side.setMaximumWidth(380)
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(4, 0, 0, 0)
        side_layout.addWidget(self._handle_title)
        side_layout.addWidget(self.handle_image, 3)
        side_layout.addWidget(self._plane_status)
        side_layout.addWidget(self._snap_button)
        side_layout.addWidget(self.inspected_box)
        side_layout.addWidget(self._sliders_title)
        side_layout.addWidget(self.sliders, 4)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(side)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 0)
        self._status = QLabel()
        self._status.setWordWrap(True)
        layout = QVBoxLayout(content)
        layout.setContentsMargins(6, 6, 6, 4)
        layout.addWidget(self.controls)
        layout.addWidget(splitter, 1)
        status_row = QHBoxLayout()
        status_row.addWidget(self._status, 1)
        layout.addLayout(status_row)

        c = self.controls
        c.planeChanged.connect(self._on_plane_controls)
        c.dimsPicked.connect(lambda: setattr(self, "_dims_by_hand", True))
        c.manifoldToggled.connect(self._on_manifold_toggled)
        c.gridSizeChanged.connect(lambda _: self._view_throttle.request())
        c.gridToggled.connect(self.map_view.set_grid_visible)
        c.decodeModeChanged.connect(self.set_decode_sample)
        c.resampleRequested.connect(self.resample)
        c.fitRequested.connect(self.fit_view)
        c.openRequested.connect(self._open_image_dialog)
        m = self.map_view
        m.handleDragStarted.connect(self._select_handle)
        m.handleClicked.connect(self._select_handle)
        m.handleDragged.connect(self._on_handle_dragged)
        m.handleMenuRequested.connect(lambda name, at: self.handle_menu(name).popup(at))
        m.mapMenuRequested.connect(lambda u, v, at: self.map_menu(u, v).popup(at))
        m.addHandleRequested.connect(self.add_handle_at)
        m.pointClicked.connect(self._on_point_clicked)
        m.deleteRequested.connect(self.delete_selected_handle)
        m.nudgeRequested.connect(self.nudge_selected_handle)
        m.viewChanged.connect(self._view_throttle.request)
        m.filesDropped.connect(lambda paths: [self.open_image_file(p) for p in paths])
        m.getPlotItem().getViewBox().sigRangeChangedManually.connect(self._on_user_moved_view)
        m.set_hover_source(self._hover_info)
        self.interpolation_box.pairChanged.connect(self._on_pair_changed)
        self.interpolation_box.stepsChanged.connect(lambda _: self._update_interpolation())
        self.inspected_box.addHandleRequested.connect(self._add_inspected_as_handle)
        self.sliders.valueEdited.connect(self._on_slider_edited)
        self._snap_button.clicked.connect(lambda: self.snap_handle_to_plane(self._selected_name()))
        self._status_is_error = False
        self._theme = on_theme(self, self._apply_theme)

    def _apply_theme(self, theme: Theme) -> None:
        self._theme = theme
        for label in (self._empty, self._plane_status):
            label.setStyleSheet(f"color: {theme.muted_text};")
        self._status.setStyleSheet(f"color: {theme.error_text if self._status_is_error else theme.muted_text};")

    # ---- public API ----------------------------------------------------------------------------------
    @property
    def handles(self) -> HandleSet:
        return self._handles

    @property
    def plane(self) -> LatentPlane:
        """The plane the map currently shows."""
        return self._plane

    @property
    def map_version(self) -> int:
        """The ModelMirror.version whose encoding the scatter shows (-1 before the first)."""
        return self._map_version

    def scatter(self) -> tuple[np.ndarray, np.ndarray]:
        """(test-set indices, map positions) of the points on the map."""
        if self._points is None:
            return np.zeros(0, np.int64), np.zeros((0, 2))
        return self._points.indices, self.map_view.scatter_positions()

    def selected_image(self) -> np.ndarray | None:
        return self.handle_image.image()

    def interpolation_images(self) -> np.ndarray | None:
        """The k decoded images along the interpolation path, or None without two handles."""
        return self._interpolation

    def set_plane_mode(self, mode: str, dims: tuple[int, int] | None = None) -> None:
        """Show the PCA plane ("pca") or two latent dimensions ("dims", 0-based): these `dims`, or
        until some are chosen, the two the encoder uses most (its posterior means vary most)."""
        if dims is not None:
            self._dims_by_hand = True
        self.controls.set_plane(mode, dims)

    def set_grid_size(self, n: int) -> None:
        self.controls.grid_size.setValue(n)

    def add_handle_at(self, u: float, v: float) -> None:
        """Add a handle at a map point (a double click)."""
        if self._mirror.model is None:
            return
        self._handles.add(self._plane.to_latent(np.array([u, v])))
        self._after_handles_changed()

    def delete_selected_handle(self) -> None:
        name = self._selected_name()
        if name is not None:
            self.delete_handle(name)

    def delete_handle(self, name: str) -> None:
        if name in self._handles:
            self._handles.remove(name)
            self._after_handles_changed()

    def nudge_selected_handle(self, du: float, dv: float) -> None:
        """Move the selected handle on the map by (du, dv) map units (arrow keys)."""
        name = self._selected_name()
        if name is None:
            return
        u, v = self._plane.to_map(self._handles.get(name).z) + np.array([du, dv])
        self._on_handle_dragged(name, float(u), float(v))
        self.map_view.place_handle(name, *map(float, self._plane.to_map(self._handles.get(name).z)))

    def snap_handle_to_plane(self, name: str | None) -> None:
        if name is None or name not in self._handles:
            return
        self._handles.move(name, snap_to_plane(self._plane, self._handles.get(name).z))
        self._after_handle_values_changed(name)

    def show_test_image(self, index: int) -> None:
        """Inspect a test image (e.g. one clicked elsewhere): its reconstruction and posterior ellipse."""
        dataset = self._mirror.dataset
        if dataset is None or self._mirror.model is None or not 0 <= index < dataset.num_test:
            return
        if dataset.image_shape != self._mirror.model.config.image_shape:
            return
        label = int(dataset.test_labels[index])
        name = dataset.class_names[label] if label < len(dataset.class_names) else f"class {label}"
        self._inspected = _Inspected(f"Test image #{index} · {name}", dataset.test_images[index].numpy(), index)
        self._update_inspected(encode=True)

    def open_image_file(self, path: str | Path) -> bool:
        """Encode an image file and place it as a handle at its posterior mean. False (and a message) on error."""
        model = self._mirror.model
        if model is None:
            self._show_error("Open a checkpoint or start training before encoding images.")
            return False
        try:
            image = read_image_file(path, model.config.image_shape)
        except ImageFileError as exc:
            self._show_error(str(exc))
            return False
        name = Path(path).name
        mean, _ = encode_means(model, torch.from_numpy(image[None]))
        handle = self._handles.add(mean[0], source=name)
        self._inspected = _Inspected(name, image, None)
        self._after_handles_changed()
        self._update_inspected(encode=True)
        message = f"Encoded {name} and placed it as handle {handle.name} at its posterior mean."
        verdict = self._judge(image)
        if verdict is not None and verdict.off_data:
            message += (
                f" It is unlike the training data: its loss ({verdict.value:,.0f} nats) is far above the test "
                f"images' (99% below {verdict.high:,.0f}), so its place on the map says little."
            )
        self._show_info(message)
        self.imageOpened.emit(image.copy(), name)
        return True

    def _judge(self, image: np.ndarray) -> Typicality | None:
        """How an opened image's loss compares with the test images' (their losses cached per weights)."""
        model, dataset = self._mirror.model, self._mirror.dataset
        if model is None or dataset is None or dataset.image_shape != model.config.image_shape:
            return None
        if self._reference is None or self._reference[0] != self._mirror.version:
            losses = reference_losses(model, dataset.test_images, self._mirror.recon_loss, REFERENCE_IMAGES)
            self._reference = (self._mirror.version, losses)
        return typicality(model, image, self._reference[1], self._mirror.recon_loss)

    def set_decode_sample(self, sample: bool) -> None:
        """Decode the mean image (False, default) or a Bernoulli sample of it (True)."""
        self._sample = bool(sample)
        if self.controls.decode_combo.currentIndex() != int(self._sample):
            self.controls.decode_combo.setCurrentIndex(int(self._sample))
        self._redecode()

    def resample(self) -> None:
        """New pixel noise for the sampled view (a private generator; the global RNG is untouched)."""
        self._noise_seed += 1
        self._noise = None
        self._redecode()

    def fit_view(self) -> None:
        """Zoom to the encoded points (or the handles) and keep following the points while training."""
        self._follow_data = True
        self._fit_view_now(force=True)

    def handle_menu(self, name: str) -> QMenu:
        menu = QMenu(self)
        menu.addAction(f"Delete handle {name}", lambda: self.delete_handle(name))
        snap = menu.addAction("Back onto the map plane", lambda: self.snap_handle_to_plane(name))
        snap.setEnabled(name in self._handles and not self._on_plane(self._handles.get(name).z))
        menu.addSeparator()
        menu.addAction(f"Interpolate from {name}", lambda: self._set_pair_end(0, name))
        menu.addAction(f"Interpolate to {name}", lambda: self._set_pair_end(1, name))
        return menu

    def map_menu(self, u: float, v: float) -> QMenu:
        menu = QMenu(self)
        menu.addAction("Add handle here", lambda: self.add_handle_at(u, v))
        menu.addAction("Fit view", self.fit_view)
        menu.addAction("Open image…", self._open_image_dialog)
        return menu

    def shutdown(self) -> None:
        """Stop background work (called on close and when the application quits)."""
        self._weights_throttle.cancel()
        self._view_throttle.cancel()
        self._worker.shutdown()

    def showEvent(self, event: QShowEvent) -> None:
        self._worker.reopen()
        super().showEvent(event)
        if self._stale_weights:
            self._stale_weights = False
            self._on_weights_updated()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)

    # ---- model and dataset -----------------------------------------------------------------------------
    def _on_model_replaced(self) -> None:
        self._weights_throttle.cancel()
        self._stale_weights = False
        model = self._mirror.model
        self._first_version = self._mirror.version
        self._points = None
        self._pca = None
        self._map_version = -1
        self._inspected = None
        self._interpolation = None
        self._noise = None
        self._weights = None
        self._follow_data = True
        self._initial_handles_placed = False
        self._auto_handles = {}
        self._dims_by_hand = False
        self._reference = None
        self.map_view.clear_scatter()
        self.map_view.set_manifold(None, (0, 1), (0, 1))
        self.map_view.set_ellipse(None)
        self.inspected_box.clear()
        if model is None:
            self._handles = HandleSet(2)
            self._stack.setCurrentIndex(0)
            return
        z_dim = model.config.z_dim
        self._handles = HandleSet(z_dim)
        self.controls.set_z_dim(z_dim)
        self.sliders.set_dimensions(z_dim)
        self.sliders.set_limit(4.0)
        self._stack.setCurrentIndex(1)
        self._prepare_subset()
        self._plane = self._current_plane()
        if self._subset is None:
            self._place_initial_handles()
        self._apply_plane(self._current_plane(), request_manifold=False)
        self._after_handles_changed()
        if self._subset is None:
            self._fit_view_now(force=True)
        self._submit(encode=True, manifold=True)

    def _on_dataset_changed(self) -> None:
        if self._mirror.model is None:
            return
        self._points = None
        self._map_version = -1
        self.map_view.clear_scatter()
        self._inspected = None
        self.inspected_box.clear()
        self.map_view.set_ellipse(None)
        self._prepare_subset()
        self._follow_data = True
        self._submit(encode=True, manifold=False)

    def _prepare_subset(self) -> None:
        """Pick (and copy once) the up-to-10,000 test images the scatter shows."""
        dataset, model = self._mirror.dataset, self._mirror.model
        self._subset = None
        if dataset is None or model is None:
            self._show_info("No dataset loaded: the map shows the manifold and handles only.")
            return
        if dataset.image_shape != model.config.image_shape:
            self._show_error(
                f"The dataset {dataset.name} has images of shape {dataset.image_shape} but the model expects "
                f"{model.config.image_shape}: the map shows no test points."
            )
            return
        if dataset.num_test == 0:
            self._show_info(f"{dataset.name} has no test images to show on the map.")
            return
        indices = subset_indices(dataset.num_test, MAX_POINTS)
        chosen = torch.from_numpy(indices)
        images = dataset.test_images[chosen].numpy()  # a copy; shared with the worker thread, never modified
        labels = dataset.test_labels[chosen].numpy().astype(np.int64)
        self._subset = (indices, images, labels)
        self.map_view.set_classes(self._class_names())  # now, not in the first map refresh while training starts
        self._show_info(f"Encoding {len(indices):,} test images of {dataset.name}…")

    # ---- background refresh -------------------------------------------------------------------------------
    def _weights_state(self) -> dict[str, np.ndarray]:
        version = self._mirror.version
        if self._weights is None or self._weights[0] != version:
            self._weights = (version, state_to_numpy(self._mirror.model))
        return self._weights[1]

    def _uses_pca(self) -> bool:
        return self._handles.z_dim > 2 and self.controls.plane_mode == PLANE_PCA

    def _submit(self, encode: bool, manifold: bool) -> None:
        model = self._mirror.model
        if model is None:
            return
        if self._plane.z_dim != model.config.z_dim:
            # A view change while a new model is being set up (the map page appearing resizes the view)
            # still sees the previous plane; that job could not run. The set-up submits its own job.
            return
        images = indices = labels = None
        if encode and self._subset is not None:
            indices, images, labels = self._subset
        view = self.map_view.visible_range() if manifold and self.controls.manifold_check.isChecked() else None
        if images is None and view is None:
            return
        self._worker.submit(
            MapJob(
                version=self._mirror.version,
                config=model.config,
                state=self._weights_state(),
                plane=self._plane,
                plane_mode="pca" if self._uses_pca() else "fixed",
                images=images,
                indices=indices,
                labels=labels,
                view=view,
                grid_size=self.controls.grid_size.value(),
            )
        )

    def _request_manifold(self) -> None:
        self._submit(encode=False, manifold=True)

    def _on_weights_updated(self) -> None:
        """Handle images follow every weight update (one small decode); the map follows within its CPU budget.

        A hidden panel (another tab in front) does neither: it catches up once when it is shown.
        """
        if not self.isVisible():
            self._stale_weights = True
            return
        self._redecode()
        self._weights_throttle.request()

    def _refresh_after_weights(self) -> None:
        self._map_budget.start_cycle()
        self._submit(encode=True, manifold=True)
        self._update_inspected(encode=True)

    def _on_map_result(self, result: MapResult) -> None:
        self._map_budget.charge(result.seconds)
        self._weights_throttle.set_interval(self._map_budget.interval_ms())
        if self._mirror.model is None or result.version < self._first_version:
            return  # computed for a model that has since been replaced
        if result.points is not None:
            first = self._points is None
            self._points = result.points
            self._map_version = result.version
            if first:
                limit = float(np.quantile(np.abs(result.points.means), 0.999)) * 1.25 if len(result.points.means) else 0
                self.sliders.set_limit(max(3.0, limit))
            if self._uses_pca():
                self._pca = result.plane
            if first:
                self._default_dims()
            if not self._initial_handles_placed:
                self._place_initial_handles()
                # Their images and the interpolation (decodes) follow in the next turn of the event loop:
                # together with the first scatter, this was the GUI thread's longest task as training starts.
                QTimer.singleShot(0, self, self._after_handles_changed)
            elif self._follow_data and self._handles_untouched():
                self._place_initial_handles(move=True)  # the starting handles stay on the data as it moves
                self._after_handles_changed()
            self._apply_plane(self._current_plane(), request_manifold=result.manifold is None)
            dataset = self._mirror.dataset
            self._show_info(
                f"{len(result.points.indices):,} test images of {dataset.name if dataset else 'the dataset'} · "
                "hover a point to see it, click to inspect it; double-click to add a handle, drag handles to decode."
            )
            if self._follow_data:
                self._fit_view_now(force=first)
        if (
            result.manifold is not None
            and self.controls.manifold_check.isChecked()
            and _same_plane(result.plane, self._plane)
        ):
            m = result.manifold
            self.map_view.set_manifold(m.image, m.u_range, m.v_range)

    def _on_manifold_toggled(self, on: bool) -> None:
        self.map_view.set_manifold_visible(on)
        if on:
            self._request_manifold()

    def _on_user_moved_view(self, *_: object) -> None:
        self._follow_data = False

    def _fit_view_now(self, force: bool = False) -> None:
        _, uv = self.scatter()
        if len(uv) == 0:
            uv = np.array([self._plane.to_map(h.z) for h in self._handles]).reshape(-1, 2)
            if len(uv):
                uv = np.vstack([uv, uv.min(0) - 2.0, uv.max(0) + 2.0])
        (u0, u1), (v0, v1) = fit_view(uv)
        (cu0, cu1), (cv0, cv1) = self.map_view.visible_range()
        contained = cu0 <= u0 and u1 <= cu1 and cv0 <= v0 and v1 <= cv1
        too_wide = (u1 - u0) < 0.6 * (cu1 - cu0) and (v1 - v0) < 0.6 * (cv1 - cv0)
        if force or not contained or too_wide:  # small drifts while training keep the view still
            self.map_view.set_visible_range((u0, u1), (v0, v1))

    # ---- plane -----------------------------------------------------------------------------------------------
    def _current_plane(self) -> LatentPlane:
        z_dim = self._handles.z_dim
        if z_dim <= 2:
            return identity_plane(z_dim)
        if self.controls.plane_mode == PLANE_PCA:
            return self._pca if self._pca is not None else identity_plane(z_dim)
        selected = self._handles.selected
        if selected is not None:
            anchor = selected.z
        else:
            anchor = self._pca.origin if self._pca is not None else np.zeros(z_dim)
        return dims_plane(z_dim, *self.controls.dims, anchor)

    def _default_dims(self) -> None:
        """Until the user picks two dimensions, the map of two dimensions shows the two most active ones."""
        if self._dims_by_hand or self._points is None or self._handles.z_dim <= 2:
            return
        dims = most_active_dimensions(self._points.means, 2)
        if dims != self.controls.dims:
            self.controls.set_dims(dims)

    def _on_plane_controls(self) -> None:
        if self._mirror.model is None:
            return
        if self.controls.plane_mode == PLANE_DIMS:
            self._default_dims()
        if self._uses_pca() and self._pca is None:
            self._submit(encode=True, manifold=True)  # the PCA plane comes with the encoding
        self._apply_plane(self._current_plane())
        self._fit_view_now(force=True)  # map coordinates mean something else on the new plane

    def _apply_plane(self, plane: LatentPlane, request_manifold: bool = True) -> None:
        """Show the map on `plane`: re-project points, handles, ellipse and path (z values never change)."""
        changed = not _same_plane(plane, self._plane)
        self._plane = plane
        one_dim = self._handles.z_dim == 1  # the map is a line; its vertical axis means nothing
        self.map_view.set_axis_labels(plane.label_u, "(no second latent dimension)" if one_dim else plane.label_v)
        if self._points is not None:
            self.map_view.set_scatter(plane.to_map(self._points.means), self._points.labels, self._class_names())
        self.sliders.set_highlighted(self._plane_dims())
        self._sync_handles()
        self._update_path()
        self._update_ellipse()
        self._update_plane_status()
        if changed and request_manifold:
            self._view_throttle.request()

    def _plane_dims(self) -> tuple[int, ...]:
        z_dim = self._handles.z_dim
        if z_dim <= 2:
            return tuple(range(z_dim))
        return self.controls.dims if self.controls.plane_mode == PLANE_DIMS else ()

    def _on_plane(self, z: np.ndarray) -> bool:
        return float(self._plane.distance_from_plane(z)) <= ON_PLANE_TOLERANCE * (1.0 + float(np.abs(z).max()))

    # ---- handles -----------------------------------------------------------------------------------------------
    def _selected_name(self) -> str | None:
        selected = self._handles.selected
        return None if selected is None else selected.name

    def _place_initial_handles(self, move: bool = False) -> None:
        """Two handles either side of the centre of the data, so the map and interpolation show something at once.

        With `move`, the two starting handles move to the data's centre again (the encoding drifts a long
        way early in training); once the user has moved, added or removed a handle they stay put.
        """
        self._initial_handles_placed = True
        if len(self._handles) and not move:
            return
        plane = self._current_plane()
        if self._points is not None and len(self._points.means):
            uv = plane.to_map(self._points.means)
            centre, spread = np.median(uv, axis=0), max(float(uv[:, 0].std()), 1e-3)
        else:
            centre, spread = plane.to_map(np.zeros(self._handles.z_dim)), 1.0
        places = [plane.to_latent(centre + np.array([du, 0.0])) for du in (-spread, spread)]
        if move:
            for name, z in zip(self._handles.names, places, strict=True):
                self._handles.move(name, z)
        else:
            for z in places:
                self._handles.add(z)
            self._handles.select(self._handles.names[0])
        self._auto_handles = {h.name: h.z.copy() for h in self._handles}

    def _handles_untouched(self) -> bool:
        """True while the handles are exactly the two starting handles where they were put."""
        auto = self._auto_handles
        return (
            bool(auto)
            and list(self._handles.names) == list(auto)
            and all(np.array_equal(self._handles.get(name).z, z) for name, z in auto.items())
        )

    def _select_handle(self, name: str) -> None:
        if name not in self._handles or name == self._selected_name():
            return
        self._handles.select(name)
        if self.controls.plane_mode == PLANE_DIMS and self._handles.z_dim > 2:
            self._apply_plane(self._current_plane())  # the other dimensions follow the selected handle
        else:
            self._sync_handles()
        self._show_selected()
        self._sync_sliders()
        self._update_plane_status()

    def _after_handles_changed(self) -> None:
        """Handles were added or removed: redraw them and everything that depends on them."""
        if self.controls.plane_mode == PLANE_DIMS and self._handles.z_dim > 2:
            self._apply_plane(self._current_plane())
        else:
            self._sync_handles()
            self._update_path()
            self._update_plane_status()
        self.interpolation_box.set_handles(self._handles.names, self._handles.pair)
        self._show_selected()
        self._sync_sliders()
        self._update_interpolation()

    def _after_handle_values_changed(self, name: str) -> None:
        """One handle's z changed (slider, snap): redraw it, and the plane if it is anchored to it."""
        if self.controls.plane_mode == PLANE_DIMS and self._handles.z_dim > 2 and name == self._selected_name():
            self._apply_plane(self._current_plane())
        else:
            self._sync_handles()
            self._update_plane_status()
        if name == self._selected_name():
            self._show_selected()
            self._sync_sliders()
        if name in self._handles.pair:
            self._update_interpolation()

    def _sync_handles(self) -> None:
        selected = self._selected_name()
        rows = [(h.name, self._plane.to_map(h.z), h.name == selected, self._on_plane(h.z)) for h in self._handles]
        self.map_view.sync_handles(rows)

    def _on_handle_dragged(self, name: str, u: float, v: float) -> None:
        """The hot path: every mouse move of a drag lands here and the decoded image is set before returning."""
        if name not in self._handles:
            return
        z = move_in_plane(self._plane, self._handles.get(name).z, np.array([u, v]))
        self._handles.move(name, z)
        if name == self._selected_name():
            self._show_selected()
            self._slider_sync.start()
        if name in self._handles.pair:
            self._update_interpolation()
        shown = self._plane.to_map(z)
        if abs(shown[0] - u) + abs(shown[1] - v) > 1e-9:  # e.g. z_dim == 1: the map is a line
            self.map_view.place_handle(name, float(shown[0]), float(shown[1]))
        if self._handles.z_dim > 2 and name == self._selected_name():
            self._update_plane_status()

    def _on_slider_edited(self, dim: int, value: float) -> None:
        name = self._selected_name()
        if name is None:
            return
        self._handles.set_value(name, dim, value)
        self._after_handle_values_changed(name)

    def _sync_sliders(self) -> None:
        selected = self._handles.selected
        self.sliders.set_enabled_rows(selected is not None)
        self._sliders_title.setText(
            f"z of handle {selected.name} (all {self._handles.z_dim} dimensions)" if selected else "z"
        )
        if selected is not None:
            self.sliders.set_values(selected.z)

    def _update_plane_status(self) -> None:
        selected = self._handles.selected
        z_dim = self._handles.z_dim
        off = selected is not None and z_dim > 2 and not self._on_plane(selected.z)
        self._snap_button.setVisible(off)
        if selected is None:
            text = "Double-click the map to add a handle."
        elif z_dim <= 2:
            text = f"The map is the whole latent space; {selected.name} decodes exactly the z under the marker."
        elif self.controls.plane_mode == PLANE_DIMS:
            u, v = (dimension_name(d) for d in self.controls.dims)
            text = f"The map varies {u} and {v}; the other dimensions are held at {selected.name}'s values."
        elif off:
            distance = float(self._plane.distance_from_plane(selected.z))
            text = (
                f"{selected.name} is {distance:.2f} off the map plane (dashed marker: its projection). "
                "Dragging keeps that offset."
            )
        else:
            text = f"{selected.name} lies on the map plane."
        self._plane_status.setText(text)

    def _on_pair_changed(self, start: str | None, end: str | None) -> None:
        self._handles.set_pair(start, end)
        self._update_interpolation()

    def _set_pair_end(self, which: int, name: str) -> None:
        pair = list(self._handles.pair)
        pair[which] = name
        self._handles.set_pair(*pair)
        self.interpolation_box.set_handles(self._handles.names, self._handles.pair)
        self._update_interpolation()

    # ---- decoding ------------------------------------------------------------------------------------------------
    def _decode(self, z: np.ndarray) -> np.ndarray:
        images = decode_images(self._mirror.model, z)
        if self._sample:
            if self._noise is None or self._noise.shape != images.shape[1:]:
                self._noise = uniform_noise(images.shape[1:], self._noise_seed)
            images = sample_pixels(images, self._noise)
        return images

    def _redecode(self) -> None:
        """Decode everything the panel shows (selected handle, inspected image, interpolation) in one batch.

        This runs on every weight update while training: each decoder call has a fixed Python cost, and
        Python on the GUI thread competes with the training thread for the GIL, so one call beats three.
        """
        if self._mirror.model is None:
            return
        selected = self._handles.selected
        inspected = self._inspected if self._inspected is not None and self._inspected.mean is not None else None
        path = self._interpolation_path()
        nothing = np.zeros((0, self._handles.z_dim))
        blocks = [
            nothing if selected is None else selected.z[None],
            nothing if inspected is None else inspected.mean[None],
            nothing if path is None else path,
        ]
        decoded = self._decode(np.concatenate(blocks))
        selected_image, inspected_image, path_images = np.split(decoded, np.cumsum([len(b) for b in blocks])[:-1])
        self._show_selected(selected_image[0] if selected is not None else None)
        if inspected is not None:
            self._update_inspected(encode=False, reconstruction=inspected_image[0])
        self._update_interpolation(path_images if path is not None else None)

    def _show_selected(self, image: np.ndarray | None = None) -> None:
        """Show the selected handle's decoding (`image` when the caller already decoded it)."""
        selected = self._handles.selected
        if selected is None or self._mirror.model is None:
            self._handle_title.setText("No handle selected")
            self.handle_image.set_image(None)
            return
        source = f" · {selected.source}" if selected.source else ""
        self._handle_title.setText(f"Handle {selected.name}{source}")
        self.handle_image.set_image(self._decode(selected.z[None])[0] if image is None else image)
        self.selectedImageChanged.emit()

    def _interpolation_path(self) -> np.ndarray | None:
        """The latent points between the interpolation pair, or None without a pair."""
        start, end = self._handles.pair
        if start is None or end is None:
            return None
        return interpolate(self._handles.get(start).z, self._handles.get(end).z, self.interpolation_box.steps.value())

    def _update_interpolation(self, images: np.ndarray | None = None) -> None:
        """Decode (or take the already decoded `images` of) the interpolation path and draw it."""
        path = self._interpolation_path()
        if path is None or self._mirror.model is None:
            self._interpolation = None
            self.interpolation_box.strip.set_image(None)
            self.map_view.set_path(None)
            return
        self._interpolation = self._decode(path) if images is None else images
        self.interpolation_box.strip.set_image(tile_mosaic(self._interpolation, 1, len(path), gap=2, fill=0.1))
        self.map_view.set_path(self._plane.to_map(path))

    def _update_path(self) -> None:
        path = self._interpolation_path()
        self.map_view.set_path(None if path is None else self._plane.to_map(path))

    # ---- inspected image -------------------------------------------------------------------------------------------
    def _on_point_clicked(self, position: int) -> None:
        if self._points is None:
            return
        index = int(self._points.indices[position])
        self.show_test_image(index)
        self.testImageSelected.emit(index)

    def _update_inspected(self, encode: bool, reconstruction: np.ndarray | None = None) -> None:
        """Show the inspected image; `encode` re-encodes it first, `reconstruction` is its decoding if known."""
        inspected = self._inspected
        if inspected is None or self._mirror.model is None:
            return
        if encode or inspected.mean is None:
            mean, std = encode_means(self._mirror.model, torch.from_numpy(inspected.image[None]))
            inspected.mean, inspected.stddev = mean[0].astype(np.float64), std[0].astype(np.float64)
        box = self.inspected_box
        box.title.setText(inspected.title)
        box.original.set_image(_display(inspected.image))
        if reconstruction is None or encode:
            reconstruction = self._decode(inspected.mean[None])[0]
        box.reconstruction.set_image(reconstruction)
        box.add_button.setEnabled(True)
        self._update_ellipse()

    def _update_ellipse(self) -> None:
        inspected = self._inspected
        if inspected is None or inspected.mean is None:
            self.map_view.set_ellipse(None)
            return
        outline = posterior_ellipse(self._plane, inspected.mean, inspected.stddev)
        self.map_view.set_ellipse(outline, self._plane.to_map(inspected.mean))

    def _add_inspected_as_handle(self) -> None:
        inspected = self._inspected
        if inspected is None or inspected.mean is None:
            return
        source = inspected.title.split(" · ")[0]
        self._handles.add(inspected.mean, source=source)
        self._after_handles_changed()

    def _hover_info(self, position: int) -> tuple[np.ndarray, str, int]:
        indices, images, labels = self._subset
        label = int(labels[position])
        names = self._class_names()
        name = names[label] if label < len(names) else f"class {label}"
        return _display(images[position]), f"#{indices[position]} · {name}", label

    def _class_names(self) -> list[str]:
        dataset = self._mirror.dataset
        return list(dataset.class_names) if dataset is not None else []

    # ---- files and messages ----------------------------------------------------------------------------------------
    def _open_image_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Encode an image onto the latent map", "", IMAGE_FILTER)
        if path:
            self.open_image_file(path)

    def _show_info(self, text: str) -> None:
        self._status_is_error = False
        self._status.setStyleSheet(f"color: {self._theme.muted_text};")
        self._status.setText(text)

    def _show_error(self, text: str) -> None:
        self._status_is_error = True
        self._status.setStyleSheet(f"color: {self._theme.error_text};")
        self._status.setText(text)

