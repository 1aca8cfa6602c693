"""Checkpoints: one file per model with weights, configs, dataset, history, optimizer and RNG state.

Files are written atomically (temp file + os.replace) and read with `torch.load(weights_only=True)`,
which refuses any pickled object that is not plain data or a tensor, so a crafted file cannot run
code. Every way a file can be wrong ends in a CheckpointError with a message for the user.
"""

from __future__ import annotations

import errno
import os
import pickle
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import torch

from vae_desktop import __version__
from vae_desktop.core.atomic import atomic_write
from vae_desktop.core.config import ModelConfig, TrainConfig
from vae_desktop.core.errors import CheckpointError, ConfigError
from vae_desktop.core.history import TrainingHistory
from vae_desktop.core.model import VAE, empty_model
from vae_desktop.core.trainer import Trainer, TrainingProgress

FORMAT_NAME = "vae-desktop-checkpoint"
FORMAT_VERSION = 1
SUFFIX = ".vaeckpt"
MIME_TYPE = "application/x-vae-desktop-checkpoint"


@dataclass
class Checkpoint:
    model_config: ModelConfig
    train_config: TrainConfig
    dataset: str
    model_state: dict[str, torch.Tensor]
    history: TrainingHistory = field(default_factory=TrainingHistory)
    progress: TrainingProgress = field(default_factory=TrainingProgress)
    optimizer_state: dict | None = None
    rng_state: torch.Tensor | None = None
    app_version: str = __version__

    def build_model(self) -> VAE:
        """A CPU model with the stored weights; a state that does not fit its config is an error."""
        model = empty_model(self.model_config).requires_grad_(True)
        try:
            model.load_state_dict(self.model_state)
        except (RuntimeError, KeyError, TypeError) as exc:
            raise CheckpointError(
                f"The weights in this checkpoint do not match its model (z_dim={self.model_config.z_dim}, "
                f"image {self.model_config.image_shape}): {_state_dict_problem(exc)}"
            ) from exc
        return model.eval()

    @classmethod
    def from_trainer(cls, trainer: Trainer, dataset: str) -> Checkpoint:
        """Capture a trainer between steps (from its own thread, or while it is not running)."""
        model_state = {k: v.detach().to("cpu", copy=True) for k, v in trainer.model.state_dict().items()}
        optimizer_state = _to_cpu(trainer.optimizer.state_dict())
        return cls(
            model_config=trainer.model.config,
            train_config=trainer.config,
            dataset=dataset,
            model_state=model_state,
            history=trainer.history,
            progress=trainer.progress,
            optimizer_state=optimizer_state,
            rng_state=trainer.rng_state().clone(),
        )

    def to_payload(self) -> dict[str, Any]:
        return {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "app_version": self.app_version,
            "model_config": self.model_config.to_dict(),
            "train_config": self.train_config.to_dict(),
            "dataset": self.dataset,
            "model_state": self.model_state,
            "optimizer_state": self.optimizer_state,
            "history": self.history.to_state(),
            "progress": self.progress.to_dict(),
            "rng_state": self.rng_state,
        }


def save_checkpoint(checkpoint: Checkpoint, path: str | os.PathLike[str]) -> Path:
    """Write atomically: the previous file at `path` survives any failure or crash mid-write."""
    payload = checkpoint.to_payload()
    try:
        return atomic_write(path, lambda handle: _save_reporting_os_errors(payload, handle))
    except OSError as exc:
        raise CheckpointError(
            f"Could not save the checkpoint to {path}: {_save_problem(exc, Path(path))}. Nothing was lost: the run "
            "is still open and any earlier file there is unchanged. Save elsewhere, or make room and save again."
        ) from exc
    except RuntimeError as exc:  # a failure inside torch's zip writer that was not a write error
        raise CheckpointError(f"Could not save the checkpoint to {path}: {_first_line(exc)}.") from exc


class _WriteRecorder:
    """A file wrapper that remembers the OSError of a failed write: torch's zip writer swallows it
    (a full disk surfaces as "RuntimeError: unexpected pos ..."), and the user needs the real reason."""

    def __init__(self, handle: BinaryIO) -> None:
        self._handle = handle
        self.error: OSError | None = None

    def write(self, data: bytes) -> int:
        try:
            return self._handle.write(data)
        except OSError as exc:
            self.error = exc
            raise

    def flush(self) -> None:
        self._handle.flush()


def _save_reporting_os_errors(payload: dict[str, Any], handle: BinaryIO) -> None:
    recorder = _WriteRecorder(handle)
    try:
        torch.save(payload, recorder)
    except RuntimeError:
        if recorder.error is not None:
            raise recorder.error from None
        raise


