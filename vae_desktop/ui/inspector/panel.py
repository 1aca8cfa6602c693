"""InspectorPanel: one image followed through the encoder, the exp step, the sample and the loss.

It reads the model from the GUI's ModelMirror only. Weight updates during training refresh the
shown numbers at most a few times per second (the per-image pass is a millisecond; the test-set
activity pass runs less often), and not at all while the panel is hidden behind another tab. The noise eps comes from the panel's own generator and stays fixed
until "Draw again", so while training runs, every change on screen comes from the weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import Slot
from PySide6.QtWidgets import QWidget
from superqt.utils import qthrottled

from vae_desktop.core.config import RECON_LOSSES
from vae_desktop.core.errors import ConfigError
from vae_desktop.core.inspection import (
    INACTIVE_KL_NATS,
    DimensionActivity,
    EpsilonSource,
    ImageInspection,
    ImageShapeError,
    KlHistory,
    Typicality,
    dimension_activity,
    inspect_image,
    reference_losses,
    typicality,
)
from vae_desktop.core.metrics import EpochMetrics
from vae_desktop.ui.inspector import explain, style
from vae_desktop.ui.inspector.explain import Stage
from vae_desktop.ui.inspector.layout import InspectorLayout
from vae_desktop.ui.inspector.roles import OutputRoles
from vae_desktop.ui.model_mirror import ModelMirror
from vae_desktop.ui.refresh_when_visible import RefreshWhenVisible
from vae_desktop.ui.theme import Theme, on_theme

ACTIVITY_IMAGES = 2000  # test images in the activity pass: ~40 ms on one CPU core for the default model
REFERENCE_IMAGES = 500  # test images whose losses tell whether an image of your own is like the data


@dataclass(frozen=True)
class _Source:
    """What is shown: a test-set index, or an image given directly (index None)."""

    index: int | None
    image: np.ndarray | None = None
    name: str | None = None  # an opened file's name


class InspectorPanel(InspectorLayout, QWidget):
    """Side panel that answers "how do 2*z_dim outputs become a mean, a stddev and a sample?"."""

    def __init__(
        self,
        mirror: ModelMirror,
        parent: QWidget | None = None,
        *,
        seed: int = 0,
        refresh_interval_ms: int = 250,
        activity_interval_ms: int = 2000,
    ) -> None:
        super().__init__(parent)
        self._mirror = mirror
        self._eps_source = EpsilonSource(seed)
        self._eps: np.ndarray | None = None
        self._draws = 0
        self._source: _Source | None = None
        self._recon_loss = "bernoulli"
        self._inspection: ImageInspection | None = None
        self._title = ""
        self._activity: DimensionActivity | None = None
        self._kl_history = KlHistory()
        self._stage = Stage()
        self._reference: np.ndarray | None = None  # test images' losses, for images of your own
        self._typicality: Typicality | None = None
        # Trailing edge: a burst of weight updates costs one refresh at its end, with the latest weights.
        self._refresh_due = False  # a throttled refresh is on its way (the activity pass then leaves the views)
        self._throttled_refresh = qthrottled(self.refresh, refresh_interval_ms, leading=False, parent=self)
        self._throttled_activity = qthrottled(
            self._refresh_activity_and_views, activity_interval_ms, leading=False, parent=self
        )
        self._when_visible = RefreshWhenVisible(self, self._catch_up)
        self._build()
        mirror.modelReplaced.connect(self._on_model_replaced)
        mirror.weightsUpdated.connect(self._on_weights_updated)
        mirror.datasetChanged.connect(self._on_dataset_changed)
        self._on_dataset_changed()
        on_theme(self, self._apply_theme)

    # ---- public slots ----------------------------------------------------------------------
    @Slot(int)
    def show_test_image(self, index: int) -> None:
        """Inspect test-set image `index` (from the latent map or the reconstruction strip)."""
        self._source = _Source(int(index))
        self._sync_spin(int(index))
        self.refresh()

    def show_image(self, image_uint8_chw: np.ndarray, name: str | None = None) -> None:
        """Inspect an image that is not in the test set (e.g. a file opened onto the latent map):
        uint8 (C, H, W) in the model's shape; `name` titles it."""
        self._source = _Source(None, np.array(image_uint8_chw, copy=True), name)
        self.refresh()

    @Slot(object)
    def add_epoch(self, metrics: EpochMetrics) -> None:
        """A finished epoch: one more heat-map row (a new run's epoch 1 starts the map over)."""
        self._set_done(metrics.epoch)
        if self._kl_history.add(metrics):
            self._update_heatmap()

    @Slot(object)
    def set_epoch_history(self, epochs: list[EpochMetrics]) -> None:
        """Replace the heat map with a restored run's epochs (e.g. from an opened checkpoint)."""
        self._set_done(max((m.epoch for m in epochs), default=0))
        self._kl_history.replace(list(epochs))
        self._update_heatmap()

    def set_planned_epochs(self, epochs: int | None) -> None:
        """How many epochs the run is set to train: until they are done, activity is "so far"."""
        self._stage = Stage(self._stage.done, epochs)
        self._refresh_words()

    @property
    def stage(self) -> Stage:
        return self._stage

    @property
    def typicality(self) -> Typicality | None:
        """How the shown image of your own compares with the test images (None for a test image)."""
        return self._typicality

    def _set_done(self, epochs: int) -> None:
        self._stage = Stage(int(epochs), self._stage.planned)
        self._refresh_words()

    def _refresh_words(self) -> None:
        if self._inspection is not None:
            self._update_views()

    @Slot(str)
    def set_reconstruction_loss(self, kind: str) -> None:
        """Which reconstruction loss the run uses (`TrainConfig.recon_loss`); bernoulli until told."""
        if kind not in RECON_LOSSES:
            raise ConfigError(f"Unknown reconstruction loss {kind!r}: choose one of {', '.join(RECON_LOSSES)}.")
        self._recon_loss = kind
        self.refresh()

    @Slot()
    def draw_again(self) -> None:
        """New eps ~ N(0, I) for the same image: a different sample z from the same mean and stddev."""
        model = self._mirror.model
        if model is None:
            return
        self._eps = self._eps_source.draw(model.z_dim)
        self._draws += 1
        self.refresh()

    @property
    def inspection(self) -> ImageInspection | None:
        """The numbers currently on screen (None in an empty state)."""
        return self._inspection

    @property
    def activity(self) -> DimensionActivity | None:
        return self._activity

    @property
    def eps(self) -> np.ndarray | None:
        return None if self._eps is None else self._eps.copy()

    def shutdown(self) -> None:
        """Join the background work (the gradients' worker thread): the window closes."""
        self.gradients.shutdown()

    # ---- mirror reactions ------------------------------------------------------------------
    def _on_model_replaced(self) -> None:
        self._cancel_refresh()
        self._recon_loss = self._mirror.recon_loss
        self._refresh_activity()
        self.refresh()

    def _on_weights_updated(self) -> None:
        if not self._when_visible.due():  # e.g. another tab is in front: catch up when shown, not 4 times a second
            return
        self._refresh_due = True
        self._throttled_refresh()
        self._throttled_activity()

    def _catch_up(self) -> None:
        self._refresh_activity()
        self.refresh()

    def _cancel_refresh(self) -> None:
        self._refresh_due = False
        self._throttled_refresh.cancel()

    def _on_dataset_changed(self) -> None:
        dataset = self._mirror.dataset
        self._source = _Source(0) if dataset is not None and dataset.num_test > 0 else None
        self._cancel_refresh()
        self._activity = None
        if dataset is not None:
            self.index_spin.setRange(0, max(0, dataset.num_test - 1))
        self._sync_spin(0)
        self._refresh_activity()
        self.refresh()

    # ---- computing -------------------------------------------------------------------------
    def _refresh_activity(self) -> None:
        model, dataset = self._mirror.model, self._mirror.dataset
        self._activity = None
        self._reference = None
        if model is None or dataset is None:  # the mirror never pairs a model with a dataset it cannot take
            return
        self._activity = dimension_activity(model, dataset.test_images, INACTIVE_KL_NATS, ACTIVITY_IMAGES)
        if self._source is not None and self._source.index is None:  # only an image of your own needs it
            self._reference = reference_losses(model, dataset.test_images, self._recon_loss, REFERENCE_IMAGES)

    def _judge(self, image: np.ndarray) -> Typicality | None:
        """Whether an image of your own is like the test images (their losses are computed when needed)."""
        model, dataset = self._mirror.model, self._mirror.dataset
        if model is None or dataset is None:
            return None
        if self._reference is None:
            self._reference = reference_losses(model, dataset.test_images, self._recon_loss, REFERENCE_IMAGES)
        return typicality(model, image, self._reference, self._recon_loss)

    def _refresh_activity_and_views(self) -> None:
        self._refresh_activity()
        if self._inspection is not None and not self._refresh_due:
            self._update_views()  # the image's numbers are current; only the activity marks change

    @Slot()
    def refresh(self) -> None:
        """Recompute the shown image's numbers with the mirror's current weights and redraw."""
        self._cancel_refresh()
        model, dataset = self._mirror.model, self._mirror.dataset
        if model is None:
            self._show_message(explain.NO_MODEL)
            return
        if self._eps is None or len(self._eps) != model.z_dim:
            self._eps = self._eps_source.draw(model.z_dim)
            self._draws += 1
        source = self._source
        if source is None:
            refusal = self._mirror.refusal
            self._show_message(explain.NO_DATASET if refusal is None else f"<h3>Cannot inspect this dataset</h3><p>{refusal}</p>")
            return
        label = None
        self._typicality = None
        if source.index is None:
            assert source.image is not None  # an image of your own always comes with its pixels
            image = source.image
        else:
            if dataset is None or not 0 <= source.index < dataset.num_test:
                self._show_message(
                    f"<h3>No such test image</h3><p>Test image #{source.index} does not exist in this dataset.</p>"
                )
                return
            image = dataset.test_images[source.index].numpy()
            label = self._class_name(source.index)
        try:
            self._inspection = inspect_image(model, image, self._eps, self._recon_loss)
        except ImageShapeError as error:
            self._show_message(f"<h3>Cannot inspect this image</h3><p>{error}</p>")
            return
        if source.index is None:
            self._typicality = self._judge(image)
        self._title = explain.source_description(source.index, label, source.name)
        self._update_views()
        self.gradients.show_image(image, self._eps)

    def _roles(self) -> OutputRoles:
        """Which output is which for the mirror's model (the default roles before there is one)."""
        model = self._mirror.model
        return OutputRoles.of(model.config) if model is not None else OutputRoles(1)

    def _class_name(self, index: int) -> str | None:
        dataset = self._mirror.dataset
        if dataset is None or not dataset.class_names:
            return None
        label = int(dataset.test_labels[index])
        return dataset.class_names[label] if 0 <= label < len(dataset.class_names) else None

    # ---- drawing ---------------------------------------------------------------------------
    def _show_message(self, text: str) -> None:
        self._inspection = None
        self.gradients.clear()
        self.empty_label.setText(text)
        self.stack.setCurrentWidget(self.empty_page)

    def _update_views(self) -> None:
        result = self._inspection
        assert result is not None
        z_dim = result.z_dim
        self.source_label.setText(f"<b>{self._title}</b>")
        self.summary_label.setText(
            f"z_dim = {z_dim}: the encoder emits {2 * z_dim} numbers for this image."
            + (" Scroll over a chart to zoom, drag to pan." if z_dim > 16 else "")
        )
        self.off_data_label.setText(explain.off_data_note(self._typicality))
        self.off_data_label.setVisible(bool(self.off_data_label.text()))
        self.input_tile.set_image(result.image)
        self.input_copy_tile.set_image(result.image)
        self.raw_section.title.setText(f"① What the encoder emits: {2 * z_dim} plain numbers")
        roles = self._roles()
        self.raw_section.set_caption(explain.raw_caption(roles))
        self.raw_chart.set_encoding(result.raw, roles)
        self.exp_section.title.setText(explain.exp_title(roles))
        self.exp_section.set_caption(explain.exp_caption(roles))
        self.exp_step_chart.set_values(result.log_std, result.std, roles)
        self.exp_curve_chart.set_values(result.log_std, result.std, roles)
        self.table.table_model.set_spread_names(roles.spread, roles.sigma_formula)
        self.sample_chart.set_values(result.mean, result.std, result.eps, result.z)
        self.mean_tile.set_image(result.decoded_mean)
        self.sample_tile.set_image(result.decoded_sample)
        self.draws_label.setText(f"ε draw #{self._draws}")
        self.table.table_model.set_values(result, self._activity)
        self.table.fit_rows(z_dim)
        self.loss_label.setText(explain.loss_summary(result))
        self.kl_chart.set_values(result.kl_per_dim, self._activity)
        self.activity_label.setText(explain.activity_summary(self._activity, z_dim, self._stage))
        self.note_label.setText(explain.how_it_learns(result, self._activity, self._stage, roles))
        self.stack.setCurrentWidget(self.content_page)

    def _update_heatmap(self) -> None:
        self.heatmap.set_rows(self._kl_history.matrix(), self._kl_history.epochs)
        has_rows = len(self._kl_history) > 0
        self.heatmap.setVisible(has_rows)
        self.heatmap_empty.setVisible(not has_rows)

    def _sync_spin(self, index: int) -> None:
        self.index_spin.blockSignals(True)
        self.index_spin.setValue(index)
        self.index_spin.blockSignals(False)

    def _apply_theme(self, _theme: Theme) -> None:
        """Coloured words are shaded for the theme's background: write them again on a switch."""
        self.exp_section.set_caption(explain.exp_caption(self._roles()))
        self.sample_section.set_caption(explain.sample_caption())
        self.loss_section.set_caption(explain.kl_caption())
        self.mean_tile.caption.setText(f"decode(<b style='color:{style.ink(style.MEAN)}'>μ</b>)<br>the mean: no noise")
        self.sample_tile.caption.setText(f"decode(<b style='color:{style.ink(style.SAMPLE)}'>z</b>)<br>this sample")
        self.draws_label.setStyleSheet(f"color: {style.ink(style.EPS)};")
        if self._inspection is not None:
            self._update_views()
