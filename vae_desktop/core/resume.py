"""The one way to continue a run: a Trainer built from a checkpoint, or from the trainer of a session
that stopped, with everything that makes the continuation exact (weights, optimizer moments,
history, progress within the epoch, random state).

`vae-desktop train --resume` and the window's Start / Continue both come here, so a run continued
in either gives the same next steps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from vae_desktop.core.checkpoint import Checkpoint
from vae_desktop.core.config import TrainConfig
from vae_desktop.core.datasets.base import ImageDataset
from vae_desktop.core.errors import ConfigError
from vae_desktop.core.history import TrainingHistory
from vae_desktop.core.model import VAE
from vae_desktop.core.trainer import Trainer, TrainingProgress


@dataclass(frozen=True)
class ResumePoint:
    """Where a run stands, enough to continue it exactly."""

    model: VAE
    history: TrainingHistory
    optimizer_state: dict[str, Any] | None
    progress: TrainingProgress
    rng_state: torch.Tensor | None

    @classmethod
    def of_checkpoint(cls, checkpoint: Checkpoint) -> ResumePoint:
        """A checkpoint's run; its model is built (and its weights checked) here."""
        return cls(checkpoint.build_model(), checkpoint.history, checkpoint.optimizer_state, checkpoint.progress,
                   checkpoint.rng_state)

    @classmethod
    def of_trainer(cls, trainer: Trainer) -> ResumePoint:
        """A trainer whose session has ended (read it only while no thread runs it)."""
        return cls(trainer.model, trainer.history, trainer.optimizer.state_dict(), trainer.progress,
                   trainer.rng_state())


def resume_trainer(point: ResumePoint, dataset: ImageDataset, config: TrainConfig,
                   make: Callable[..., Trainer] = Trainer) -> Trainer:
    """A Trainer continuing `point` on `dataset` with `config` (epochs, learning rate, beta may differ
    from the run's so far; the caller decides which fields a continued run may change). `make` builds it:
    `Trainer`, or under torchrun the distributed one (core/distributed_trainer.trainer_factory)."""
    return make(point.model, dataset, config, history=point.history, optimizer_state=point.optimizer_state,
                progress=point.progress, rng_state=point.rng_state)


def resumed_config(checkpoint: Checkpoint, overrides: dict[str, Any], **model_fields: Any) -> TrainConfig:
    """A checkpoint's training settings with `overrides` applied (validated as a whole). A model field
    (`z_dim=`, `base_width=`, `layout=`, …; None means not given) other than the checkpoint's is refused:
    a continued run keeps its architecture."""
    for field, given in model_fields.items():
        stored = getattr(checkpoint.model_config, field)
        if given is not None and given != stored:
            raise ConfigError(
                f"--{field.replace('_', '-')} {given} differs from the checkpoint's {field} {stored}; "
                "a resumed run keeps its architecture."
            )
    return TrainConfig.from_dict({**checkpoint.train_config.to_dict(), **overrides})