def load_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """Read and validate a checkpoint; never executes code from the file."""
    target = Path(path)
    try:
        size = target.stat().st_size
        if size == 0:
            raise CheckpointError(f"{target.name} is empty: it is not a VAE Desktop checkpoint.")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns about foreign pickle protocols; we report our own error
            payload = torch.load(target, map_location="cpu", weights_only=True)
    except CheckpointError:
        raise
    except FileNotFoundError:
        raise CheckpointError(f"Checkpoint {target} does not exist.") from None
    except IsADirectoryError:
        raise CheckpointError(f"{target} is a folder, not a checkpoint file.") from None
    except PermissionError:
        raise CheckpointError(f"No permission to read {target}.") from None
    except pickle.UnpicklingError as exc:
        if "GLOBAL" in str(exc) or "Unsupported global" in str(exc):
            raise CheckpointError(
                f"{target.name} contains Python objects that could run code; it was refused and not loaded."
            ) from None
        raise CheckpointError(f"{target.name} is not a VAE Desktop checkpoint (unreadable data).") from None
    except Exception as exc:  # the unpickler can raise almost anything on hostile bytes (struct.error, ...)
        if "zip archive" in str(exc):
            raise CheckpointError(
                f"{target.name} is incomplete or damaged: its archive cannot be read (was it cut off while copying?)."
            ) from None
        raise CheckpointError(
            f"{target.name} is damaged or not a VAE Desktop checkpoint ({_first_line(exc)})."
        ) from None
    return _from_payload(payload, target.name)


def _from_payload(payload: Any, name: str) -> Checkpoint:
    if not isinstance(payload, dict) or payload.get("format") != FORMAT_NAME:
        raise CheckpointError(f"{name} is not a VAE Desktop checkpoint (it may be a plain PyTorch file).")
    version = payload.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise CheckpointError(
            f"{name} was written by a newer VAE Desktop (format {version}); this version reads format "
            f"{FORMAT_VERSION}. Please update the app."
        )
    try:
        model_config = ModelConfig.from_dict(payload["model_config"])
        train_config = TrainConfig.from_dict(payload["train_config"])
        model_state = payload["model_state"]
        if not isinstance(model_state, dict) or not all(isinstance(v, torch.Tensor) for v in model_state.values()):
            raise TypeError("model_state is not a dict of tensors")
        history = TrainingHistory.from_state(payload["history"])
        progress = TrainingProgress.from_dict(payload["progress"])
        rng_state = payload.get("rng_state")
        if rng_state is not None and not isinstance(rng_state, torch.Tensor):
            raise TypeError("rng_state is not a tensor")
        checkpoint = Checkpoint(
            model_config=model_config,
            train_config=train_config,
            dataset=str(payload["dataset"]),
            model_state=model_state,
            history=history,
            progress=progress,
            optimizer_state=payload.get("optimizer_state"),
            rng_state=rng_state,
            app_version=str(payload.get("app_version", "?")),
        )
    except ConfigError as exc:
        raise CheckpointError(f"{name} holds invalid settings: {exc}") from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CheckpointError(f"{name} is damaged: missing or malformed {_first_line(exc)}.") from None
    try:
        checkpoint.build_model()  # validates that the weights fit the architecture
    except CheckpointError as exc:
        raise CheckpointError(f"{name} cannot be used. {exc}") from None
    return checkpoint


def _to_cpu(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu", copy=True)
    if isinstance(value, dict):
        return {k: _to_cpu(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_cpu(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_to_cpu(v) for v in value)
    return value


def _save_problem(exc: OSError, path: Path) -> str:
    """Why a save failed, in words that suggest the fix."""
    if exc.errno == errno.ENOSPC:
        return "the disk is full"
    if exc.errno == errno.EDQUOT:
        return "the disk quota is used up"
    if exc.errno == errno.EROFS:
        return "that disk is read-only"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "no permission to write in that folder"
    if exc.errno in (errno.ENOTDIR, errno.EEXIST) and not path.parent.is_dir():
        return f"{path.parent} is not a folder"
    return str(exc.strerror or exc)


def _state_dict_problem(exc: BaseException) -> str:
    """The first specific line of a load_state_dict error ("size mismatch for ...", "Missing key(s) ...")."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    specific = [line for line in lines if not line.startswith("Error(s) in loading state_dict")]
    text = (specific or lines or [type(exc).__name__])[0]
    return text[:300]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
