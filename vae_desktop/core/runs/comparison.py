"""RunComparison: the runs overlaid in the loss plots, as plain data that says when it changed.

An ordered set of runs (run folders opened with `open_run`, and possibly the window's own run),
each with its settings, its curves, a colour index that stays with it while it is compared, a
visible flag, and one selected run (the one the latent panel and inspector follow). Legend labels
name only the settings that differ between the runs ("β = 4", "z = 2"), so two curves are told
apart by what was changed, not by folder names; with nothing differing they are the names.
No Qt here: the plots and the run list subscribe to the psygnal signals.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from psygnal import Signal

from vae_desktop.core.metrics import EpochMetrics
from vae_desktop.core.runs.history import RunHistory
from vae_desktop.core.runs.opening import OpenedRun, classify_path, open_run, source_for
from vae_desktop.core.series import LossTrace, smoothing_window

OWN_RUN_KEY = "window"  # the key of the window's own run (run folders are keyed by their path)
PALETTE_SIZE = 8  # colours the views have (Okabe-Ito); the ninth run shares the first one's colour

# Settings a legend may name, in the order named, with how they are written. Device, epochs
# planned and image size are left out: they do not change what a curve means.
SETTING_LABELS: tuple[tuple[str, str], ...] = (
    ("dataset", "data"),
    ("z_dim", "z"),
    ("beta", "β"),
    ("lr", "lr"),
    ("batch_size", "batch"),
    ("base_width", "base width"),
    ("hidden", "hidden"),
    ("layout", "layout"),
    ("stddev", "σ"),
    ("recon_loss", "loss"),
    ("kl_warmup_epochs", "warm-up"),
    ("free_bits", "free bits"),
    ("seed", "seed"),
)


@dataclass
class RunCurves:
    """What a run's loss curves are drawn from: batch rows (global step, recon, KL) and epoch rows."""

    steps: np.ndarray = field(default_factory=lambda: np.empty(0))
    recon: np.ndarray = field(default_factory=lambda: np.empty(0))
    kl: np.ndarray = field(default_factory=lambda: np.empty(0))
    epochs: list[EpochMetrics] = field(default_factory=list)
    steps_per_epoch: int = 1
    _trace: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def smoothing(self) -> int:
        """Batches the smoothed curve averages: as in a single run's plot."""
        return smoothing_window(max(1, self.steps_per_epoch))

    def trace(self) -> np.ndarray:
        """The batch rows as the plots draw them (core.series.LossTrace columns: thinned for long
        runs, with trailing means); worked out once, by whoever asks first (the thread that read
        the folder), since a run of 10^6 steps takes a tenth of a second."""
        if self._trace is None:
            trace = LossTrace(self.smoothing)
            trace.append(np.asarray(self.steps, np.float64), np.asarray(self.recon, np.float64),
                         np.asarray(self.kl, np.float64))
            self._trace = trace.view().copy()
        return self._trace

    @classmethod
    def of_history(cls, history: RunHistory, steps_per_epoch: int = 0) -> RunCurves:
        """A run folder's history; steps per epoch from run.json, else from the batch rows."""
        batch = history.batch_arrays()
        if steps_per_epoch <= 0:
            steps_per_epoch = int(batch["step"].max()) if len(batch["step"]) else 1
        return cls(batch["global_step"], batch["recon"], batch["kl"], history.epoch_metrics, max(1, steps_per_epoch))


@dataclass
class ComparedRun:
    """One run in the comparison. `checkpoint` is the file its model loads from ('' when none yet)."""

    key: str
    name: str
    settings: dict[str, Any]
    curves: RunCurves
    checkpoint: str = ""
    colour: int = 0
    visible: bool = True

    @property
    def is_own(self) -> bool:
        return self.key == OWN_RUN_KEY


def flat_settings(dataset: str, model_config: Mapping[str, Any], train_config: Mapping[str, Any]) -> dict[str, Any]:
    """One flat dict of a run's settings (run.json's dataset, model_config and train_config)."""
    return {"dataset": dataset, **dict(model_config), **dict(train_config)}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        try:
            return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=0.0)
        except (TypeError, ValueError):
            return False
    return bool(a == b)


