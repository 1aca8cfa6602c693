"""The latent explorer's handles: named points in latent space the user places, drags and compares.

A handle's truth is its full latent vector z, not its map position: the map is only a plane through
latent space, so a slider edit can move a handle off it, and changing the plane moves every handle's
map position without changing what it decodes to.
"""

from __future__ import annotations

import string
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np


@dataclass
class Handle:
    name: str
    z: np.ndarray  # (z_dim,) float64
    source: str = ""  # where it came from, e.g. "photo.png" or "test image #12"; empty when placed by hand


class HandleSet:
    """Ordered handles with a selection and an interpolation pair, kept valid on every removal."""

    def __init__(self, z_dim: int) -> None:
        self.z_dim = z_dim
        self._handles: dict[str, Handle] = {}
        self._selected: str | None = None
        self._pair: tuple[str | None, str | None] = (None, None)

    # ---- contents ------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._handles)

    def __iter__(self) -> Iterator[Handle]:
        return iter(list(self._handles.values()))

    def __contains__(self, name: object) -> bool:
        return name in self._handles

    @property
    def names(self) -> list[str]:
        return list(self._handles)

    def get(self, name: str) -> Handle:
        return self._handles[name]

    def add(self, z: np.ndarray, source: str = "") -> Handle:
        """Add a handle with the next free name (A, B, …, Z, A2, B2, …), select it and fill the pair."""
        handle = Handle(self._next_name(), self._checked(z), source)
        self._handles[handle.name] = handle
        self._selected = handle.name
        first, second = self._pair
        if first is None:
            self._pair = (handle.name, second)
        elif second is None:
            self._pair = (first, handle.name)
        return handle

    def remove(self, name: str) -> None:
        """Remove a handle; the selection moves to its neighbour and the pair refills from the rest."""
        names = self.names
        position = names.index(name)
        del self._handles[name]
        if self._selected == name:
            rest = self.names
            self._selected = rest[min(position, len(rest) - 1)] if rest else None
        first, second = (None if n == name else n for n in self._pair)
        spare = [n for n in self.names if n not in (first, second)]
        if first is None and spare:
            first = spare.pop(0)
        if second is None and spare:
            second = spare.pop(0)
        self._pair = (first, second)

    def clear(self) -> None:
        self._handles.clear()
        self._selected = None
        self._pair = (None, None)

    def move(self, name: str, z: np.ndarray) -> None:
        self._handles[name].z = self._checked(z)

    def set_value(self, name: str, dim: int, value: float) -> None:
        """Set one latent coordinate of a handle (a slider edit)."""
        z = self._handles[name].z.copy()
        z[dim] = value
        self._handles[name].z = z

    # ---- selection and interpolation pair --------------------------------------------------------
    @property
    def selected(self) -> Handle | None:
        return self._handles[self._selected] if self._selected is not None else None

    def select(self, name: str | None) -> None:
        if name is not None and name not in self._handles:
            raise KeyError(name)
        self._selected = name

    @property
    def pair(self) -> tuple[str | None, str | None]:
        """Names of the interpolation start and end handles (None where there are too few handles)."""
        return self._pair

    def set_pair(self, first: str | None, second: str | None) -> None:
        for name in (first, second):
            if name is not None and name not in self._handles:
                raise KeyError(name)
        self._pair = (first, second)

    # ---- helpers ---------------------------------------------------------------------------------
    def _checked(self, z: np.ndarray) -> np.ndarray:
        z = np.array(z, dtype=np.float64).reshape(-1)
        if z.shape != (self.z_dim,):
            raise ValueError(f"a handle needs {self.z_dim} latent values, got {z.shape[0]}")
        if not np.all(np.isfinite(z)):
            raise ValueError("latent values must be finite numbers")
        return z

    def _next_name(self) -> str:
        round_ = 1
        while True:
            suffix = "" if round_ == 1 else str(round_)
            for letter in string.ascii_uppercase:
                if letter + suffix not in self._handles:
                    return letter + suffix
            round_ += 1
