"""What the follow worker sends to the GUI thread: frozen values and numpy copies, nothing live."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vae_desktop.core.config import ModelConfig
from vae_desktop.core.metrics import BatchMetrics, EpochMetrics
from vae_desktop.core.runs.history import RunHistory
from vae_desktop.core.runs.state import RunStatus


@dataclass(frozen=True)
class LoadedModel:
    """A followed run's checkpoint, loaded and copied into numpy (the mirror builds its model from it)."""

    name: str  # inside the run folder ("checkpoints/latest.vaeckpt")
    path: str  # a local file (a fetched copy for a remote run)
    model_config: ModelConfig
    state: dict[str, np.ndarray]
    recon_loss: str
    dataset: str
    seed: int
    global_step: int
    image_size: int | None = None  # the run's --image-size (None: its dataset's own size)
    beta: float = 1.0  # the run's KL weight (the inspector's gradients use it)


@dataclass(frozen=True)
class WholeHistory:
    """Everything the log holds so far: the plots replace what they show with it."""

    steps: np.ndarray
    recon: np.ndarray
    kl: np.ndarray
    epochs: list[EpochMetrics]

    @classmethod
    def of(cls, history: RunHistory) -> WholeHistory:
        arrays = history.batch_arrays()
        return cls(arrays["global_step"], arrays["recon"], arrays["kl"], history.epoch_metrics)


@dataclass(frozen=True)
class FollowNews:
    """One poll's worth (or the opening read, with `history` set)."""

    status: RunStatus
    steps_per_epoch: int
    history: WholeHistory | None = None  # set: replace everything shown (opened, restarted, rewound)
    batches: tuple[BatchMetrics, ...] = ()  # else: append these
    epochs: tuple[EpochMetrics, ...] = ()
    model: LoadedModel | None = None
    restarted: bool = False
    malformed_lines: int = 0  # skipped so far in the log being read
    problems: tuple[str, ...] = field(default_factory=tuple)

    @property
    def has_rows(self) -> bool:
        return self.history is not None or bool(self.batches or self.epochs)


def batch_metrics(batch: dict[str, np.ndarray], steps_per_epoch: int) -> tuple[BatchMetrics, ...]:
    """The log's batch rows in the form the window's own training sends them."""
    return tuple(
        BatchMetrics(int(epoch), int(step), steps_per_epoch, int(global_step), float(recon), float(kl),
                     float(recon + kl), float(rate))
        for global_step, epoch, step, recon, kl, rate in zip(
            batch["global_step"], batch["epoch"], batch["step"], batch["recon"], batch["kl"], batch["samples_per_s"],
            strict=True)
    )
