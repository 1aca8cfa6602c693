"""The Export menu: plots, the latent map, the manifold, reconstructions, an interpolation GIF, the
metrics, and a one-click report folder with all of them plus the run's settings.

This module only gathers what the window shows (rendered plots, the GUI's decoded images, the
metrics) and asks where to put it; encoding and writing files is `core.export` / `core.report`.
Each `export_*` method takes a path, writes it and returns it, or raises `ExportError` (nothing to
export yet) or `OSError`; the menu's dialogs show those as messages in the window.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, qVersion
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMenu

from vae_desktop.core.atomic import atomic_write_bytes
from vae_desktop.core.export import ExportError, reconstruction_sheet, tile_factor, write_gif, write_png
from vae_desktop.core.report import (
    LOSS_PNG,
    LOSS_SVG,
    MAP_PNG,
    MAP_SVG,
    ReportContents,
    run_config,
    write_report,
)
from vae_desktop.core.runs.comparison_csv import write_comparison_csv
from vae_desktop.core.versions import software_versions
from vae_desktop.ui.icons import action_icon
from vae_desktop.ui.logging_setup import LOGGER_NAME
from vae_desktop.ui.plot_export import plot_svg, widget_png

if TYPE_CHECKING:
    from vae_desktop.core.config import RunSettings
    from vae_desktop.core.model import VAE
    from vae_desktop.ui.latent_panel import LatentPanel
    from vae_desktop.ui.main_window import MainWindow

log = logging.getLogger(f"{LOGGER_NAME}.export")

LAST_DIR_KEY = "lastDirectory"  # shared with the window's other file dialogs
PNG_FILTER = "PNG images (*.png)"
SVG_FILTER = "SVG drawings (*.svg)"
GIF_FILTER = "Animated GIF (*.gif)"
CSV_FILTER = "CSV files (*.csv)"
NO_MODEL = "Start training or open a checkpoint first: there is no model to export from yet."
NO_COMPARISON = "No runs are compared: choose File ▸ Compare runs… first."
NO_LOSSES = "Nothing to plot yet: start training or open a checkpoint first."


class ExportController(QObject):
    """Owns the Export menu of one main window and does every export it offers."""

    def __init__(self, window: MainWindow, latent: LatentPanel) -> None:
        super().__init__(window)
        self.setObjectName("exportController")
        self._window = window
        self._latent = latent
        self.menu = QMenu("E&xport", window)
        self.menu.setObjectName("exportMenu")
        self.menu.aboutToShow.connect(self.update_actions)

        def add(name: str, text: str, tip: str, slot: Callable[[], None], shortcut: str | None = None) -> QAction:
            action = QAction(text, window)
            action.setObjectName(name)
            action.setStatusTip(tip)
            action.setToolTip(tip)
            if shortcut:
                action.setShortcut(QKeySequence(shortcut))
            action.triggered.connect(lambda _checked=False: slot())
            window.addAction(action)  # shortcuts work while the menu is closed
            self.menu.addAction(action)
            return action

        self.report_action = add(
            "exportReportAction", "Export &report…",
            "Write a folder with every plot and image below, the metrics and the settings, and an index.html",
            self._report_dialog, "Ctrl+E",
        )
        self.menu.addSeparator()
        self.loss_png_action = add("exportLossPngAction", "Loss plots as &PNG…",
                                   "Save the loss plots as an image, at twice their size on screen",
                                   lambda: self._save_dialog(self.export_loss_plots_png, "loss-plots.png", PNG_FILTER))
        self.loss_svg_action = add("exportLossSvgAction", "Loss plots as &SVG…",
                                   "Save the loss plots as a vector drawing (for papers and slides)",
                                   lambda: self._save_dialog(self.export_loss_plots_svg, "loss-plots.svg", SVG_FILTER))
        self.map_png_action = add("exportMapPngAction", "Latent &map as PNG…",
                                  "Save the latent map with its points, handles and path as an image",
                                  lambda: self._save_dialog(self.export_latent_map_png, "latent-map.png", PNG_FILTER))
        self.map_svg_action = add("exportMapSvgAction", "Latent map as S&VG…",
                                  "Save the latent map as a vector drawing",
                                  lambda: self._save_dialog(self.export_latent_map_svg, "latent-map.svg", SVG_FILTER))
        self.manifold_action = add("exportManifoldAction", "Ma&nifold grid as PNG…",
                                   "Save the grid of images decoded over the visible part of the map",
                                   lambda: self._save_dialog(self.export_manifold_png, "manifold-grid.png", PNG_FILTER))
        self.recon_action = add("exportReconAction", "Re&constructions as PNG…",
                                "Save the test images above their reconstructions",
                                lambda: self._save_dialog(self.export_reconstructions_png, "reconstructions.png",
                                                          PNG_FILTER))
        self.gif_action = add("exportGifAction", "&Interpolation as GIF…",
                              "Save the path between the two chosen handles as an animation, one frame per step",
                              lambda: self._save_dialog(self.export_interpolation_gif, "interpolation.gif",
                                                        GIF_FILTER))
        self.comparison_csv_action = add("exportComparisonCsvAction", "C&omparison as CSV…",
                                         "Save one row per epoch with a column per compared run and loss term",
                                         lambda: self._save_dialog(self.export_comparison_csv, "comparison.csv",
                                                                   CSV_FILTER))
        self.menu.addSeparator()
        self.report_action.setIcon(action_icon("report"))
        for action in (self.loss_png_action, self.map_png_action, self.gif_action):
            action.setIcon(action_icon("export"))
        acts = window.menu_actions
        metrics = acts.export_metrics  # the window's "Export metrics CSV…" moves into this menu
        acts.file_menu.removeAction(metrics)
        metrics.setText("&Metrics as CSV…")
        metrics.setStatusTip("Save one row per finished epoch: train and test losses, speed and time")
        self.menu.addAction(metrics)
        self.metrics_action = metrics

        window.menuBar().insertMenu(acts.help_menu.menuAction(), self.menu)
        # Greyed out while there is nothing to export; kept current so the report shortcut works at once.
        window.statusChanged.connect(self.update_actions)
        window.historyRestored.connect(self.update_actions)
        window.epochFinished.connect(self.update_actions)
        if window.mirror is not None:
            window.mirror.modelReplaced.connect(self.update_actions)
        self.update_actions()

    # ---- what is available ----------------------------------------------------------------------
    def _has_losses(self) -> bool:
        """The run has trained a step, or runs are compared (read from the status: copying the
        plots' data would cost a frame on every batch bundle of a long run)."""
        status = self._window.status
        return (status.has_run and status.global_step > 0) or self._comparing()

    def _comparing(self) -> bool:
        comparison = self._window.comparison
        return comparison is not None and comparison.active

    def _model(self) -> VAE | None:  # torch is loaded by now
        mirror = self._window.mirror
        return mirror.model if mirror is not None else None

    def update_actions(self, *_: object) -> None:
        """Grey out what there is nothing for yet (also run when the menu opens)."""
        losses, model = self._has_losses(), self._model() is not None
        for action in (self.loss_png_action, self.loss_svg_action):
            action.setEnabled(losses)
        for action in (self.map_png_action, self.map_svg_action, self.manifold_action):
            action.setEnabled(model)
        self.recon_action.setEnabled(model)
        comparing = self._comparing()
        self.comparison_csv_action.setEnabled(comparing)
        self.comparison_csv_action.setVisible(comparing)  # only while runs are compared
        self.gif_action.setEnabled(model)  # without two handles it says how to add them
        self.report_action.setEnabled(losses or model)

    # ---- single exports ---------------------------------------------------------------------------
    def export_loss_plots_png(self, path: str | os.PathLike[str]) -> Path:
        if not self._has_losses():
            raise ExportError(NO_LOSSES)
        return atomic_write_bytes(path, self._loss_png())

    def export_loss_plots_svg(self, path: str | os.PathLike[str]) -> Path:
        if not self._has_losses():
            raise ExportError(NO_LOSSES)
        return atomic_write_bytes(path, self._loss_svg())

    def export_comparison_csv(self, path: str | os.PathLike[str]) -> Path:
        """One row per epoch, a column per compared run and term (train/test recon, KL, -ELBO)."""
        comparison = self._window.comparison
        if comparison is None or not comparison.active:
            raise ExportError(NO_COMPARISON)
        comparison.sync_own_run()  # the window's own run as of now
        return write_comparison_csv(comparison.comparison.runs, path)

    def export_latent_map_png(self, path: str | os.PathLike[str]) -> Path:
        self._require_model()
        return atomic_write_bytes(path, widget_png(self._latent.map_view))

    def export_latent_map_svg(self, path: str | os.PathLike[str]) -> Path:
        self._require_model()
        return atomic_write_bytes(path, plot_svg(self._latent.map_view.getPlotItem()))

    def export_manifold_png(self, path: str | os.PathLike[str]) -> Path:
        image, tile = self.manifold()
        return write_png(image, path, tile_factor(tile, 56))

    def export_reconstructions_png(self, path: str | os.PathLike[str]) -> Path:
        originals, reconstructions = self.reconstructions()
        sheet = reconstruction_sheet(originals, reconstructions)
        return write_png(sheet, path, tile_factor(originals.shape[1]))

    def export_interpolation_gif(self, path: str | os.PathLike[str]) -> Path:
        frames = self.interpolation()
        return write_gif(frames, path, tile_factor(frames.shape[1]))

    # ---- what the exports are made of -------------------------------------------------------------
    def manifold(self) -> tuple[np.ndarray, int]:
        """A grid of images decoded now, over the part of the map in view, at the map's grid size."""
        from vae_desktop.core.latent_map import decode_manifold  # torch: loaded with the core

        model = self._require_model()
        latent = self._latent
        u_range, v_range = latent.map_view.visible_range()
        grid = decode_manifold(model, latent.plane, u_range, v_range, latent.controls.grid_size.value())
        return grid.image, model.config.height

    def reconstructions(self) -> tuple[np.ndarray, np.ndarray]:
        strip = self._window.recon_strip
        originals, reconstructions = strip.originals(), strip.reconstructions()
        if originals is None or reconstructions is None:
            raise ExportError(NO_MODEL)
        return originals, reconstructions

    def interpolation(self) -> np.ndarray:
        self._require_model()
        frames = self._latent.interpolation_images()
        if frames is None:
            raise ExportError("Choose two handles on the latent map to interpolate between (double-click adds one).")
        return frames

    def _require_model(self) -> VAE:
        model = self._model()
        if model is None:
            raise ExportError(NO_MODEL)
        return model

    def _loss_png(self) -> bytes:
        plots = self._window.plots
        with plots.showing_whole_run():  # not only the epochs Follow latest or a zoom has in view
            return widget_png(plots.canvas)

    def _loss_svg(self) -> bytes:
        plots = self._window.plots
        with plots.showing_whole_run():
            return plot_svg(plots.canvas.ci)

    # ---- the report ----------------------------------------------------------------------------
    def report_contents(self) -> ReportContents:
        """Everything the window can export now; what is missing is named in the notes."""
        window = self._window
        notes: list[str] = []
        rendered: dict[str, bytes] = {}
        if self._has_losses():
            rendered[LOSS_PNG] = self._loss_png()
            rendered[LOSS_SVG] = self._loss_svg()
        else:
            notes.append("Loss plots: no training steps yet.")
        model = self._model()
        manifold = originals = reconstructions = frames = None
        tile = 28
        if model is not None:
            rendered[MAP_PNG] = widget_png(self._latent.map_view)
            rendered[MAP_SVG] = plot_svg(self._latent.map_view.getPlotItem())
            manifold, tile = self.manifold()
            frames = self._latent.interpolation_images()
            if frames is None:
                notes.append("Interpolation: fewer than two handles on the latent map.")
        else:
            notes.append("Latent map, manifold and interpolation: no model yet.")
        try:
            originals, reconstructions = self.reconstructions()
        except ExportError:
            notes.append("Reconstructions: no model or no test images yet.")
        epochs = window.plots.epoch_data()
        return ReportContents(
            title=self._title(len(epochs)),
            config=self._config(len(epochs)),
            epochs=epochs,
            rendered=rendered,
            manifold=manifold,
            manifold_tile=tile,
            originals=originals,
            reconstructions=reconstructions,
            interpolation=frames,
            notes=notes,
        )

    def export_report(self, parent: str | os.PathLike[str], stamp: datetime | None = None) -> Path:
        """Write a new report folder under `parent` and return it."""
        if not (self._has_losses() or self._model() is not None):
            raise ExportError(NO_MODEL)
        return write_report(parent, self.report_contents(), stamp)

    def _title(self, epochs_done: int) -> str:
        settings = self._run_settings()
        if settings is None:
            return "VAE Desktop report"
        return f"VAE Desktop report: {settings.dataset}, z = {settings.z_dim}, {epochs_done} epochs"

    def _run_settings(self) -> RunSettings | None:
        controller = self._window.controller
        return controller.run_settings() if controller is not None else None

    def _config(self, epochs_done: int) -> dict:
        settings, model = self._run_settings(), self._model()
        if settings is None or model is None:
            return {"software": dict(software_versions({"Qt": qVersion()})), "progress": {"epochs_done": epochs_done}}
        controller = self._window.controller
        status = self._window.status  # the controller's facts, not what a label shows
        return run_config(
            settings.dataset, model.config, settings.train,
            epochs_done=epochs_done,
            global_step=status.global_step,
            device=status.device,
            versions=software_versions({"Qt": qVersion()}),
            checkpoint=controller.checkpoint_path if controller is not None else None,
            checkpoint_step=controller.saved_step if controller is not None else None,
        )

    # ---- dialogs ------------------------------------------------------------------------------------
    def _last_dir(self) -> str:
        return str(self._window.settings.value(LAST_DIR_KEY, str(Path.home())))

    def _save_dialog(self, export: Callable[[str], Path], suggested: str, file_filter: str) -> None:
        self.update_actions()
        path, _ = QFileDialog.getSaveFileName(self._window, "Export", str(Path(self._last_dir()) / suggested),
                                              file_filter)
        if not path:
            return
        suffix = Path(suggested).suffix
        if not path.lower().endswith(suffix):
            path += suffix
        self._window.settings.setValue(LAST_DIR_KEY, str(Path(path).parent))
        if self._run(lambda: export(path)) is not None:
            self._window.statusBar().showMessage(f"Exported {Path(path).name}", 5000)

    def _report_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self._window, "Export a report into this folder", self._last_dir())
        if not folder:
            return
        self._window.settings.setValue(LAST_DIR_KEY, folder)
        written = self._run(lambda: self.export_report(folder))
        if written is not None:
            self._window.banner.show_message(
                f"Report written to {written} — open its index.html in a browser to see everything on one page.",
                "info",
            )

    def _run(self, export: Callable[[], Path]) -> Path | None:
        try:
            return export()
        except ExportError as exc:
            self._window.show_error(str(exc))
        except OSError as exc:
            log.warning("Export failed", exc_info=exc)
            where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
            self._window.show_error(f"Could not write{where}: {exc.strerror or exc}. Nothing else was changed.")
        return None


def add_export_menu(window: MainWindow, latent: LatentPanel) -> ExportController:
    controller = ExportController(window, latent)
    controller.menu.menuAction().setStatusTip("Save plots, images, an animation, the metrics or a whole report")
    return controller

