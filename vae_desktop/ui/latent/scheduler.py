"""When the latent map's heavy jobs run: one place for versions, the weights copy, pacing and the worker.

Encoding up to 10,000 test images and decoding the manifold run on `MapWorker` from a numpy snapshot
of the weights. While training sends new weights the map is refreshed within a CPU budget (at most
twice a second, and at most 5 % of one core counting every job a refresh causes, see `cpu_budget`);
view changes (pan, zoom, grid size) re-decode the manifold at most every 120 ms. Both pace with
superqt's leading-edge throttle: the first request runs at once, a burst coalesces into one more.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QObject, Signal
from superqt.utils import qthrottled

from vae_desktop.core.latent import LatentPlane
from vae_desktop.core.latent_map import MapJob, MapResult
from vae_desktop.ui.latent.cpu_budget import RefreshBudget
from vae_desktop.ui.latent.map_worker import MapWorker
from vae_desktop.ui.model_mirror import ModelMirror

WEIGHTS_REFRESH_MS = 500  # scatter + manifold at most twice a second while training...
MAP_CPU_BUDGET = 0.05  # ...and at most 5 % of one core: a 300 ms refresh waits 6 s before the next
MAX_WEIGHTS_REFRESH_MS = 10_000
VIEW_REFRESH_MS = 120  # manifold while panning or zooming

Subset = tuple[np.ndarray, np.ndarray, np.ndarray]  # test-set indices, uint8 images, labels
View = tuple[tuple[float, float], tuple[float, float]]


class MapScheduler(QObject):
    """Paces and submits map jobs; passes on only results computed for the current model."""

    resultReady = Signal(object)  # MapResult of the current model (numpy arrays only)
    failed = Signal(str)

    def __init__(
        self,
        mirror: ModelMirror,
        refresh_after_weights: Callable[[], None],
        refresh_view: Callable[[], None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._mirror = mirror
        self._refresh_after_weights = refresh_after_weights
        self._first_version = 0  # results older than this belong to a replaced model
        self._budget = RefreshBudget(MAP_CPU_BUDGET, WEIGHTS_REFRESH_MS / 1000, MAX_WEIGHTS_REFRESH_MS / 1000)
        self._weights_throttle = qthrottled(self._weights_cycle, WEIGHTS_REFRESH_MS, leading=True, parent=self)
        self._view_throttle = qthrottled(refresh_view, VIEW_REFRESH_MS, leading=True, parent=self)
        self._worker = MapWorker(self)
        self._worker.resultReady.connect(self._on_result)
        self._worker.failed.connect(self.failed)
        self._closed = False

    @property
    def worker(self) -> MapWorker:
        return self._worker

    @property
    def weights_interval_ms(self) -> int:
        """The current pause between automatic refreshes while training (the CPU budget sets it)."""
        return self._weights_throttle.timeout()

    def weights_updated(self) -> None:
        """New weights: refresh now, or once at the end of the current pause."""
        if not self._closed:
            self._weights_throttle()

    def view_changed(self) -> None:
        """The visible region, grid or plane changed: re-decode the manifold soon."""
        if not self._closed:
            self._view_throttle()

    def model_replaced(self) -> None:
        """A different model: nothing queued for the old one runs, and its late results are dropped."""
        _stop(self._weights_throttle)
        self._first_version = self._mirror.version

    def submit(
        self, plane: LatentPlane, uses_pca: bool, subset: Subset | None, view: View | None, grid_size: int
    ) -> None:
        """Encode `subset` (if given) and decode the manifold over `view` (if given) with the current weights."""
        model = self._mirror.model
        if model is None or (subset is None and view is None):
            return
        if plane.z_dim != model.config.z_dim:
            # A view change while a new model is being set up (the map page appearing resizes the view)
            # still sees the previous plane; that job could not run. The set-up submits its own job.
            return
        indices, images, labels = subset if subset is not None else (None, None, None)
        self._worker.submit(
            MapJob(
                version=self._mirror.version,
                config=model.config,
                state=self._mirror.state_snapshot(),
                plane=plane,
                plane_mode="pca" if uses_pca else "fixed",
                images=images,
                indices=indices,
                labels=labels,
                view=view,
                grid_size=grid_size,
            )
        )

    def shutdown(self) -> None:
        """Stop pacing, drop queued work and join the worker thread. Safe to call more than once."""
        self._closed = True
        _stop(self._weights_throttle)
        _stop(self._view_throttle)
        self._worker.shutdown()

    def _weights_cycle(self) -> None:
        self._budget.start_cycle()
        self._refresh_after_weights()

    def _on_result(self, result: MapResult) -> None:
        self._budget.charge(result.seconds)
        self._weights_throttle.setTimeout(self._budget.interval_ms())
        if self._mirror.model is None or result.version < self._first_version:
            return  # computed for a model that has since been replaced
        self.resultReady.emit(result)


def _stop(throttled: object) -> None:
    """Drop a pending call and end the current pause: the next request runs at once again."""
    throttled.cancel()  # type: ignore[attr-defined]
    throttled.flush(restart_timer=False)  # type: ignore[attr-defined]
