"""The test points on the latent map: which test images are shown, their encoding, and its projection.

Up to 10,000 test images are copied once per dataset (the worker thread encodes them from that copy,
never modified); each map result brings their posterior means, and the scatter is re-projected only
when the points or the plane change (pyqtgraph moves the points in place).
"""

from __future__ import annotations

import numpy as np
import torch

from vae_desktop.core.explorer import ExplorerState
from vae_desktop.core.latent import LatentPlane, fit_view, subset_indices
from vae_desktop.core.latent_map import EncodedPoints
from vae_desktop.ui.latent.explorer_view import display_image
from vae_desktop.ui.latent.map_view import LatentMapView
from vae_desktop.ui.model_mirror import ModelMirror

MAX_POINTS = 10_000

Subset = tuple[np.ndarray, np.ndarray, np.ndarray]  # test-set indices, uint8 images, int64 labels


class MapPoints:
    """The scatter's data and its drawing on `view`."""

    def __init__(self, mirror: ModelMirror, view: LatentMapView) -> None:
        self._mirror = mirror
        self._view = view
        self.subset: Subset | None = None
        self.points: EncodedPoints | None = None
        self.version = -1  # the mirror version whose encoding is shown
        self._drawn: tuple[int, int] | None = None  # ids of the (points, plane) the scatter shows
        view.set_hover_source(self._hover_info)

    def clear(self) -> None:
        self.points = None
        self.version = -1
        self._drawn = None
        self._view.clear_scatter()

    def prepare(self) -> tuple[str, bool]:
        """Pick (and copy once) the test images to show; returns the status line and whether it is an error."""
        dataset = self._mirror.dataset
        self.subset = None
        if dataset is None:
            refusal = self._mirror.refusal  # the mirror refuses a dataset the model cannot take
            if refusal is not None:
                return f"{refusal} The map shows no test points.", True
            return "No dataset loaded: the map shows the manifold and handles only.", False
        if dataset.num_test == 0:
            return f"{dataset.name} has no test images to show on the map.", False
        indices = subset_indices(dataset.num_test, MAX_POINTS)
        chosen = torch.from_numpy(indices)
        images = dataset.test_images[chosen].numpy()  # a copy; shared with the worker thread, never modified
        labels = dataset.test_labels[chosen].numpy().astype(np.int64)
        self.subset = (indices, images, labels)
        self._view.set_classes(self.class_names())  # now, not in the first map refresh while training starts
        return f"Encoding {len(indices):,} test images of {dataset.name}…", False

    def receive(self, points: EncodedPoints, version: int) -> bool:
        """New encoded points; True if they are the first since the model or dataset changed."""
        first = self.points is None
        self.points = points
        self.version = version
        return first

    def draw(self, plane: LatentPlane) -> None:
        """Project the points onto `plane` (once per new points or plane)."""
        points = self.points
        if points is None or self._drawn == (id(points), id(plane)):
            return
        self._drawn = (id(points), id(plane))
        self._view.set_scatter(plane.to_map(points.means), points.labels, self.class_names())

    def scatter(self) -> tuple[np.ndarray, np.ndarray]:
        """(test-set indices, map positions) of the points on the map."""
        if self.points is None:
            return np.zeros(0, np.int64), np.zeros((0, 2))
        return self.points.indices, self._view.scatter_positions()

    def fit_view(self, state: ExplorerState, force: bool = False) -> None:
        """Zoom to the points (or the handles without points); small drifts while training keep the view still."""
        _, uv = self.scatter()
        if len(uv) == 0:
            uv = np.array([state.plane.to_map(h.z) for h in state.handles]).reshape(-1, 2)
            if len(uv):
                uv = np.vstack([uv, uv.min(0) - 2.0, uv.max(0) + 2.0])
        (u0, u1), (v0, v1) = fit_view(uv)
        (cu0, cu1), (cv0, cv1) = self._view.visible_range()
        contained = cu0 <= u0 and u1 <= cu1 and cv0 <= v0 and v1 <= cv1
        too_wide = (u1 - u0) < 0.6 * (cu1 - cu0) and (v1 - v0) < 0.6 * (cv1 - cv0)
        if force or not contained or too_wide:
            self._view.set_visible_range((u0, u1), (v0, v1))

    def slider_limit(self) -> float:
        """How far the sliders reach: past nearly all the points' means (at least ±3)."""
        means = self.points.means if self.points is not None else np.zeros(0)
        limit = float(np.quantile(np.abs(means), 0.999)) * 1.25 if len(means) else 0
        return max(3.0, limit)

    def shown_text(self) -> str:
        """The status line while the points are on the map."""
        dataset = self._mirror.dataset
        count = len(self.points.indices) if self.points is not None else 0
        return (f"{count:,} test images of {dataset.name if dataset else 'the dataset'} · "
                "hover a point to see it, click to inspect it; double-click to add a handle, drag handles to decode.")

    def class_names(self) -> list[str]:
        dataset = self._mirror.dataset
        return list(dataset.class_names) if dataset is not None else []

    def _hover_info(self, position: int) -> tuple[np.ndarray, str, int]:
        assert self.subset is not None
        indices, images, labels = self.subset
        label = int(labels[position])
        names = self.class_names()
        name = names[label] if label < len(names) else f"class {label}"
        return display_image(images[position]), f"#{indices[position]} · {name}", label