def _written(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    text = str(value)
    if text.startswith("folder:"):  # an image folder is named by its last part, not its whole path
        return "folder:" + (Path(text[len("folder:"):]).name or text[len("folder:"):])
    return text


def differing_settings(runs: Sequence[ComparedRun]) -> list[str]:
    """A legend label per run naming the settings that differ between them ("β = 4, z = 2").

    With one run, or none differing, the labels are the runs' names; runs whose differing settings
    are all the same (two seeds of one recipe that differ only in a setting not named) get their
    name added, so no two labels are equal.
    """
    if len(runs) < 2:
        return [run.name for run in runs]
    differing = []
    for key, _label in SETTING_LABELS:
        values = [run.settings.get(key) for run in runs]
        if any(not _same(values[0], v) for v in values[1:]):
            differing.append(key)
    if not differing:
        return [run.name for run in runs]
    written = dict(SETTING_LABELS)
    labels = [
        ", ".join(f"{written[key]} = {_written(run.settings.get(key, '—'))}" for key in differing) for run in runs
    ]
    repeated = {label for label in labels if labels.count(label) > 1}
    return [f"{label} ({run.name})" if label in repeated else label for label, run in zip(labels, runs, strict=True)]


class RunComparison:
    """The compared runs, in the order added; colours stay with a run until it is removed."""

    changed = Signal()  # runs added or removed, or their labels changed
    curves_changed = Signal(str)  # key: that run's curves grew (a live run); the runs and labels are as they were
    visibility_changed = Signal(str, bool)  # key, visible
    selection_changed = Signal(str)  # key of the selected run ('' when none)

    def __init__(self) -> None:
        self._runs: dict[str, ComparedRun] = {}
        self._selected = ""

    def __len__(self) -> int:
        return len(self._runs)

    def __iter__(self) -> Iterator[ComparedRun]:
        return iter(list(self._runs.values()))

    def __contains__(self, key: object) -> bool:
        return key in self._runs

    @property
    def runs(self) -> list[ComparedRun]:
        return list(self._runs.values())

    def run(self, key: str) -> ComparedRun:
        return self._runs[key]

    def labels(self) -> dict[str, str]:
        """Legend label of each run, by key."""
        runs = self.runs
        return dict(zip((r.key for r in runs), differing_settings(runs), strict=True))

    def add(self, run: ComparedRun) -> ComparedRun:
        """Add `run`, or replace the run with its key (reopened: it keeps its colour and visibility)."""
        old = self._runs.get(run.key)
        if old is not None:
            run.colour, run.visible = old.colour, old.visible
        else:
            used = {r.colour for r in self._runs.values()}
            run.colour = next((i for i in range(PALETTE_SIZE) if i not in used), len(self._runs) % PALETTE_SIZE)
        self._runs[run.key] = run
        if not self._selected:
            self._selected = run.key
            self.changed.emit()
            self.selection_changed.emit(run.key)
            return run
        self.changed.emit()
        return run

    def remove(self, key: str) -> None:
        if self._runs.pop(key, None) is None:
            return
        self.changed.emit()
        if self._selected == key:
            self._selected = next(iter(self._runs), "")
            self.selection_changed.emit(self._selected)

    def clear(self) -> None:
        if not self._runs:
            return
        self._runs.clear()
        self._selected = ""
        self.changed.emit()
        self.selection_changed.emit("")

    def update_curves(self, key: str, curves: RunCurves) -> None:
        """New data for a run already compared (the window's own run trained on, a live run grew)."""
        if key in self._runs:
            self._runs[key].curves = curves
            self.curves_changed.emit(key)

    def set_visible(self, key: str, visible: bool) -> None:
        run = self._runs[key]
        if run.visible != visible:
            run.visible = visible
            self.visibility_changed.emit(key, visible)

    @property
    def selected(self) -> ComparedRun | None:
        return self._runs.get(self._selected)

    def select(self, key: str) -> None:
        if key not in self._runs:
            raise KeyError(key)
        if key != self._selected:
            self._selected = key
            self.selection_changed.emit(key)


def open_compared_run(folder: str) -> ComparedRun:
    """Read a run folder for the comparison (slow for long runs: call it off the GUI thread).

    RunFolderError when the folder is not a run folder; a folder without run.json (an older
    `train --out`) has no settings to name, so its legend falls back to the folder's name.
    A run that is still training is read as it is now; comparison_live keeps one growing.
    """
    opened = open_run(source_for(classify_path(folder)))
    info = opened.status.info
    curves = RunCurves.of_history(opened.history, info.progress.steps_per_epoch if info is not None else 0)
    curves.trace()  # here, off the GUI thread
    return compared_run(folder, opened, curves)


def compared_run(folder: str, opened: OpenedRun, curves: RunCurves) -> ComparedRun:
    """The comparison's entry for a run folder as `open_run` found it, drawn from `curves`."""
    info = opened.status.info
    settings = flat_settings(info.dataset, info.model_config, info.train_config) if info is not None else {}
    path = Path(folder)
    checkpoint = opened.checkpoint
    return ComparedRun(
        key=str(path.resolve()),
        name=path.name or str(path),
        settings=settings,
        curves=curves,
        checkpoint="" if checkpoint is None else checkpoint.path,
    )
