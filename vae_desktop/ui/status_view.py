"""The window's rendering of a `TrainingStatus`: what every run button, menu action and the form
allow (`controls_for`), and the status bar's state, speed and device labels.

Apart from `MainWindow` because rendering is one pure direction (status in, widgets set) with one
piece of state of its own: a note said instead of the state until the run settles ("Saving…").
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QStatusBar

from vae_desktop.core.training_status import TrainingStatus, controls_for
from vae_desktop.ui.actions import WindowActions
from vae_desktop.ui.control_panel import ControlPanel


class StatusView:
    """Renders onto `panel` (form, buttons, progress box), `actions` and three labels in `bar`."""

    def __init__(self, panel: ControlPanel, actions: WindowActions, bar: QStatusBar) -> None:
        self._panel, self._actions = panel, actions
        self.state_label = QLabel()
        self.rate_label = QLabel()
        self.device_label = QLabel()
        for label in (self.state_label, self.rate_label, self.device_label):
            label.setContentsMargins(8, 0, 8, 0)
            bar.addPermanentWidget(label)
        self.rate_label.setToolTip("Training images per second (moving average)")
        self._note: str | None = None  # said instead of the state until the run settles ("Saving…")

    def show_note(self, text: str) -> None:
        """Say `text` where the state is shown, until the run is next idle or ready."""
        self._note = text
        self.state_label.setText(text)

    def render(self, status: TrainingStatus) -> None:
        """Show `status`: every control from `controls_for`, the status bar, and the progress box."""
        panel, acts = self._panel, self._actions
        form = panel.form
        controls = controls_for(status, form.is_valid())
        panel.start_button.setEnabled(controls.start)
        panel.start_button.setText(controls.start_text)
        panel.start_button.setToolTip(controls.start_tip)
        panel.start_button.setStatusTip(controls.start_tip)  # hovering shows it in the status bar: not "Loading…"
        acts.start.setEnabled(controls.start)
        panel.pause_button.setEnabled(controls.pause)
        panel.pause_button.setText(controls.pause_text)
        acts.pause.setEnabled(controls.pause)
        panel.stop_button.setEnabled(controls.stop)
        acts.stop.setEnabled(controls.stop)
        for act in acts.replace_run:
            act.setEnabled(controls.replace_run)
        for act in (acts.save, acts.save_as):
            act.setEnabled(controls.save)
        acts.export_metrics.setEnabled(controls.export)
        form.set_training_active(controls.settings_fixed_by_training)
        form.setEnabled(controls.form)
        if status.state.settled:
            self._note = None
        self.state_label.setText(self._note or controls.state_text)
        self.rate_label.setText(f"{status.images_per_s:,.0f} images/s" if status.images_per_s is not None else "")
        self.device_label.setText(status.device)
        panel.progress.show_status(status)
