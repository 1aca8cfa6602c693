"""Divergence: a step whose loss (or, with `--stddev raw`, whose σ) is unusable is caught before any
update, and the trainer goes back to the last weights known to give a finite loss.

Apart from the training loop because when to snapshot (every N steps, after a finite loss, before
the update), what a rollback restores and how the user is told what was restored are one rule set of
their own; the `Trainer` asks at two places in a step and applies the result.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from vae_desktop.core.errors import TrainingDivergedError
from vae_desktop.core.history import TrainingHistory
from vae_desktop.core.model import first_bad_stddev

if TYPE_CHECKING:  # the trainer imports this module
    from vae_desktop.core.trainer import TrainingProgress

RAW_STDDEV_HINT = ("the raw stddev uses the encoder's output as σ and nothing keeps it positive; "
                   "exp (the default) or softplus does")


@dataclass
class Snapshot:
    """Last weights known to give a finite loss, to roll back to when training diverges."""

    model_state: dict[str, torch.Tensor]
    optimizer_state: dict
    progress: TrainingProgress
    rng_state: torch.Tensor


class DivergenceGuard:
    """Keeps a snapshot every `every` steps (and at a session's first step) and restores it."""

    def __init__(self, every: int) -> None:
        self._every = max(1, every)
        self.snapshot: Snapshot | None = None

    def due(self, step: int) -> bool:
        return self.snapshot is None or step % self._every == 0

    def take(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer, progress: TrainingProgress,
             rng_state: torch.Tensor) -> None:
        """Called after a finite loss and before the update: these weights are known to be good."""
        self.snapshot = Snapshot(
            model_state={k: v.detach().clone() for k, v in model.state_dict().items()},
            optimizer_state=copy.deepcopy(optimizer.state_dict()),
            progress=progress,
            rng_state=rng_state,
        )

    def roll_back(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                  history: TrainingHistory) -> Snapshot | None:
        """Restore the weights, optimizer and history of the snapshot and return it (its progress and
        random state are the caller's to restore); None when there is none to go back to."""
        snap = self.snapshot
        if snap is not None:
            model.load_state_dict(snap.model_state)
            optimizer.load_state_dict(snap.optimizer_state)
            history.truncate(snap.progress.global_step, snap.progress.epoch)
        return snap


def loss_problem(recon: float, kl: float) -> str | None:
    """What is wrong with a step's losses ("the loss became NaN"), or None when both are finite."""
    if math.isfinite(recon) and math.isfinite(kl):
        return None
    return f"the loss became {'NaN' if math.isnan(recon) or math.isnan(kl) else 'infinite'}"


def stddev_problem(std: torch.Tensor) -> str | None:
    """With `--stddev raw` the encoder's output is σ itself: the first σ <= 0 (no Normal has it), said."""
    bad = first_bad_stddev(std.detach())
    if bad is None:
        return None
    image, dim, value = bad
    return (f"the stddev became {'zero' if value == 0 else 'negative'} "
            f"(σ = {value:.4g} in latent dimension {dim} of image {image + 1} of the batch)")


def diverged(what: str, epoch: int, step: int, restored: Snapshot | None, hint: str = "") -> TrainingDivergedError:
    """The error for `what` happening at the step, saying what was restored and, with `hint` (default:
    try a smaller learning rate), what to change."""
    # No snapshot: the very first step of this session failed, before any update. Nothing needed
    # restoring, and "the initial weights" would be untrue for a resumed run.
    outcome = ("Nothing was changed: the weights this session started from already give that loss, "
               "before any update, so a smaller learning rate will not help")
    if hint:
        outcome = f"Nothing was changed: this happened before any update; {hint}"
    if restored is not None:
        what_restored = "its initial weights"
        if restored.progress.global_step > 0:  # a snapshot at step 0 holds the initial weights
            what_restored = f"its last good weights, after step {restored.progress.global_step:,} of the run"
        outcome = f"The model was restored to {what_restored}; {hint or 'try a smaller learning rate'}"
    return TrainingDivergedError(f"Training stopped: {what} at epoch {epoch}, step {step}. {outcome}.",
                                 epoch=epoch, step=step)
