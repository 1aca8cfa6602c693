"""Checkpoints: one file per model with weights, configs, dataset, history, optimizer and RNG state.

Files are written atomically (temp file + os.replace) with a SHA-256 of every byte (see
checkpoint_integrity), and read with `torch.load(weights_only=True)`, which refuses any pickled
object that is not plain data or a tensor, so a crafted file cannot run code. Every field is then
validated (checkpoint_validation). Every way a file can be wrong ends in a CheckpointError with a
message for the user.
"""

from __future__ import annotations

import os
import pickle
import stat
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, BinaryIO, cast

import torch

from vae_desktop import __version__
from vae_desktop.core.atomic import atomic_write, describe_write_error
from vae_desktop.core.checkpoint_integrity import (
    DIGEST_KIND,
    ChecksumWriter,
    digest_matches,
    first_bad_record,
    read_digest,
)
from vae_desktop.core.checkpoint_validation import (
    InvalidField,
    brief,
    check_history,
    check_optimizer_state,
    check_progress,
    check_rng_state,
    check_stored_image_size,
    check_text,
    check_weights,
)
from vae_desktop.core.config import ModelConfig, TrainConfig
from vae_desktop.core.errors import CheckpointError, ConfigError
from vae_desktop.core.history import TrainingHistory
from vae_desktop.core.model import VAE, empty_model
from vae_desktop.core.optimizer import make_adam
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
    # `--image-size` of the dataset the model trained on; None: the dataset's own size (as in every
    # checkpoint saved before image sizes existed), so a resumed run loads the same pixels.
    image_size: int | None = None
    # Said to the user about the file it was loaded from (e.g. it had no checksum); never saved.
    notes: tuple[str, ...] = ()

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
            image_size=trainer.dataset.image_size,
        )

    def to_payload(self) -> dict[str, Any]:
        return {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "app_version": self.app_version,
            "model_config": self.model_config.to_dict(),
            "train_config": self.train_config.to_dict(),
            "dataset": self.dataset,
            "image_size": self.image_size,
            "model_state": self.model_state,
            "optimizer_state": self.optimizer_state,
            "history": self.history.to_state(),
            "progress": self.progress.to_dict(),
            "rng_state": self.rng_state,
            "integrity": DIGEST_KIND,  # a checksum follows the archive: a file without one is damaged
        }


def save_checkpoint(checkpoint: Checkpoint, path: str | os.PathLike[str]) -> Path:
    """Write atomically, with a checksum: the previous file at `path` survives any failure or crash mid-write."""
    return save_payload(checkpoint.to_payload(), path)


def save_payload(payload: dict[str, Any], path: str | os.PathLike[str]) -> Path:
    """`save_checkpoint` of an already-built payload (tests build odd ones on purpose)."""
    try:
        return atomic_write(path, lambda handle: _write_payload(payload, handle))
    except OSError as exc:
        raise CheckpointError(
            f"Could not save the checkpoint to {path}: {describe_write_error(exc, Path(path))}. "
            "Any earlier file there is unchanged."
        ) from exc
    except RuntimeError as exc:  # a failure inside torch's zip writer that was not a write error
        raise CheckpointError(f"Could not save the checkpoint to {path}: {_brief(exc)}.") from exc


def _write_payload(payload: dict[str, Any], handle: BinaryIO) -> None:
    writer = ChecksumWriter(handle)
    try:
        torch.save(payload, cast(IO[bytes], writer))  # torch.save calls only write() and flush()
    except RuntimeError:
        if writer.error is not None:
            raise writer.error from None
        raise
    writer.append_digest()


def load_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """Read, verify and validate a checkpoint; never executes code from the file.

    The bytes are checked (against the stored SHA-256, or the zip CRC32s of a file saved before
    checksums) before torch reads them, from the same open file, so what is verified is what loads.
    """
    target = Path(path)
    try:
        if not stat.S_ISREG(target.stat().st_mode):
            raise CheckpointError(f"{target} is a folder, not a checkpoint file." if target.is_dir()
                                  else f"{target} is not a regular file, so it is not a checkpoint.")
        with target.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size == 0:
                raise CheckpointError(f"{target.name} is empty: it is not a VAE Desktop checkpoint.")
            verified = _verify_bytes(handle, size, target.name)
            handle.seek(0)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # torch warns about foreign pickle protocols; we report our own error
                payload = torch.load(handle, map_location="cpu", weights_only=True)
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
        raise CheckpointError(
            f"{target.name} is damaged or not a VAE Desktop checkpoint: PyTorch could not read it ({_brief(exc)})."
        ) from None
    return _from_payload(payload, target.name, verified)


