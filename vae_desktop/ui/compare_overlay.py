"""The loss plots overlaying the compared runs: a view of a `RunComparison`, nothing more.

While the comparison is empty the plots are exactly the single-run plots. Once it holds runs,
each run folder gets its curves in both plots, the window's own run (when compared) keeps its
live items recoloured in its run colour, and each title carries the runs' legend, naming the
settings that differ. Hidden runs lose their items and their legend key; the selected run is
drawn thicker, on top.
"""

from __future__ import annotations

from PySide6.QtCore import QObject

from vae_desktop.core.runs.comparison import OWN_RUN_KEY, RunComparison, RunCurves
from vae_desktop.ui.compare_plot_items import RunCurveItems, comparison_title, run_colour, style_run_items
from vae_desktop.ui.loss_plot_items import LossPlot
from vae_desktop.ui.loss_plots import LossPlots
from vae_desktop.ui.theme import Theme, on_theme


class ComparisonOverlay(QObject):
    """Keeps `plots` drawing what `comparison` holds."""

    def __init__(self, plots: LossPlots, comparison: RunComparison) -> None:
        super().__init__(plots)
        self._plots = plots
        self._comparison = comparison
        self._items: dict[str, tuple[RunCurveItems, RunCurveItems]] = {}
        self._drawn: dict[str, RunCurves] = {}  # the curves each run's items hold: redrawn only when new
        self._theme = on_theme(self, self._on_theme)
        comparison.changed.connect(self.refresh)
        comparison.curves_changed.connect(self.redraw)
        comparison.visibility_changed.connect(lambda _key, _visible: self.restyle())
        comparison.selection_changed.connect(lambda _key: self.restyle())

    @property
    def _lossplots(self) -> tuple[LossPlot, LossPlot]:
        return (self._plots.recon, self._plots.kl)

    def items_of(self, key: str) -> tuple[RunCurveItems, RunCurveItems] | None:
        """A run folder's (recon, KL) items; None for the window's own run and for runs not compared."""
        return self._items.get(key)

    def _on_theme(self, theme: Theme) -> None:
        self._theme = theme
        if hasattr(self, "_items"):  # on_theme calls once before __init__ has finished
            self.restyle()

    def refresh(self) -> None:
        """Items for the runs compared now, with their data; then colours, visibility and legend."""
        keys = {run.key for run in self._comparison if not run.is_own}
        for key in list(self._items):
            if key not in keys:
                for items in self._items.pop(key):
                    items.remove()
                self._drawn.pop(key, None)
        for run in self._comparison:
            if run.is_own:
                continue
            pair = self._items.get(run.key)
            if pair is None:
                pair = (RunCurveItems(self._plots.recon), RunCurveItems(self._plots.kl))
                self._items[run.key] = pair
            if self._drawn.get(run.key) is not run.curves:
                self._drawn[run.key] = run.curves
                for items in pair:
                    items.set_curves(run.curves)
        self.restyle()

    def redraw(self, key: str) -> None:
        """A live run grew: only its items take the new data (once a second at most, per run)."""
        pair = self._items.get(key)
        if pair is None or key not in self._comparison:
            return  # the window's own run draws itself
        run = self._comparison.run(key)
        if self._drawn.get(key) is run.curves:
            return
        self._drawn[key] = run.curves
        selected = self._comparison.selected is run
        for items in pair:
            items.set_curves(run.curves)
            items.style(run_colour(run.colour), self._theme, selected)

    def restyle(self) -> None:
        comparison, theme = self._comparison, self._theme
        if not len(comparison):  # back to the single-run plots, exactly as they are without a comparison
            for lp in self._lossplots:
                lp.apply_theme(theme)
                for item in (lp.raw, lp.smooth, lp.train, lp.test):
                    item.setVisible(True)
            return
        selected = comparison.selected
        labels = comparison.labels()
        own = OWN_RUN_KEY in comparison
        own_run = comparison.run(OWN_RUN_KEY) if own else None
        for lp in self._lossplots:
            own_items = (lp.raw, lp.smooth, lp.train, lp.test)
            for item in own_items:
                item.setVisible(own_run is not None and own_run.visible)
            if own_run is not None:
                style_run_items(own_items, colour=run_colour(own_run.colour), theme=theme,
                                selected=selected is own_run)
        for run in comparison:
            pair = self._items.get(run.key)
            if pair is None:
                continue
            for items in pair:
                items.style(run_colour(run.colour), theme, selected is run)
                items.set_visible(run.visible)
        keys = [(run_colour(run.colour), labels[run.key]) for run in comparison if run.visible]
        for lp in self._lossplots:
            lp.plot.setTitle(comparison_title(lp.title, theme, keys), size="9pt", justify="left")
