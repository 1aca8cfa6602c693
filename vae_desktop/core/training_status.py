"""Where the window's training stands, as one plain value: its state and the numbers the window shows.

(Named for training, not "run": `core.runs.state.RunStatus` is the status of a run followed from its
folder, written by another process; this one is the window's own training session.)

The run controller owns the only `TrainingStatus` and emits a new one whenever anything in it changes
(a state change, a batch bundle, a run started or rolled back); the window, the keyboard and the
first-run hint render it and keep no copy. `controls_for` derives every enable flag and button text
from it in one place, so which control is usable in which state is a pure function tested without Qt.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum
from typing import TYPE_CHECKING

from vae_desktop.core.metrics import BatchMetrics

if TYPE_CHECKING:  # the trainer imports torch; the window renders a status before torch has loaded
    from vae_desktop.core.trainer import TrainingProgress


class TrainingState(str, Enum):
    """The run's lifecycle. A `str` enum so logs and saved test expectations read the same words."""

    STARTING = "starting"  # PyTorch is still loading: nothing can train yet
    IDLE = "idle"  # no run: the next Start begins one
    READY = "ready"  # a run exists and is not training: Start continues it
    LOADING = "loading"  # Start is waiting for its dataset
    TRAINING = "training"
    PAUSED = "paused"  # the worker confirmed that its loop waits
    STOPPING = "stopping"  # Stop asked; the current batch is finishing

    @property
    def busy(self) -> bool:
        """A training thread exists (running, paused or finishing its batch)."""
        return self in (TrainingState.TRAINING, TrainingState.PAUSED, TrainingState.STOPPING)

    @property
    def settled(self) -> bool:
        """Nothing is running or waiting: the run may be started, replaced or closed."""
        return self in (TrainingState.IDLE, TrainingState.READY)


STATE_TEXT = {
    TrainingState.STARTING: "Loading PyTorch…",
    TrainingState.IDLE: "Ready",
    TrainingState.READY: "Ready",
    TrainingState.LOADING: "Loading dataset…",
    TrainingState.TRAINING: "Training",
    TrainingState.PAUSED: "Paused",
    TrainingState.STOPPING: "Stopping…",
}


@dataclass(frozen=True)
class TrainingStatus:
    """One snapshot of the run: state, progress (as `BatchMetrics` carries it) and speed."""

    state: TrainingState = TrainingState.STARTING
    has_run: bool = False
    # Pause or Resume was asked and the worker has not confirmed it yet: the state is still the old one.
    awaiting_worker: bool = False
    epoch: int = 0  # 1-based epoch the last step belongs to (0: no progress to show)
    epochs: int = 0  # epochs the run is set to train
    step: int = 0  # 1-based step of `epoch` (the epoch's last step while its test pass runs)
    steps_per_epoch: int = 1
    global_step: int = 0
    images_per_s: float | None = None  # while training only: the batches a pause flushes are no rate
    device: str = ""  # where the run trains ("CPU (3 training threads)", "NVIDIA ...")
    run_number: int = 0  # the same for every session of one run (Start, Stop, Continue)
    # The window shows a run another process writes (ui/follow): read-only, nothing here may train or
    # replace it until following stops. The window's own run (if any) waits, settled, underneath.
    following: bool = False

    @property
    def total_steps(self) -> int:
        return max(1, self.steps_per_epoch) * max(1, self.epochs)

    @property
    def remaining_steps(self) -> int:
        return max(0, self.steps_per_epoch * self.epochs - self.global_step)

    def with_state(self, state: TrainingState) -> TrainingStatus:
        """The same run in `state`; a confirmed state ends any wait for the worker and a state other
        than training shows no images per second."""
        rate = self.images_per_s if state is TrainingState.TRAINING else None
        return replace(self, state=state, awaiting_worker=False, images_per_s=rate)

    def with_batch(self, batch: BatchMetrics) -> TrainingStatus:
        """Progress after `batch`, read from the numbers it carries."""
        rate = batch.samples_per_s if self.state is TrainingState.TRAINING else None
        return replace(self, epoch=batch.epoch, step=batch.step, steps_per_epoch=batch.steps_per_epoch,
                       global_step=batch.global_step, images_per_s=rate)

    def with_progress(self, progress: TrainingProgress, steps_per_epoch: int, epochs: int) -> TrainingStatus:
        """Progress as a trainer or checkpoint records it (a run started, opened or rolled back): after
        a whole epoch that is its last step, as the last batch of it said."""
        if progress.step_in_epoch == 0 and progress.epoch > 0:
            epoch, step = progress.epoch, max(1, steps_per_epoch)
        else:
            epoch, step = progress.epoch + 1, progress.step_in_epoch
        return replace(self, has_run=True, epoch=epoch, step=step, steps_per_epoch=max(1, steps_per_epoch),
                       epochs=epochs, global_step=progress.global_step)


@dataclass(frozen=True)
class Controls:
    """What the window's run controls show: every enable flag and every state-dependent text."""

    start: bool
    start_text: str
    start_tip: str
    pause: bool
    pause_text: str
    stop: bool
    replace_run: bool  # New run, Open, Open recent
    save: bool  # Save, Save as
    export: bool  # Export metrics CSV
    settings_fixed_by_training: bool  # the form's fields a running session fixes
    form: bool  # the whole form (off while a Start waits for its dataset)
    state_text: str


START_TIP = "Train with these settings (continues the current run if there is one)"
STARTING_TIP = "Loading PyTorch… Start works in a moment."
FOLLOWING_TIP = "The window is following a run: Stop following (or Continue here) to train in this window."
FOLLOWING_TEXT = "Following"


def controls_for(status: TrainingStatus, form_valid: bool) -> Controls:
    """The run controls for `status`; `form_valid`: the form's settings can be trained with."""
    state = status.state
    if status.following:  # read-only: only what reads the shown run (export) stays usable
        return Controls(start=False, start_text="Start", start_tip=FOLLOWING_TIP, pause=False, pause_text="Pause",
                        stop=False, replace_run=False, save=False, export=True, settings_fixed_by_training=True,
                        form=False, state_text=FOLLOWING_TEXT)
    core_ready = state is not TrainingState.STARTING
    running = state in (TrainingState.TRAINING, TrainingState.PAUSED)
    return Controls(
        start=core_ready and state.settled and form_valid,
        start_text="Continue" if state is TrainingState.READY else "Start",
        start_tip=STARTING_TIP if not core_ready else START_TIP,
        pause=running and not status.awaiting_worker,  # enabled again when the worker confirms
        pause_text="Resume" if state is TrainingState.PAUSED else "Pause",
        stop=running or state is TrainingState.LOADING,  # Stop also cancels a slow dataset load
        replace_run=core_ready and not state.busy and state is not TrainingState.LOADING,
        save=status.has_run and state is not TrainingState.STOPPING,
        export=status.has_run,
        settings_fixed_by_training=state.busy or state is TrainingState.LOADING,
        form=state is not TrainingState.LOADING,
        state_text=STATE_TEXT[state],
    )
