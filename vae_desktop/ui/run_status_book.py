"""Where the window's run stands: one `TrainingStatus`, replaced and sent on whenever it changes.

The controller decides what happens; this book only keeps the record: the current status, the
run's clock (active seconds, this session's pace) and which run the clock is timing. It is apart
from `RunController` so the rules "a pause stops the clock", "a run new to this window starts from
the time its history records" and "progress comes from the current run" live in one small place.
A Pause or Resume changes the state only once the worker confirms it (`awaiting_worker`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from vae_desktop.core.run_clock import RunClock
from vae_desktop.core.training_status import TrainingState, TrainingStatus
from vae_desktop.ui.current_run import CurrentRun


class RunStatusBook:
    """`publish` sends a changed status to `emit`; `current_run()` is the run whose progress it shows."""

    def __init__(self, device: str, current_run: Callable[[], CurrentRun | None],
                 emit: Callable[[TrainingStatus], None]) -> None:
        self._current_run = current_run
        self._emit = emit
        self._status = TrainingStatus(TrainingState.IDLE, device=device)
        self._clock = RunClock()  # the run's active seconds and this session's pace (elapsed, ETA)
        self._clock_run = 0  # the run number the clock is timing (0: none yet)

    @property
    def status(self) -> TrainingStatus:
        """The value last sent."""
        return self._status

    def publish(self, status: TrainingStatus) -> None:
        if status != self._status:
            self._status = status
            self._emit(status)

    def set_state(self, state: TrainingState) -> None:
        previous = self._status.state
        if state is previous and not self._status.awaiting_worker:
            return
        if state is TrainingState.TRAINING and previous is TrainingState.PAUSED:
            self._clock.resume()
        elif state is TrainingState.PAUSED:
            self._clock.pause()
        elif state.settled:
            self._clock.stop()
        self.publish(self._status.with_state(state))

    def settle(self) -> None:
        """No session and no Start waiting: ready with a run, idle without one."""
        self.publish(self.run_status(self._status))
        self.set_state(TrainingState.READY if self._current_run() is not None else TrainingState.IDLE)

    def refresh(self) -> None:
        """The current run's progress changed outside training (opened, its dataset loaded, shown again)."""
        self.publish(self.run_status(self._status))

    def run_status(self, base: TrainingStatus) -> TrainingStatus:
        """`base` with the current run's progress (or no progress at all when there is no run)."""
        run = self._current_run()
        if run is None:
            return TrainingStatus(base.state, device=base.device, following=base.following)
        timed = run.number if run.number == self._clock_run else 0  # trained in this window: it has times
        shown = replace(base, run_number=timed)
        return shown.with_progress(run.progress, run.steps_per_epoch or 1, run.train_config.epochs)

    def training_started(self, run: CurrentRun, device: str) -> None:
        """A session trains `run` on `device`. Continued in this window, the clock goes on from where it
        stood; a run new to this window (an opened checkpoint) starts from the time its history records."""
        same_run = run.number == self._clock_run
        self._clock.start(self._clock.elapsed() if same_run else run.trained_seconds)
        self._clock_run = run.number
        started = replace(self.run_status(self._status), device=device)
        self.publish(started.with_state(TrainingState.TRAINING))

    def set_following(self, following: bool) -> bool:
        """A followed run is shown (or the own one again); refused while the own run is not settled."""
        if following and not self._status.state.settled:
            return False
        self.publish(replace(self._status, following=following))
        return True

    def steps_done(self, steps: int) -> None:
        self._clock.add_steps(steps)

    def times(self, remaining_steps: int) -> tuple[float, float | None]:
        """The run's active seconds, and the seconds left at this session's pace (None when not training)."""
        clock = self._clock
        return clock.elapsed(), (clock.eta(remaining_steps) if clock.running else None)
