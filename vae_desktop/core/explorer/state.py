"""ExplorerState: what the latent explorer shows, as plain data that says when it changed.

The map is a plane through latent space; handles are latent points (z is their truth). Which plane
is shown follows from the mode (PCA plane of the encoded means, or two chosen dimensions with the
others held at the selected handle's values), so when the plane follows the selection, selecting or
editing a handle moves the plane too. The state works that out once (`plane_follows_selection`) and
emits `plane_changed` itself; views only listen. No Qt here: tested without a display.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from psygnal import Signal

from vae_desktop.core.explorer.decoding import Decoding
from vae_desktop.core.handles import Handle, HandleSet
from vae_desktop.core.latent import (
    LatentPlane,
    dimension_name,
    dims_plane,
    identity_plane,
    interpolate,
    most_active_dimensions,
    move_in_plane,
    snap_to_plane,
)

PLANE_PCA = "pca"
PLANE_DIMS = "dims"
ON_PLANE_TOLERANCE = 1e-6
DEFAULT_STEPS = 8


@dataclass
class Inspected:
    """An image whose posterior is drawn on the map: a test point or an opened file."""

    title: str  # e.g. "Test image #12 · circle"
    source: str  # what a handle made from it is called: "Test image #12", "photo.png"
    image: np.ndarray  # uint8 (C, H, W)
    test_index: int | None
    mean: np.ndarray | None = None  # posterior under the current weights
    stddev: np.ndarray | None = None


def same_plane(a: LatentPlane, b: LatentPlane) -> bool:
    return a.axes.shape == b.axes.shape and np.allclose(a.origin, b.origin) and np.allclose(a.axes, b.axes)


class ExplorerState:
    """Handles, selection, interpolation pair, plane, decode mode and the inspected image of one model."""

    reset = Signal()  # a new model: another z_dim, no handles, no PCA plane yet
    plane_changed = Signal()  # the shown plane changed (mode, dimensions, PCA plane, or its anchor)
    handles_changed = Signal()  # handles added or removed (selection and pair follow)
    handle_moved = Signal(str)  # one handle's z was edited (slider, snap)
    handle_dragged = Signal(str, float, float)  # the hot path: a drag moved it to map point (u, v)
    selection_changed = Signal()
    interpolation_changed = Signal()  # pair or steps
    decode_changed = Signal()  # mean or sample, or new noise
    inspected_changed = Signal()

    def __init__(self, z_dim: int = 2) -> None:
        self.decoding = Decoding()
        self._mode = PLANE_PCA
        self._steps = DEFAULT_STEPS
        self._start(z_dim)

    def _start(self, z_dim: int) -> None:
        self._handles = HandleSet(z_dim)
        self._dims = (0, 1 if z_dim > 1 else 0)
        self._dims_by_hand = False  # the user picked the two dimensions: no default replaces them
        self._pca: LatentPlane | None = None
        self._inspected: Inspected | None = None
        self._auto_handles: dict[str, np.ndarray] = {}  # the starting handles, until moved by hand
        self.initial_handles_placed = False
        self._plane = self.current_plane()

    def reset_model(self, z_dim: int) -> None:
        """A new model: everything z-shaped starts over (the plane mode and decode mode stay)."""
        self._start(z_dim)
        self.decoding.forget_noise()
        self.reset.emit()

    # ---- reading ---------------------------------------------------------------------------------
    @property
    def z_dim(self) -> int:
        return self._handles.z_dim

    @property
    def handles(self) -> HandleSet:
        """Read them here; change them through the state's methods so views hear of it."""
        return self._handles

    def __iter__(self) -> Iterator[Handle]:
        return iter(self._handles)

    @property
    def selected(self) -> Handle | None:
        return self._handles.selected

    @property
    def selected_name(self) -> str | None:
        selected = self._handles.selected
        return None if selected is None else selected.name

    @property
    def plane(self) -> LatentPlane:
        """The plane the map shows."""
        return self._plane

    @property
    def plane_mode(self) -> str:
        return self._mode

    @property
    def dims(self) -> tuple[int, int]:
        """The two dimensions of the "dims" plane (0-based)."""
        return self._dims

    @property
    def pca(self) -> LatentPlane | None:
        return self._pca

    @property
    def uses_pca(self) -> bool:
        """The map shows the PCA plane of the encoded means (only a choice above two dimensions)."""
        return self.z_dim > 2 and self._mode == PLANE_PCA

    @property
    def plane_follows_selection(self) -> bool:
        """Two chosen dimensions of more than two: the others are the selected handle's values."""
        return self.z_dim > 2 and self._mode == PLANE_DIMS

    @property
    def plane_dims(self) -> tuple[int, ...]:
        """The latent dimensions the map's axes vary (none on the PCA plane above two)."""
        if self.z_dim <= 2:
            return tuple(range(self.z_dim))
        return self._dims if self._mode == PLANE_DIMS else ()

    @property
    def inspected(self) -> Inspected | None:
        return self._inspected

    @property
    def steps(self) -> int:
        return self._steps

    @property
    def sample(self) -> bool:
        return self.decoding.sample

    def on_plane(self, z: np.ndarray) -> bool:
        return float(self._plane.distance_from_plane(z)) <= ON_PLANE_TOLERANCE * (1.0 + float(np.abs(z).max()))

    def current_plane(self) -> LatentPlane:
        """The plane the mode, dimensions, PCA plane and selection call for."""
        z_dim = self.z_dim
        if z_dim <= 2:
            return identity_plane(z_dim)
        if self._mode == PLANE_PCA:
            return self._pca if self._pca is not None else identity_plane(z_dim)
        selected = self._handles.selected
        if selected is not None:
            anchor = selected.z
        else:
            anchor = self._pca.origin if self._pca is not None else np.zeros(z_dim)
        return dims_plane(z_dim, *self._dims, anchor)

    def interpolation_path(self) -> np.ndarray | None:
        """The latent points between the interpolation pair, or None without a pair."""
        start, end = self._handles.pair
        if start is None or end is None:
            return None
        return interpolate(self._handles.get(start).z, self._handles.get(end).z, self._steps)

    def plane_status(self) -> tuple[str, bool]:
        """What the side panel says about the selected handle and the plane; True if it is off the plane."""
        selected = self._handles.selected
        z_dim = self.z_dim
        off = selected is not None and z_dim > 2 and not self.on_plane(selected.z)
        if selected is None:
            text = "Double-click the map to add a handle."
        elif z_dim <= 2:
            text = f"The map is the whole latent space; {selected.name} decodes exactly the z under the marker."
        elif self._mode == PLANE_DIMS:
            u, v = (dimension_name(d) for d in self._dims)
            text = f"The map varies {u} and {v}; the other dimensions are held at {selected.name}'s values."
        elif off:
            distance = float(self._plane.distance_from_plane(selected.z))
            text = (
                f"{selected.name} is {distance:.2f} off the map plane (dashed marker: its projection). "
                "Dragging keeps that offset."
            )
        else:
            text = f"{selected.name} lies on the map plane."
        return text, off

    # ---- plane -----------------------------------------------------------------------------------
    def set_plane(
        self, mode: str, dims: tuple[int, int] | None = None, by_hand: bool = False, means: np.ndarray | None = None
    ) -> None:
        """Show the PCA plane or two dimensions; `by_hand`: the user chose `dims` (no default replaces them).

        Until the user picks dimensions, the "dims" plane shows the two `means` vary most along, if given.
        """
        if mode not in (PLANE_PCA, PLANE_DIMS):
            raise ValueError(f"plane mode must be {PLANE_PCA!r} or {PLANE_DIMS!r}, got {mode!r}")
        before = (self._mode, self._dims)
        self._mode = mode
        if dims is not None:
            self._dims = (int(dims[0]), int(dims[1]))
            self._dims_by_hand = self._dims_by_hand or by_hand
        if mode == PLANE_DIMS and means is not None:
            self._suggest(means)
        self.update_plane(force=(self._mode, self._dims) != before)

    def set_pca(self, plane: LatentPlane) -> None:
        """The PCA plane of the latest encoding (it drifts while training)."""
        self._pca = plane
        self.update_plane()

    def suggest_dims(self, means: np.ndarray) -> None:
        """Until the user picks two dimensions, show the two the encoder uses most (its means vary most)."""
        if self._suggest(means):
            self.update_plane(force=True)

    def _suggest(self, means: np.ndarray) -> bool:
        if self._dims_by_hand or self.z_dim <= 2 or not len(means):
            return False
        found = most_active_dimensions(means, 2)
        dims = (int(found[0]), int(found[1]))
        changed = dims != self._dims
        self._dims = dims
        return changed

    def update_plane(self, force: bool = False) -> None:
        """Show the plane the mode, dimensions, PCA plane and selection call for; `plane_changed` if it moved
        (or, with `force`, if what the plane means changed although it lies in the same place)."""
        plane = self.current_plane()
        if force or not same_plane(plane, self._plane):
            self._plane = plane
            self.plane_changed.emit()

    # ---- handles ---------------------------------------------------------------------------------
    def add_handle(self, z: np.ndarray, source: str = "") -> Handle:
        handle = self._handles.add(z, source=source)
        self._after_handles_changed()
        return handle

    def add_handle_at(self, u: float, v: float) -> Handle:
        """A handle at a map point (on the plane)."""
        return self.add_handle(self._plane.to_latent(np.array([u, v])))

    def remove_handle(self, name: str) -> None:
        if name in self._handles:
            self._handles.remove(name)
            self._after_handles_changed()

    def select(self, name: str) -> None:
        if name not in self._handles or name == self.selected_name:
            return
        self._handles.select(name)
        if self.plane_follows_selection:
            self.update_plane()  # the other dimensions follow the selected handle
        self.selection_changed.emit()

    def drag(self, name: str, u: float, v: float) -> None:
        """Move a handle to map point (u, v) keeping its offset from the plane (a drag never moves the plane)."""
        if name not in self._handles:
            return
        self._handles.move(name, move_in_plane(self._plane, self._handles.get(name).z, np.array([u, v])))
        self.handle_dragged.emit(name, u, v)

    def set_value(self, name: str, dim: int, value: float) -> None:
        """One latent coordinate of a handle (a slider edit)."""
        if name in self._handles:
            self._handles.set_value(name, dim, value)
            self._after_handle_moved(name)

    def snap_to_plane(self, name: str | None) -> None:
        if name is None or name not in self._handles:
            return
        self._handles.move(name, snap_to_plane(self._plane, self._handles.get(name).z))
        self._after_handle_moved(name)

    def set_pair(self, start: str | None, end: str | None) -> None:
        self._handles.set_pair(start, end)
        self.interpolation_changed.emit()

    def set_pair_end(self, which: int, name: str) -> None:
        pair = list(self._handles.pair)
        pair[which] = name
        self.set_pair(pair[0], pair[1])

    def set_steps(self, steps: int) -> None:
        if steps < 2:
            raise ValueError("interpolation needs at least 2 steps")
        self._steps = int(steps)
        self.interpolation_changed.emit()

    def _after_handles_changed(self) -> None:
        if self.plane_follows_selection:
            self.update_plane()
        self.handles_changed.emit()

    def _after_handle_moved(self, name: str) -> None:
        if self.plane_follows_selection and name == self.selected_name:
            self.update_plane()
        self.handle_moved.emit(name)

    # ---- starting handles ---------------------------------------------------------------------------
    def place_initial_handles(self, means: np.ndarray | None, move: bool = False) -> None:
        """Two handles either side of the centre of the data, so the map and interpolation show something at once.

        With `move`, the two starting handles move to the data's centre again (the encoding drifts a long
        way early in training); once the user has moved, added or removed a handle they stay put.
        Views hear `handles_changed` (the caller may delay it: see `LatentPanel._on_map_result`).
        """
        self.initial_handles_placed = True
        if len(self._handles) and not move:
            return
        plane = self.current_plane()
        if means is not None and len(means):
            uv = plane.to_map(means)
            centre, spread = np.median(uv, axis=0), max(float(uv[:, 0].std()), 1e-3)
        else:
            centre, spread = plane.to_map(np.zeros(self.z_dim)), 1.0
        places = [plane.to_latent(centre + np.array([du, 0.0])) for du in (-spread, spread)]
        if move:
            for name, z in zip(self._handles.names, places, strict=True):
                self._handles.move(name, z)
        else:
            for z in places:
                self._handles.add(z)
            self._handles.select(self._handles.names[0])
        self._auto_handles = {h.name: h.z.copy() for h in self._handles}

    def handles_untouched(self) -> bool:
        """True while the handles are exactly the two starting handles where they were put."""
        auto = self._auto_handles
        return (
            bool(auto)
            and list(self._handles.names) == list(auto)
            and all(np.array_equal(self._handles.get(name).z, z) for name, z in auto.items())
        )

    def announce_handles(self) -> None:
        """Tell views the handles changed after `place_initial_handles` (which stays quiet)."""
        self._after_handles_changed()

    # ---- decoding ----------------------------------------------------------------------------------
    def set_sample(self, sample: bool) -> None:
        """Decode the mean image (False, default) or a Bernoulli sample of it (True)."""
        if bool(sample) == self.decoding.sample:
            return
        self.decoding.sample = bool(sample)
        self.decode_changed.emit()

    def resample(self) -> None:
        self.decoding.resample()
        self.decode_changed.emit()

    # ---- inspected image -----------------------------------------------------------------------------
    def inspect(self, inspected: Inspected | None) -> None:
        self._inspected = inspected
        self.inspected_changed.emit()

    def set_posterior(self, mean: np.ndarray, stddev: np.ndarray) -> None:
        """The inspected image's posterior under the current weights (views redraw on `inspected_changed`)."""
        if self._inspected is None:
            return
        self._inspected.mean = np.asarray(mean, dtype=np.float64)
        self._inspected.stddev = np.asarray(stddev, dtype=np.float64)

    def add_inspected_as_handle(self) -> Handle | None:
        """A handle at the inspected image's posterior mean, named after where the image came from."""
        inspected = self._inspected
        if inspected is None or inspected.mean is None:
            return None
        return self.add_handle(inspected.mean, source=inspected.source)