def _verify_bytes(handle: BinaryIO, size: int, name: str) -> bool:
    """True when the stored checksum matched; False for a file without one whose zip CRC32s all match."""
    digest = read_digest(handle, size)
    if digest is not None:
        if not digest_matches(handle, size, digest):
            raise CheckpointError(
                f"{name} is damaged: its contents no longer match the checksum stored when it was saved "
                "(changed on disk or while copying). Use another copy of it."
            )
        return True
    try:
        bad = first_bad_record(handle)
    except Exception:  # BadZipFile, or whatever zipfile raises on hostile bytes (zlib.error, EOFError, ...)
        raise CheckpointError(
            f"{name} is damaged or not a VAE Desktop checkpoint: it is not a complete zip archive "
            "(was it cut off while copying?)."
        ) from None
    if bad is not None:
        raise CheckpointError(f"{name} is damaged: its part {bad!r} does not match the CRC stored with it. "
                              "Use another copy of it.")
    return False


def _from_payload(payload: Any, name: str, verified: bool = False) -> Checkpoint:
    if not isinstance(payload, dict) or payload.get("format") != FORMAT_NAME:
        raise CheckpointError(f"{name} is not a VAE Desktop checkpoint (it may be a plain PyTorch file).")
    version = payload.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version > FORMAT_VERSION:
        raise CheckpointError(
            f"{name} was written by a newer VAE Desktop (format {version}); this version reads format "
            f"{FORMAT_VERSION}. Please update the app."
        )
    notes = _integrity_notes(payload, name, verified)
    try:
        model_config = ModelConfig.from_dict(payload["model_config"])
        train_config = TrainConfig.from_dict(payload["train_config"])
        model_state = payload["model_state"]
        if not isinstance(model_state, dict) or not all(isinstance(v, torch.Tensor) for v in model_state.values()):
            raise TypeError("model_state is not a dict of tensors")
        check_progress(payload["progress"])
        check_history(payload["history"], payload["progress"], model_config.z_dim)
        check_rng_state(payload.get("rng_state"))
        checkpoint = Checkpoint(
            model_config=model_config,
            train_config=train_config,
            dataset=check_text(payload["dataset"], "dataset"),
            model_state=model_state,
            history=TrainingHistory.from_state(payload["history"]),
            progress=TrainingProgress.from_dict(payload["progress"]),
            optimizer_state=payload.get("optimizer_state"),
            rng_state=payload.get("rng_state"),
            app_version=str(payload.get("app_version", "?"))[:40],
            image_size=check_stored_image_size(payload.get("image_size"), model_config.image_shape),
            notes=notes,
        )
    except ConfigError as exc:
        raise CheckpointError(f"{name} holds invalid settings: {exc}") from None
    except InvalidField as exc:
        raise CheckpointError(f"{name} cannot be used: its {exc}.") from None
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        raise CheckpointError(f"{name} is damaged: missing or malformed {_brief(exc)}.") from None
    try:
        model = checkpoint.build_model()  # validates that the weights fit the architecture
        check_weights(model_state)
        _check_optimizer(checkpoint.optimizer_state, model)
    except CheckpointError as exc:
        raise CheckpointError(f"{name} cannot be used. {exc}") from None
    except InvalidField as exc:
        raise CheckpointError(f"{name} cannot be used: its {exc}.") from None
    return checkpoint


def _integrity_notes(payload: dict[str, Any], name: str, verified: bool) -> tuple[str, ...]:
    kind = payload.get("integrity")
    if verified:
        return ()
    if kind == DIGEST_KIND:  # saved with a checksum that is now missing: the file's end was damaged
        raise CheckpointError(f"{name} is damaged: it was saved with a checksum, but the checksum at its end "
                              "is missing or unreadable. Use another copy of it.")
    return (f"{name} was saved without a checksum (by VAE Desktop {str(payload.get('app_version', '?'))[:40]}), "
            "so only its data records could be checked against their CRC32s. Saving it again adds a checksum.",)


def _check_optimizer(state: Any, model: VAE) -> None:
    """The structure check, then a real load into the Adam the Trainer would build (what torch checks itself)."""
    check_optimizer_state(state, [p.shape for p in model.parameters()])
    if state is None:
        return
    try:
        make_adam(model.parameters(), 1e-3, "cpu").load_state_dict(state)
    except (ValueError, KeyError, TypeError, RuntimeError, AttributeError, IndexError) as exc:
        raise InvalidField(f"optimizer_state does not fit this model's optimizer ({_brief(exc)})") from None


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


def _state_dict_problem(exc: BaseException) -> str:
    """The first specific line of a load_state_dict error ("size mismatch for ...", "Missing key(s) ...")."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    specific = [line for line in lines if not line.startswith("Error(s) in loading state_dict")]
    return brief((specific or lines or [type(exc).__name__])[0], 300)


def _brief(exc: BaseException) -> str:
    return brief(str(exc) or type(exc).__name__, 160)
