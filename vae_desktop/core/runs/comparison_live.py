"""LiveComparedRun: a compared run folder kept current while it trains, as TensorBoard's scalars are.

Read once (open_run: the whole history so far), then polled by a worker thread through the run's
own RunFollower, the same incremental reader a followed run uses (the tail of metrics.jsonl,
complete lines only; run.json; the checkpoints). Each poll's rows go into the run's history, and
the plotted trace grows by those rows only; a log that was restarted or rewound, or a change of
steps per epoch (run.json appeared), builds the trace again from the history.

Once run.json says finished, stopped or failed and a poll finds nothing more, the run is settled:
from then on a poll is a single stat of run.json, until its status goes back to running (the run
was continued into the same folder) and full polls resume. No Qt here.
"""

from __future__ import annotations

from vae_desktop.core.runs.comparison import ComparedRun, RunCurves, compared_run
from vae_desktop.core.runs.follower import RunUpdate
from vae_desktop.core.runs.opening import classify_path, open_run, source_for
from vae_desktop.core.runs.state import FAILED, FINISHED, STOPPED, RunStatus
from vae_desktop.core.series import LossTrace, smoothing_window

DONE_STATES = frozenset({FINISHED, STOPPED, FAILED})
MAX_POLLS_PER_CALL = 64  # a bigger backlog comes in over several calls (as the follow worker does)
_DRAWN = ("global_step", "recon", "kl")  # the batch columns RunCurves holds


class LiveComparedRun:
    """`LiveComparedRun(folder)` reads the folder (slow: off the GUI thread; RunFolderError when it is
    no run folder); `run` is its first entry for the comparison, `poll()` the curves once they grew."""

    def __init__(self, folder: str) -> None:
        opened = open_run(source_for(classify_path(folder)))
        self._follower = opened.follower
        self._history = opened.history
        self._steps_per_epoch = self._wanted_steps_per_epoch(opened.status, 1)
        self._trace = LossTrace(smoothing_window(self._steps_per_epoch))
        self._rebuild()
        self.run: ComparedRun = compared_run(folder, opened, self.curves())
        self.key = self.run.key
        self.checkpoint = self.run.checkpoint  # the file its model loads from ('' while it has none)
        self.settled = False  # done, and the last full poll found nothing: only run.json is checked

    def poll(self) -> RunCurves | None:
        """New curves (a snapshot, safe to hand to another thread) when rows arrived, else None."""
        if self.settled:
            try:
                status = self._follower.state.poll()  # one stat of run.json while nothing changes
            except ConnectionError:
                return None  # the next poll tries again
            if status.state in DONE_STATES:
                return None
            self.settled = False
        changed = False
        for _ in range(MAX_POLLS_PER_CALL):
            update = self._follower.poll()
            changed = self._apply(update) or changed
            if not update.more:
                break
        self.settled = update.status.state in DONE_STATES and not changed and not update.more
        return self.curves() if changed else None

    def curves(self) -> RunCurves:
        """Copies of everything held: the batch rows, the epochs and the trace the plots draw."""
        batch = self._history.batch_arrays(_DRAWN)
        return RunCurves(batch["global_step"], batch["recon"], batch["kl"], self._history.epoch_metrics,
                         self._steps_per_epoch, _trace=self._trace.view().copy())

    def close(self) -> None:
        self._follower.close()

    def _apply(self, update: RunUpdate) -> bool:
        """One follower update into the history and the trace; True when the curves changed."""
        self._history.apply(update)
        if update.checkpoint is not None:
            self.checkpoint = update.checkpoint.path
        steps_per_epoch = self._wanted_steps_per_epoch(update.status, self._steps_per_epoch, update)
        if update.restarted or update.rewind is not None or steps_per_epoch != self._steps_per_epoch:
            self._steps_per_epoch = steps_per_epoch
            self._rebuild()
            return True
        if update.batch_rows:
            self._trace.append(update.batch["global_step"], update.batch["recon"], update.batch["kl"])
        return bool(update.batch_rows or update.epochs)

    def _rebuild(self) -> None:
        batch = self._history.batch_arrays(_DRAWN)
        self._trace.reset(smoothing_window(self._steps_per_epoch))
        self._trace.append(batch["global_step"], batch["recon"], batch["kl"])

    def _wanted_steps_per_epoch(self, status: RunStatus, current: int, update: RunUpdate | None = None) -> int:
        """From run.json; a folder without one (an older `train --out`) from its batch rows, as
        RunCurves.of_history does (looked at again only when rows arrived)."""
        info = status.info
        if info is not None and info.progress.steps_per_epoch > 0:
            return info.progress.steps_per_epoch
        if update is not None and not (update.batch_rows or update.restarted or update.rewind is not None):
            return current
        steps = self._history.batch_arrays(("step",))["step"]
        return max(1, int(steps.max()) if len(steps) else 1)
