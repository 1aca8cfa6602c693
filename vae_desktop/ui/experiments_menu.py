"""Experiments ▸ …: each experiment in two clicks, as a new run compared with the run it started from.

An experiment is the current run's settings with one change (which half is μ, how σ is made, a remedy for
posterior collapse). Choosing one asks about unsaved work as File ▸ New run does, starts the new run, and
once its first batches arrive opens a comparison of it with the run it started from (that run's folder),
so the two sets of curves overlay with a legend naming the setting that differs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

if TYPE_CHECKING:
    from vae_desktop.ui.hyperparameter_form import HyperparameterForm
    from vae_desktop.ui.main_window import MainWindow


@dataclass(frozen=True)
class Experiment:
    key: str
    title: str
    tip: str
    apply: Callable[[HyperparameterForm], None]


def _choose(combo_name: str, value: str) -> Callable[[HyperparameterForm], None]:
    def apply(form: HyperparameterForm) -> None:
        combo = getattr(form, combo_name)
        combo.setCurrentIndex(combo.findData(value))
    return apply


def _set_text(field: str, text: str) -> Callable[[HyperparameterForm], None]:
    return lambda form: getattr(form, field).setText(text)


def _set_value(field: str, value: int) -> Callable[[HyperparameterForm], None]:
    return lambda form: getattr(form, field).setValue(value)


EXPERIMENTS = (
    Experiment("swap", "&Swap the halves (log σ first, then μ)",
               "Train again with the first half used as log σ and the second as μ: the curves match, because "
               "the roles come from how the outputs are used", _choose("halves", "logstd-first")),
    Experiment("softplus", "Stddev by s&oftplus",
               "Train again with σ = softplus(s) instead of exp(log σ): also always positive, it trains too",
               _choose("stddev", "softplus")),
    Experiment("raw", "Stddev &without exp (raw: fails)",
               "Train again using the output as σ directly: it goes negative and training stops at a named step, "
               "keeping the last good weights — why the network outputs log σ", _choose("stddev", "raw")),
    Experiment("beta", "Posterior collapse: &β = 4",
               "Train again with a 4× heavier KL term: more dimensions switch off (watch ⑤ and the active units)",
               _set_text("beta", "4")),
    Experiment("warmup", "Remedy: KL &warm-up (5 epochs)",
               "Train again with β ramped up from 0 over 5 epochs", _set_value("kl_warmup_epochs", 5)),
    Experiment("free_bits", "Remedy: &free bits (0.5 nats per dimension)",
               "Train again with the KL of each dimension never counted below 0.5 nats",
               _set_text("free_bits", "0.5")),
)


class ExperimentsMenu:
    """The menu and what its actions do; `actions[key]` finds an action by reference (tests, docs)."""

    def __init__(self, window: MainWindow) -> None:
        self._window = window
        self.menu = QMenu("E&xperiments", window)
        self.menu.setObjectName("experimentsMenu")
        self.actions: dict[str, QAction] = {}
        for experiment in EXPERIMENTS:
            action = QAction(experiment.title, window)
            action.setStatusTip(experiment.tip)
            action.setToolTip(experiment.tip)
            action.triggered.connect(lambda _checked=False, e=experiment: self.run(e))
            self.menu.addAction(action)
            self.actions[experiment.key] = action
        help_menu = window.menu_actions.help_menu
        window.menuBar().insertMenu(help_menu.menuAction(), self.menu)
        self._pending_comparison: str | None = None
        controller = window.controller
        assert controller is not None
        controller.batches.connect(self._compare_when_started)

    def run(self, experiment: Experiment) -> bool:
        """Start `experiment` as a new run; False (with a message) when it cannot start now."""
        window, controller = self._window, self._window.controller
        if controller is None:
            return False
        if controller.is_training:
            window.show_error("Stop training before starting an experiment: it starts a new run beside this one.")
            return False
        previous = controller.run_folder if controller.has_run else None
        if controller.has_run:
            window.new_run()  # asks Save / Discard / Cancel about unsaved work, as File ▸ New run does
            if controller.has_run:
                return False  # cancelled
        experiment.apply(window.form)
        self._pending_comparison = previous
        window.start_training()
        return True

    def _compare_when_started(self, _batches: object) -> None:
        """The experiment's first batches are in: compare it (the window's own run) with the run it left."""
        folder, self._pending_comparison = self._pending_comparison, None
        comparison = self._window.comparison
        if folder and comparison is not None:
            comparison.compare([folder])
