"""Plain-Python metric records the trainer yields: safe to send across threads and to print."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass(frozen=True)
class BatchMetrics:
    """One optimisation step. Losses are means per image in nats; total = recon + KL (negative ELBO)."""

    epoch: int  # 1-based epoch this step belongs to
    step: int  # 1-based step within the epoch
    steps_per_epoch: int
    global_step: int  # 1-based count of steps since the run began
    recon: float
    kl: float
    total: float
    samples_per_s: float


@dataclass(frozen=True)
class EpochMetrics:
    """One finished epoch: running train averages and a full pass over the test set."""

    epoch: int
    train_recon: float
    train_kl: float
    train_total: float
    test_recon: float
    test_kl: float
    test_total: float
    samples_per_s: float
    seconds: float
    # Test-set mean KL of each latent dimension (nats); sums to test_kl. Not a CSV column.
    kl_per_dim: tuple[float, ...] = ()
    # Latent dimensions whose test-set posterior mean varies by more than 0.01 (Burda et al. 2015).
    # None for epochs recorded before it was measured (older checkpoints and run folders).
    active_units: int | None = None

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["kl_per_dim"] = list(self.kl_per_dim)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EpochMetrics:
        kwargs: dict[str, Any] = {f.name: float(data[f.name]) for f in fields(cls) if f.name not in _NOT_FLOAT}
        kwargs["epoch"] = int(data["epoch"])
        kwargs["kl_per_dim"] = tuple(float(v) for v in data.get("kl_per_dim", ()))
        units = data.get("active_units")
        kwargs["active_units"] = None if units is None else int(units)
        return cls(**kwargs)


_NOT_FLOAT = ("kl_per_dim", "active_units")
EPOCH_COLUMNS = [f.name for f in fields(EpochMetrics) if f.name != "kl_per_dim"]
# Columns an older record may lack (read as None, written as an empty CSV cell).
OPTIONAL_EPOCH_COLUMNS = ("active_units",)
