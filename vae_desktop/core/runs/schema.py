"""The run-folder format: run.json and the rows of metrics.jsonl (documented in docs/run-folder.md).

Versioned as "MAJOR.MINOR". A minor version only adds fields, so readers ignore fields they do not
know; a newer major version is refused with a message that says to update the app. Parsing is
strict about what a row needs (a batch row without a recon value is malformed) and tolerant of
everything else (unknown fields and unknown row types are skipped, null numbers read as NaN).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timezone
from typing import Any

from vae_desktop.core.metrics import BatchMetrics, EpochMetrics
from vae_desktop.core.runs.errors import NewerFormatError, RunFormatError

FORMAT_NAME = "vae-desktop-run"
FORMAT_VERSION = (1, 1)  # 1.1: epoch rows carry active_units (absent from 1.0 rows: read as None)

RUN_JSON = "run.json"
METRICS_JSONL = "metrics.jsonl"
METRICS_CSV = "metrics.csv"
CHECKPOINT_DIR = "checkpoints"
CHECKPOINT_SUFFIX = ".vaeckpt"
LATEST_CHECKPOINT = f"{CHECKPOINT_DIR}/latest{CHECKPOINT_SUFFIX}"
BEST_CHECKPOINT = f"{CHECKPOINT_DIR}/best{CHECKPOINT_SUFFIX}"
LEGACY_CHECKPOINT = f"model{CHECKPOINT_SUFFIX}"  # the one file `train --out` wrote before run folders

STATUS_RUNNING = "running"
STATUS_FINISHED = "finished"
STATUS_STOPPED = "stopped"
STATUS_FAILED = "failed"
STATUSES = (STATUS_RUNNING, STATUS_FINISHED, STATUS_STOPPED, STATUS_FAILED)

# Columns of a batch row, in the order the writer writes them (lines.py relies on this order).
BATCH_FIELDS = ("global_step", "epoch", "step", "recon", "kl", "samples_per_s", "time")


def kept_checkpoint_name(epoch: int) -> str:
    """checkpoints/epoch-0007.vaeckpt: the history kept with --keep-every."""
    return f"{CHECKPOINT_DIR}/epoch-{epoch:04d}{CHECKPOINT_SUFFIX}"


def version_text(version: tuple[int, int] = FORMAT_VERSION) -> str:
    return f"{version[0]}.{version[1]}"


def parse_version(value: Any, what: str) -> tuple[int, int]:
    """'1.0' -> (1, 0); a newer major version than ours raises RunFormatError naming both."""
    try:
        major_text, _, minor_text = str(value).partition(".")
        version = (int(major_text), int(minor_text or 0))
    except ValueError:
        raise RunFormatError(f"{what} has an unreadable format version {value!r}.") from None
    if version[0] > FORMAT_VERSION[0]:
        raise NewerFormatError(
            f"{what} was written by a newer VAE Desktop (run format {version_text(version)}); this version "
            f"reads format {FORMAT_VERSION[0]}.x. Please update the app."
        )
    if version[0] < 1:
        raise RunFormatError(f"{what} has an unknown format version {value!r}.")
    return version


def iso_time(seconds: float) -> str:
    """UTC ISO 8601 with milliseconds and a Z: the human-readable twin of every *_s time."""
    moment = datetime.fromtimestamp(seconds, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _number(data: dict, key: str, default: float | None = None) -> float:
    """A float field; null/absent -> default (NaN when no default), anything else -> TypeError."""
    value = data.get(key, default)
    if value is None:
        return math.nan if default is None else default
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{key} is not a number")
    return float(value)


def _integer(data: dict, key: str, default: int | None = None) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise TypeError(f"{key} is not a whole number")
    if value != int(value):
        raise TypeError(f"{key} is not a whole number")
    return int(value)


def _text(data: dict, key: str, default: str = "") -> str:
    value = data.get(key, default)
    return default if value is None else str(value)


def finite_or_none(value: float) -> float | None:
    """JSON has no NaN: non-finite numbers are written as null (and read back as NaN)."""
    return value if math.isfinite(value) else None


# ---------------------------------------------------------------------------------------- rows


@dataclass(frozen=True)
class HeaderRow:
    """First line of metrics.jsonl: which format and which run the lines belong to."""

    run_id: str
    format_version: tuple[int, int] = FORMAT_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {"type": "header", "format": FORMAT_NAME, "format_version": version_text(self.format_version),
                "run_id": self.run_id}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HeaderRow:
        if data.get("format") != FORMAT_NAME:
            raise RunFormatError(f"metrics.jsonl is not a VAE Desktop run log (format {data.get('format')!r}).")
        return cls(run_id=_text(data, "run_id"), format_version=parse_version(data.get("format_version"),
                                                                             "metrics.jsonl"))


@dataclass(frozen=True)
class BatchRow:
    """One logged optimisation step. Losses are means per image in nats; time is wall-clock seconds."""

    global_step: int
    epoch: int
    step: int
    recon: float
    kl: float
    samples_per_s: float
    time: float

    @classmethod
    def from_metrics(cls, metrics: BatchMetrics, wall_time: float) -> BatchRow:
        return cls(metrics.global_step, metrics.epoch, metrics.step, metrics.recon, metrics.kl,
                   metrics.samples_per_s, wall_time)

    def to_dict(self) -> dict[str, Any]:
        return {"type": "batch", **{name: _plain(getattr(self, name)) for name in BATCH_FIELDS}}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BatchRow:
        return cls(global_step=_integer(data, "global_step"), epoch=_integer(data, "epoch"),
                   step=_integer(data, "step"), recon=_number(data, "recon"), kl=_number(data, "kl"),
                   samples_per_s=_number(data, "samples_per_s"), time=_number(data, "time"))

    def values(self) -> tuple[float, ...]:
        return tuple(float(getattr(self, name)) for name in BATCH_FIELDS)


@dataclass(frozen=True)
class EpochRow:
    """One finished epoch: every field of EpochMetrics plus the global step it ended on and when."""

    metrics: EpochMetrics
    global_step: int | None = None
    time: float | None = None

    def to_dict(self) -> dict[str, Any]:
        data = {k: _plain(v) for k, v in self.metrics.to_dict().items()}
        data["kl_per_dim"] = [finite_or_none(float(v)) for v in self.metrics.kl_per_dim]
        return {"type": "epoch", **data, "global_step": self.global_step, "time": self.time}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EpochRow:
        values: dict[str, Any] = {}
        for f in fields(EpochMetrics):
            if f.name == "epoch":
                values["epoch"] = _integer(data, "epoch")
            elif f.name == "kl_per_dim":
                raw = data.get("kl_per_dim") or []
                if not isinstance(raw, list):
                    raise TypeError("kl_per_dim is not a list")
                values["kl_per_dim"] = tuple(_number({"v": v}, "v") for v in raw)
            elif f.name == "active_units":
                values["active_units"] = None if data.get("active_units") is None else _integer(data, "active_units")
            else:
                values[f.name] = _number(data, f.name)
        step = data.get("global_step")
        wall = data.get("time")
        return cls(EpochMetrics(**values), None if step is None else _integer(data, "global_step"),
                   None if wall is None else _number(data, "time"))


@dataclass(frozen=True)
class RewindRow:
    """Forget logged rows after this point: written when a run resumes from an earlier checkpoint
    (the epoch in progress was lost) or rolls back after diverging. Readers drop batch rows with a
    larger global_step and epoch rows with a larger epoch, then carry on."""

    global_step: int
    epoch: int  # completed epochs that remain
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"type": "rewind", "global_step": self.global_step, "epoch": self.epoch, "reason": self.reason}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RewindRow:
        return cls(_integer(data, "global_step"), _integer(data, "epoch"), _text(data, "reason"))


def _plain(value: Any) -> Any:
    if isinstance(value, float):
        return finite_or_none(value)
    return value


# ---------------------------------------------------------------------------------------- run.json


@dataclass(frozen=True)
class Progress:
    """Where the run stands, as of the last write of run.json (at most one heartbeat old)."""

    epoch: int = 0  # epoch in progress, or the last one finished (1-based; 0 before the first batch)
    epochs_completed: int = 0
    global_step: int = 0
    epochs_planned: int = 0
    steps_per_epoch: int = 0

    def to_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Progress:
        return cls(**{f.name: _integer(data, f.name, 0) for f in fields(cls)})


@dataclass(frozen=True)
class CheckpointRecord:
    """What the checkpoints folder holds. `saves` counts saves of latest.vaeckpt: a reader whose
    file system shows only whole seconds (SFTP) still sees a second save within the same second."""

    saves: int = 0
    epochs_completed: int = 0  # of the state in latest.vaeckpt
    global_step: int = 0
    saved_at_s: float | None = None
    best_epoch: int | None = None
    best_test_total: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "saves": self.saves, "epochs_completed": self.epochs_completed, "global_step": self.global_step,
            "saved_at_s": self.saved_at_s, "best_epoch": self.best_epoch,
            "best_test_total": None if self.best_test_total is None else finite_or_none(self.best_test_total),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckpointRecord:
        best_epoch = data.get("best_epoch")
        return cls(
            saves=_integer(data, "saves", 0), epochs_completed=_integer(data, "epochs_completed", 0),
            global_step=_integer(data, "global_step", 0),
            saved_at_s=None if data.get("saved_at_s") is None else _number(data, "saved_at_s"),
            best_epoch=None if best_epoch is None else _integer(data, "best_epoch"),
            best_test_total=None if data.get("best_test_total") is None else _number(data, "best_test_total"),
        )


@dataclass(frozen=True)
class RunInfo:
    """The contents of run.json: settings, provenance, status and heartbeat of one run."""

    run_id: str
    dataset: str
    model_config: dict[str, Any]  # ModelConfig.to_dict(); kept as plain data so a reader never fails on it
    train_config: dict[str, Any]  # TrainConfig.to_dict()
    started_at_s: float
    heartbeat_at_s: float
    status: str = STATUS_RUNNING
    message: str = ""  # why it failed (or a note on a stop)
    ended_at_s: float | None = None
    progress: Progress = field(default_factory=Progress)
    checkpoints: CheckpointRecord = field(default_factory=CheckpointRecord)
    software: dict[str, str] = field(default_factory=dict)  # {"vae_desktop": ..., "torch": ..., "python": ...}
    host: str = ""
    pid: int = 0
    kind: str = "train"  # who wrote it: "train" (CLI), "window", "distributed", ...
    experiment: str | None = None  # a free label grouping runs
    world_size: int = 1  # processes of a distributed run (written by rank 0)
    resumed: int = 0  # times the run was continued from its folder
    format_version: tuple[int, int] = FORMAT_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT_NAME,
            "format_version": version_text(self.format_version),
            "run_id": self.run_id,
            "kind": self.kind,
            "experiment": self.experiment,
            "dataset": self.dataset,
            "model_config": dict(self.model_config),
            "train_config": dict(self.train_config),
            "software": dict(self.software),
            "host": self.host,
            "pid": self.pid,
            "world_size": self.world_size,
            "started_at": iso_time(self.started_at_s),
            "started_at_s": round(self.started_at_s, 3),
            "status": self.status,
            "message": self.message,
            "heartbeat_at": iso_time(self.heartbeat_at_s),
            "heartbeat_at_s": round(self.heartbeat_at_s, 3),
            "ended_at": None if self.ended_at_s is None else iso_time(self.ended_at_s),
            "ended_at_s": None if self.ended_at_s is None else round(self.ended_at_s, 3),
            "resumed": self.resumed,
            "progress": self.progress.to_dict(),
            "checkpoints": self.checkpoints.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Any) -> RunInfo:
        """Parse run.json; RunFormatError (one clear sentence) for anything that is not a usable run.json."""
        if not isinstance(data, dict):
            raise RunFormatError("run.json does not hold a JSON object.")
        if data.get("format") != FORMAT_NAME:
            raise RunFormatError(f"run.json is not a VAE Desktop run (format {data.get('format')!r}).")
        version = parse_version(data.get("format_version"), "run.json")
        status = data.get("status")
        if status not in STATUSES:
            raise RunFormatError(f"run.json has an unknown status {status!r}.")
        try:
            model_config = data.get("model_config") or {}
            train_config = data.get("train_config") or {}
            if not isinstance(model_config, dict) or not isinstance(train_config, dict):
                raise TypeError("settings are not objects")
            software = data.get("software") or {}
            started = _number(data, "started_at_s")
            heartbeat = _number(data, "heartbeat_at_s", started)
            if not math.isfinite(started) or not math.isfinite(heartbeat):
                raise TypeError("times are missing")
            ended = data.get("ended_at_s")
            experiment = data.get("experiment")
            return cls(
                run_id=_text(data, "run_id"), dataset=_text(data, "dataset"),
                model_config=model_config, train_config=train_config,
                started_at_s=started, heartbeat_at_s=heartbeat, status=status, message=_text(data, "message"),
                ended_at_s=None if ended is None else _number(data, "ended_at_s"),
                progress=Progress.from_dict(data.get("progress") or {}),
                checkpoints=CheckpointRecord.from_dict(data.get("checkpoints") or {}),
                software={str(k): str(v) for k, v in software.items()} if isinstance(software, dict) else {},
                host=_text(data, "host"), pid=_integer(data, "pid", 0), kind=_text(data, "kind", "train"),
                experiment=None if experiment is None else str(experiment),
                world_size=_integer(data, "world_size", 1), resumed=_integer(data, "resumed", 0),
                format_version=version,
            )
        except (TypeError, ValueError, AttributeError) as exc:
            raise RunFormatError(f"run.json is damaged: {exc}.") from None

    def with_changes(self, **changes: Any) -> RunInfo:
        return replace(self, **changes)
