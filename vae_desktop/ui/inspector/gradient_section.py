"""⑥ Where the gradients go: what the mean outputs and the spread outputs receive from the loss.

The numbers come from core.gradients on a CoalescingWorker (a private model built from a numpy
snapshot of the mirror's weights), never on the GUI thread: a batch of test images goes through the
decoder and back. Weight updates while training refresh it at most every `refresh_interval_ms`
(trailing edge, like the rest of the inspector), not at all while the inspector is hidden behind
another tab (it catches up once when shown); choosing another image or drawing ε again asks at once.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget
from superqt.utils import qthrottled

from vae_desktop.core.gradients import GradientComputer, GradientJob, GradientResult, latest_gradient_job
from vae_desktop.ui.coalescing_worker import CoalescingWorker
from vae_desktop.ui.inspector import gradient_text, style
from vae_desktop.ui.inspector.gradient_chart import GradientChart
from vae_desktop.ui.inspector.widgets import Section
from vae_desktop.ui.model_mirror import ModelMirror
from vae_desktop.ui.refresh_when_visible import RefreshWhenVisible
from vae_desktop.ui.theme import Theme, on_theme

BATCH_IMAGES = 256  # test images averaged: ~30 ms for the default model on one core
TITLE = "⑥ Where the gradients go: how each half learns its role"
VIEW_IMAGE, VIEW_BATCH = "image", "batch"


class GradientSection(Section):
    def __init__(self, mirror: ModelMirror, parent: QWidget | None = None, *, refresh_interval_ms: int = 500) -> None:
        super().__init__(TITLE, gradient_text.gradient_caption(), parent)
        self.setObjectName("gradientSection")
        self._mirror = mirror
        self._request: tuple[np.ndarray, np.ndarray] | None = None  # (uint8 image, its ε)
        self._request_number = 0  # counts show_image calls: a result for an earlier one is dropped
        self._batch: np.ndarray | None = None
        self._first_version = 0  # results older than this belong to a replaced model
        self.result: GradientResult | None = None
        self.submitted = 0  # jobs handed to the worker (tests: none while hidden)

        self.view_choice = QComboBox()
        self.view_choice.addItem("This image, with its ε from ③", VIEW_IMAGE)
        self.view_choice.addItem(f"Averaged over {BATCH_IMAGES} test images", VIEW_BATCH)
        self.view_choice.setAccessibleName("Gradients of")
        self.view_choice.setToolTip("Show the gradients of the image above (with the ε drawn in ③) or their "
                                    f"average over {BATCH_IMAGES} test images spread over the test set")
        self.view_choice.setStatusTip("Gradients of this image or of the test images on average")
        self.view_choice.currentIndexChanged.connect(self._draw)
        row = QHBoxLayout()
        row.addWidget(QLabel("Show:"))
        row.addWidget(self.view_choice, 1)
        self.body.addLayout(row)
        self.mean_title = QLabel()
        self.mean_chart = GradientChart("μ")
        self.spread_title = QLabel()
        self.spread_chart = GradientChart("log σ")
        self.story = QLabel()
        self.status = QLabel("Computing the gradients…")
        for label in (self.mean_title, self.spread_title, self.story, self.status):
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setWordWrap(True)
        for widget in (self.mean_title, self.mean_chart, self.spread_title, self.spread_chart, self.story, self.status):
            self.body.addWidget(widget)
        self.story.hide()

        self._worker = CoalescingWorker(GradientComputer().run, latest_gradient_job, "Computing the gradients", self)
        self._worker.resultReady.connect(self._on_result)
        self._worker.failed.connect(self._on_failed)
        self._throttled = qthrottled(self._submit, refresh_interval_ms, leading=False, parent=self)
        # Shown again after skipped updates: one job, through the throttle, which the inspector's own
        # catch-up (show_image, at once) cancels when it comes first or second.
        self._when_visible = RefreshWhenVisible(self, self._catch_up)
        mirror.weightsUpdated.connect(self._on_weights_updated)
        mirror.modelReplaced.connect(self._on_model_replaced)
        mirror.datasetChanged.connect(self._on_dataset_changed)
        on_theme(self, self._apply_theme)

    # ---- what to compute -------------------------------------------------------------------
    def show_image(self, image_uint8_chw: np.ndarray, eps: np.ndarray) -> None:
        """The inspector shows this image with this ε: compute its gradients now (if visible)."""
        self._request = (np.array(image_uint8_chw, dtype=np.uint8, copy=True), np.array(eps, dtype=np.float64))
        self._request_number += 1
        if self._when_visible.due():
            self._throttled.cancel()
            self._when_visible.forget()
            self._submit()

    def clear(self) -> None:
        """Nothing inspected (no model or no image): an old image's numbers must not stay."""
        self._request = None
        self.result = None
        self._throttled.cancel()
        self._show_status("The gradients appear once an image is inspected.")

    def shutdown(self) -> None:
        """Stop pacing and join the worker thread (the window closes)."""
        self._throttled.cancel()
        self._worker.shutdown()

    def _catch_up(self) -> None:
        self._throttled()

    @Slot()
    def _on_weights_updated(self) -> None:
        if self._request is not None and self._when_visible.due():
            self._throttled()

    @Slot()
    def _on_model_replaced(self) -> None:
        self._first_version = self._mirror.version
        self._throttled.cancel()

    @Slot()
    def _on_dataset_changed(self) -> None:
        self._batch = None

    def _submit(self) -> None:
        model, request = self._mirror.model, self._request
        if model is None or request is None:
            return
        image, eps = request
        if len(eps) != model.z_dim or tuple(image.shape) != tuple(model.config.image_shape):
            return  # the inspector sends the new model's image and ε next
        self._worker.submit(GradientJob(
            version=self._mirror.version, config=model.config, state=self._mirror.state_snapshot(), image=image, eps=eps,
            batch=self._batch_images(image), beta=self._mirror.beta, recon_loss=self._mirror.recon_loss,
            request=self._request_number,
        ))
        self.submitted += 1

    def _batch_images(self, image: np.ndarray) -> np.ndarray:
        """Test images spread evenly over the test set (the image alone when there is no dataset)."""
        dataset = self._mirror.dataset
        if dataset is None or dataset.num_test == 0:
            return image[None].copy()
        if self._batch is None:
            indices = np.unique(np.linspace(0, dataset.num_test - 1, min(BATCH_IMAGES, dataset.num_test)).astype(int))
            self._batch = dataset.test_images[indices].numpy().copy()
        return self._batch

    # ---- showing ---------------------------------------------------------------------------
    @Slot(object)
    def _on_result(self, result: GradientResult) -> None:
        if result.version < self._first_version or self._request is None or result.request != self._request_number:
            return  # computed for a replaced model, or for an image no longer shown
        self.result = result
        self._draw()

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._show_status(message)

    def _show_status(self, text: str) -> None:
        self.status.setText(text)
        self.status.show()
        self.story.hide()

    @Slot()
    def _draw(self) -> None:
        result = self.result
        if result is None:
            return
        parts = result.batch if self.view_choice.currentData() == VIEW_BATCH else result.image
        spread = gradient_text.spread_name(result.stddev)
        self.set_caption(gradient_text.gradient_caption(result.stddev))
        self.spread_chart.output_name = spread
        self.spread_chart.plot.getPlotItem().setLabel("left", f"∂loss/∂{spread}")
        self.mean_title.setText(f"On the mean outputs {style.swatch(style.MEAN, 'μ')}:")
        self.spread_title.setText(f"On the spread outputs {style.swatch(style.LOG_STD, spread)}:")
        self.mean_chart.set_values(parts.mean_recon, parts.mean_kl)
        self.spread_chart.set_values(parts.spread_recon, parts.spread_kl)
        self.story.setText(gradient_text.gradient_story(result))
        self.story.show()
        self.status.hide()

    def _apply_theme(self, _theme: Theme) -> None:
        """Coloured words are shaded for the theme's background: write them again on a switch."""
        self._draw()
