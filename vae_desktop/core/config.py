"""Model and training hyperparameters, validated once so every caller gets the same clear errors."""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from vae_desktop.core.errors import ConfigError

RECON_LOSSES = ("bernoulli", "gaussian")
DEVICES = ("auto", "cpu", "cuda", "mps")
# Which half of the encoder's 2*z_dim outputs is the mean: nothing in the network decides it, only
# how the outputs are used (the "swap the halves" experiment trains both and gets the same curves).
LAYOUTS = ("mean-first", "logstd-first")
# How the second half becomes the stddev σ: exp of log σ (any real output is a valid σ), softplus
# (also always positive), or raw (used as σ directly: it goes negative and training fails).
STDDEVS = ("exp", "softplus", "raw")

# `--image-size`: 28 and 32 are the datasets' own sizes, 64 and 128 add one and two encoder stages.
IMAGE_SIZES = (28, 32, 64, 128)


@dataclass(frozen=True)
class FieldSpec:
    """One numeric setting: its label, default and limits, defined once.

    The config dataclasses check their values with it, the settings form builds its fields and
    messages from it and the CLI's argparse types parse with it, so the same bad value gets the same
    words in the window and in `vae-desktop train` (the CLI adds only the flag in front)."""

    name: str  # the dataclass field
    label: str  # the form's label; every message about the field starts with it
    default: int | float
    low: int | float
    high: int | float
    whole: bool = True  # a whole number (a spin box) or any finite number (a text field)
    low_allowed: bool = True  # may the value equal `low`? (β = 0 yes, a learning rate of 0 no)

    @property
    def flag(self) -> str:
        """The CLI option: --batch-size for batch_size."""
        return "--" + self.name.replace("_", "-")

    def limits(self) -> str:
        """'1 to 100,000', '0 to 1e+06', 'greater than 0 and at most 1e+09'."""
        if self.whole:
            return f"from {self.low:,} to {self.high:,}"
        if self.low_allowed:
            return f"from {self.low:g} to {self.high:g}"
        return f"greater than {self.low:g} and at most {self.high:g}"

    def refusal(self, shown: str) -> str:
        """The message for a value outside the limits (or, for a whole number, not a whole number)."""
        kind = "a whole number" if self.whole else "a number"
        return f"{self.label} must be {kind} {self.limits()} (got {shown})."

    def parse(self, text: str) -> int | float:
        """A typed-in value ('128', '1e-3'), checked against the limits; raises ConfigError."""
        if self.whole:
            try:
                value: int | float = parse_int(self.label, text)
            except ConfigError:
                raise ConfigError(self.refusal(shown_text(text))) from None
        else:
            value = parse_float(self.label, text)
        if not self.allows(value):
            raise ConfigError(self.refusal(shown_text(text)))
        return value

    def check(self, value: Any) -> None:
        """Raise ConfigError unless `value` (from code or a checkpoint, not typed) fits."""
        if self.whole and (isinstance(value, bool) or not isinstance(value, int)):
            raise ConfigError(self.refusal(repr(value)))
        if not self.whole and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise ConfigError(f"{self.label} must be a number (got {value!r}).")
        if not self.whole and not math.isfinite(value):
            raise ConfigError(f"{self.label} must be a finite number (got {value!r}).")
        if not self.allows(value):
            raise ConfigError(self.refusal(f"{value:g}" if not self.whole else str(value)))

    def allows(self, value: int | float) -> bool:
        above = value >= self.low if self.low_allowed else value > self.low
        return above and value <= self.high


FIELDS: dict[str, FieldSpec] = {
    spec.name: spec
    for spec in (
        FieldSpec("z_dim", "Latent dims (z)", 16, 1, 256),
        FieldSpec("channels", "Image channels", 1, 1, 4),
        FieldSpec("height", "Image height", 28, 8, 512),
        FieldSpec("width", "Image width", 28, 8, 512),
        FieldSpec("base_width", "Base width", 32, 4, 512),
        FieldSpec("hidden", "Hidden units", 256, 8, 8192),
        FieldSpec("epochs", "Epochs", 10, 1, 100_000),
        FieldSpec("batch_size", "Batch size", 128, 1, 65_536),
        FieldSpec("lr", "Learning rate", 1e-3, 0.0, 1e9, whole=False, low_allowed=False),
        FieldSpec("beta", "β (KL weight)", 1.0, 0.0, 1e6, whole=False),
        FieldSpec("kl_warmup_epochs", "KL warm-up epochs", 0, 0, 100_000),
        FieldSpec("free_bits", "Free bits (nats per dim)", 0.0, 0.0, 1e3, whole=False),
        FieldSpec("seed", "Seed", 0, 0, 2**31 - 1),
        # Not a training setting: `vae-desktop evaluate --importance-samples K` (core/likelihood.py).
        # Memory is bounded for any K (samples are decoded in chunks); the limit bounds the time.
        FieldSpec("importance_samples", "Importance samples (K)", 1, 1, 100_000),
    )
}


