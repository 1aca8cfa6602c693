"""Model and training hyperparameters, validated once so every caller gets the same clear errors."""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, fields
from typing import Any

from vae_desktop.core.errors import ConfigError

RECON_LOSSES = ("bernoulli", "gaussian")
DEVICES = ("auto", "cpu", "cuda", "mps")


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of the VAE. Stored in every checkpoint so the model can be rebuilt exactly."""

    z_dim: int = 16
    channels: int = 1
    height: int = 28
    width: int = 28
    base_width: int = 32
    hidden: int = 256

    def __post_init__(self) -> None:
        _check_int("z_dim", self.z_dim, 1, 256)
        _check_int("channels", self.channels, 1, 4)
        _check_int("base_width", self.base_width, 4, 512)
        _check_int("hidden", self.hidden, 8, 8192)
        for name in ("height", "width"):
            value = getattr(self, name)
            _check_int(name, value, 8, 512)
            if value % 4:
                raise ConfigError(f"Image {name} must be a multiple of 4 (got {value}).")

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (self.channels, self.height, self.width)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        return cls(**_known_fields(cls, data))


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings. `beta` weights the KL term of the loss (beta-VAE)."""

    epochs: int = 10
    batch_size: int = 128
    lr: float = 1e-3
    beta: float = 1.0
    seed: int = 0
    device: str = "auto"
    recon_loss: str = "bernoulli"

    def __post_init__(self) -> None:
        _check_int("epochs", self.epochs, 1, 100_000)
        _check_int("batch_size", self.batch_size, 1, 65_536)
        _check_float("lr", self.lr, 0.0, 1e9, "learning rate")
        _check_float("beta", self.beta, 0.0, 1e6, "beta", allow_zero=True)
        _check_int("seed", self.seed, 0, 2**31 - 1)
        check_device_name(self.device)
        if self.recon_loss not in RECON_LOSSES:
            raise ConfigError(
                f"Unknown reconstruction loss {self.recon_loss!r}: choose one of {', '.join(RECON_LOSSES)}."
            )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        return cls(**_known_fields(cls, data))


def check_device_name(name: object) -> str:
    """The one rule for a device name (`train`, `evaluate`, the form): auto, cpu, cuda, cuda:N or mps.

    Whether that device exists here is `core.device.pick_device`'s question."""
    text = str(name)
    if isinstance(name, str) and (name in DEVICES or re.fullmatch(r"cuda:[0-9]{1,3}", name)):
        return name
    raise ConfigError(f"Unknown device {shown_text(text)}: choose one of {', '.join(DEVICES)} (or cuda:N).")


MAX_SHOWN_CHARS = 24


def shown_text(text: str) -> str:
    """What the user typed, quoted for a message: one line, at most MAX_SHOWN_CHARS characters."""
    text = str(text)
    if len(text) > MAX_SHOWN_CHARS:
        text = text[: MAX_SHOWN_CHARS - 1] + "…"
    return repr(text)


def parse_int(label: str, text: str) -> int:
    """Parse a typed-in integer ("128", " 1e3 " is refused) with a message naming the field.

    Surrounding blanks are left to `int` itself: `str.strip` would also drop the ASCII separator
    control characters (\x1c-\x1f), so a pasted "128\x1f" would silently count as 128."""
    try:
        return int(str(text))
    except ValueError:
        raise ConfigError(f"{label} must be a whole number (got {shown_text(text)}).") from None


def parse_float(label: str, text: str) -> float:
    """Parse a typed-in number ("1e-3", "0.5") with a message naming the field (blanks as in `parse_int`)."""
    try:
        value = float(str(text))
    except ValueError:
        raise ConfigError(f"{label} must be a number (got {shown_text(text)}).") from None
    if not math.isfinite(value):
        raise ConfigError(f"{label} must be a finite number (got {shown_text(text)}).")
    return value


def _known_fields(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}


def _check_int(name: str, value: Any, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name} must be a whole number (got {value!r}).")
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high} (got {value}).")


def _check_float(name: str, value: Any, low: float, high: float, label: str, allow_zero: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"The {label} must be a finite number (got {value!r}).")
    if value < low or (value == low and not allow_zero) or value > high:
        bound = f"at least {low}" if allow_zero else f"greater than {low}"
        raise ConfigError(f"The {label} must be {bound} and at most {high:g} (got {value:g}).")