def _default(name: str) -> Any:
    return FIELDS[name].default


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of the VAE. Stored in every checkpoint so the model can be rebuilt exactly."""

    z_dim: int = _default("z_dim")
    channels: int = _default("channels")
    height: int = _default("height")
    width: int = _default("width")
    base_width: int = _default("base_width")
    hidden: int = _default("hidden")
    layout: str = "mean-first"  # LAYOUTS; checkpoints saved before it existed are mean-first
    stddev: str = "exp"  # STDDEVS; likewise exp for older checkpoints

    def __post_init__(self) -> None:
        _check_fields(self)
        check_choice("layout", self.layout, LAYOUTS, "encoder output layout")
        check_choice("stddev", self.stddev, STDDEVS, "stddev function")
        multiple = 2**self.stages
        for name in ("height", "width"):
            value = getattr(self, name)
            if value % multiple:
                raise ConfigError(f"{FIELDS[name].label} must be a multiple of {multiple} for a "
                                  f"{self.height}×{self.width} model (got {value}).")

    @property
    def stages(self) -> int:
        """Stride-2 stages of the encoder (and decoder): 2 up to 32×32 images, one more per doubling
        of the smaller side from 64 on (3 at 64×64, 4 at 128×128)."""
        side, stages = min(self.height, self.width), 2
        while side >= 64:
            side //= 2
            stages += 1
        return stages

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

    epochs: int = _default("epochs")
    batch_size: int = _default("batch_size")
    lr: float = _default("lr")
    beta: float = _default("beta")
    seed: int = _default("seed")
    kl_warmup_epochs: int = _default("kl_warmup_epochs")  # β ramps from 0 over this many epochs
    free_bits: float = _default("free_bits")  # nats per latent dimension the KL term never goes below
    device: str = "auto"
    recon_loss: str = "bernoulli"

    def __post_init__(self) -> None:
        _check_fields(self)
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


def check_choice(name: str, value: object, choices: tuple[str, ...], what: str) -> str:
    """One of a fixed set of words (`--layout`, `--stddev`, a checkpoint's field): the same message for all."""
    if isinstance(value, str) and value in choices:
        return value
    raise ConfigError(f"Unknown {what} {shown_text(str(value))}: choose one of {', '.join(choices)}.")


def check_image_size(value: object) -> int:
    """One of IMAGE_SIZES (a checkpoint's stored size, `load_dataset`'s argument)."""
    if isinstance(value, int) and not isinstance(value, bool) and value in IMAGE_SIZES:
        return value
    sizes = ", ".join(str(size) for size in IMAGE_SIZES)
    raise ConfigError(f"Image size must be one of {sizes} (got {shown_text(str(value))}).")


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


def _check_fields(config: Any) -> None:
    for f in fields(config):
        if f.name in FIELDS:
            FIELDS[f.name].check(getattr(config, f.name))


@dataclass(frozen=True)
class Architecture:
    """The model choices the window's form offers beyond z_dim; the image shape comes from the data."""

    base_width: int = _default("base_width")
    hidden: int = _default("hidden")
    layout: str = "mean-first"
    stddev: str = "exp"

    def __post_init__(self) -> None:
        _check_fields(self)
        check_choice("layout", self.layout, LAYOUTS, "encoder output layout")
        check_choice("stddev", self.stddev, STDDEVS, "stddev function")

    @classmethod
    def of(cls, config: ModelConfig) -> Architecture:
        return cls(config.base_width, config.hidden, config.layout, config.stddev)

    def applied_to(self, config: ModelConfig) -> ModelConfig:
        return replace(config, base_width=self.base_width, hidden=self.hidden, layout=self.layout, stddev=self.stddev)


@dataclass(frozen=True)
class RunSettings:
    """Everything the window's form describes: which data, which architecture, how to train."""

    dataset: str
    z_dim: int
    train: TrainConfig
    architecture: Architecture | None = None  # None: the window's model template (tests use small ones)
