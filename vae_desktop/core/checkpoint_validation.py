"""Every field of a loaded checkpoint checked before anything uses it.

A checksum proves a file is the one that was saved, not that its writer was sane: a file from
another tool, an old bug or a hand edit can hold an optimizer state that crashes the first step
(a wrong-shaped exp_avg makes the fused Adam kernel write out of bounds), an RNG state torch
refuses, an `epoch` of infinity, or NaN weights. Each check raises `InvalidField` whose text names
the field and says what is wrong, so the user reads one sentence instead of a traceback later.
The settings themselves (ranges, the encoder layout and stddev function, with their defaults for
files saved before those existed) are checked by the config dataclasses, the one rule for them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from vae_desktop.core.config import IMAGE_SIZES
from vae_desktop.core.metrics import EPOCH_COLUMNS, OPTIONAL_EPOCH_COLUMNS

MAX_COUNT = 10**15  # steps, images, epochs: far beyond any real run, small enough for exact floats
MAX_HISTORY_POINTS = 10**9
MAX_TEXT = 4096


class InvalidField(ValueError):
    """A checkpoint field that cannot be used; the text reads "<field> <problem>"."""


def check_text(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_TEXT or "\0" in value:
        raise InvalidField(f"{field} is not a usable name ({_shown(value)})")
    return value


def check_count(value: Any, field: str, low: int = 0, high: int = MAX_COUNT) -> int:
    """A whole number stored as int (or an integral float), within [low, high]."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidField(f"{field} is not a number ({_shown(value)})")
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        raise InvalidField(f"{field} is not a whole number ({_shown(value)})")
    if not low <= value <= high:
        raise InvalidField(f"{field} is out of range ({_shown(value)}, expected {low} to {high})")
    return int(value)


def check_real(value: Any, field: str, low: float = -math.inf) -> float:
    """A finite number, at least `low`."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidField(f"{field} is not a finite number ({_shown(value)})")
    if value < low:
        raise InvalidField(f"{field} is below {low:g} ({_shown(value)})")
    return float(value)


def check_progress(data: Any) -> None:
    """Where the run stands: counts that fit together, running sums that are finite."""
    data = _mapping(data, "progress")
    epoch = check_count(data.get("epoch"), "progress.epoch")
    step = check_count(data.get("step_in_epoch"), "progress.step_in_epoch")
    global_step = check_count(data.get("global_step"), "progress.global_step")
    images = check_count(data.get("epoch_images"), "progress.epoch_images")
    check_real(data.get("epoch_recon_sum"), "progress.epoch_recon_sum")
    check_real(data.get("epoch_kl_sum"), "progress.epoch_kl_sum", low=0.0)
    check_real(data.get("epoch_seconds"), "progress.epoch_seconds", low=0.0)
    if step > global_step or epoch > global_step:
        raise InvalidField(f"progress does not add up (epoch {epoch}, step {step} of the epoch, "
                           f"{global_step} steps in all)")
    if (step == 0) != (images == 0):
        raise InvalidField(f"progress does not add up ({step} steps but {images} images in the current epoch)")


def check_history(data: Any, progress: dict, z_dim: int) -> None:
    """The loss trace and the epochs: bounded, finite, in order, and not ahead of the progress."""
    data = _mapping(data, "history")
    max_points = check_count(data.get("max_points"), "history.max_points", 2, MAX_HISTORY_POINTS)
    check_count(data.get("stride"), "history.stride", 1, MAX_COUNT)
    batch = data.get("batch")
    if not isinstance(batch, torch.Tensor) or not batch.is_floating_point() or batch.ndim != 2 or batch.shape[0] != 3:
        raise InvalidField("history.batch is not a 3-row table of numbers")
    if batch.shape[1] > max_points:
        raise InvalidField(f"history.batch has {batch.shape[1]} points, more than its max_points {max_points}")
    if not _all_finite(batch):
        raise InvalidField("history.batch holds values that are not finite numbers")
    steps = batch[0]
    if batch.shape[1] and (bool((steps[1:] < steps[:-1]).any()) or steps[0] < 1 or steps[-1] > progress["global_step"]):
        raise InvalidField("history.batch has steps out of order or beyond the run's progress")
    epochs = data.get("epochs")
    if not isinstance(epochs, list):
        raise InvalidField("history.epochs is not a list")
    previous = 0
    for index, entry in enumerate(epochs):
        entry = _mapping(entry, f"history.epochs[{index}]")
        number = check_count(entry.get("epoch"), f"history.epochs[{index}].epoch", 1, progress["epoch"])
        if number <= previous:
            raise InvalidField(f"history.epochs are out of order (epoch {number} after {previous})")
        previous = number
        for key in EPOCH_COLUMNS[1:]:
            if key in OPTIONAL_EPOCH_COLUMNS:
                continue
            check_real(entry.get(key), f"history.epochs[{index}].{key}")
        if entry.get("active_units") is not None:
            check_count(entry["active_units"], f"history.epochs[{index}].active_units", 0, z_dim)
        per_dim = entry.get("kl_per_dim", [])
        if not isinstance(per_dim, (list, tuple)) or len(per_dim) not in (0, z_dim):
            raise InvalidField(f"history.epochs[{index}].kl_per_dim does not have one value per latent dimension")
        for value in per_dim:
            check_real(value, f"history.epochs[{index}].kl_per_dim")


def check_stored_image_size(value: Any, image_shape: tuple[int, int, int]) -> int | None:
    """The dataset's `--image-size`: absent or None (the dataset's own size), else one of
    config.IMAGE_SIZES that is also the model's image size."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value not in IMAGE_SIZES:
        raise InvalidField(f"image_size is not one of {', '.join(map(str, IMAGE_SIZES))} ({_shown(value)})")
    if image_shape[1:] != (value, value):
        raise InvalidField(f"image_size {value} does not match its model's {image_shape[1]}×{image_shape[2]} images")
    return value


def check_weights(state: dict[str, torch.Tensor]) -> None:
    """NaN or infinite weights make every output NaN: refuse them instead of training or evaluating on."""
    for name, tensor in state.items():
        if tensor.is_floating_point() and not _all_finite(tensor):
            raise InvalidField(f"weights are not finite numbers (NaN or infinity in {name})")


def check_rng_state(value: Any) -> None:
    """The CPU generator state a mid-epoch checkpoint continues from; torch validates its content."""
    if value is None:
        return
    if not isinstance(value, torch.Tensor) or value.dtype != torch.uint8 or value.ndim != 1:
        raise InvalidField("rng_state is not a byte tensor")
    try:
        torch.Generator().set_state(value.clone())
    except (RuntimeError, TypeError, ValueError) as exc:
        raise InvalidField(f"rng_state is not a valid random state ({brief(str(exc), 120)})") from None


def check_optimizer_state(value: Any, shapes: Sequence[torch.Size]) -> None:
    """Adam's state against the model's parameters (in `model.parameters()` order): one group over all
    of them, moments of each parameter's shape, hyperparameters in range."""
    if value is None:
        return
    value = _mapping(value, "optimizer_state")
    groups = value.get("param_groups")
    if not isinstance(groups, list) or len(groups) != 1:
        raise InvalidField("optimizer_state does not have the one parameter group this model's optimizer has")
    group = _mapping(groups[0], "optimizer_state.param_groups[0]")
    params = group.get("params")
    if not isinstance(params, list) or sorted(params, key=_sort_key) != list(range(len(shapes))):
        raise InvalidField(f"optimizer_state does not cover the model's {len(shapes)} parameters once each")
    _check_group(group)
    amsgrad = bool(group.get("amsgrad", False))
    states = value.get("state")
    if not isinstance(states, dict):
        raise InvalidField("optimizer_state.state is not a table")
    for index, entry in states.items():
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(shapes):
            raise InvalidField(f"optimizer_state.state names a parameter the model does not have ({_shown(index)})")
        entry = _mapping(entry, f"optimizer_state.state[{index}]")
        step = entry.get("step")
        if not isinstance(step, torch.Tensor) or step.numel() != 1 or not step.is_floating_point():
            raise InvalidField(f"optimizer_state.state[{index}].step is not a number")
        check_count(float(step), f"optimizer_state.state[{index}].step")
        moments = ["exp_avg", "exp_avg_sq"] + (["max_exp_avg_sq"] if amsgrad else [])
        for key in moments:
            tensor = entry.get(key)
            if not isinstance(tensor, torch.Tensor) or not tensor.is_floating_point():
                raise InvalidField(f"optimizer_state.state[{index}].{key} is missing")
            if tensor.shape != shapes[index]:
                raise InvalidField(f"optimizer_state.state[{index}].{key} has shape {tuple(tensor.shape)}, "
                                   f"its parameter {tuple(shapes[index])}")
            if not _all_finite(tensor, low=None if key == "exp_avg" else 0.0):
                raise InvalidField(f"optimizer_state.state[{index}].{key} holds values Adam cannot have")


def _check_group(group: dict) -> None:
    check_real(group.get("lr", 1e-3), "optimizer_state lr", low=0.0)
    betas = group.get("betas", (0.9, 0.999))
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise InvalidField(f"optimizer_state betas are not two numbers ({_shown(betas)})")
    for beta in betas:
        if not 0.0 <= check_real(beta, "optimizer_state betas") < 1.0:
            raise InvalidField(f"optimizer_state betas must lie in [0, 1) ({_shown(betas)})")
    if check_real(group.get("eps", 1e-8), "optimizer_state eps") <= 0:
        raise InvalidField("optimizer_state eps must be positive")
    check_real(group.get("weight_decay", 0.0), "optimizer_state weight_decay", low=0.0)
    for key in ("amsgrad", "maximize", "foreach", "capturable", "differentiable", "fused", "decoupled_weight_decay"):
        if group.get(key) is not None and not isinstance(group.get(key), bool):
            raise InvalidField(f"optimizer_state {key} is not true or false ({_shown(group.get(key))})")
    if group.get("differentiable") or group.get("capturable"):
        raise InvalidField("optimizer_state asks for a differentiable or capturable Adam, which this app does not use")


def _all_finite(tensor: torch.Tensor, low: float | None = None) -> bool:
    """No NaN or infinity (and nothing below `low`), in one pass: aminmax propagates NaN, and is about 20
    times faster than isfinite().all(), which builds a boolean copy of the tensor."""
    if tensor.numel() == 0:
        return True
    lowest, highest = torch.aminmax(tensor.detach())
    finite = bool(torch.isfinite(lowest)) and bool(torch.isfinite(highest))
    return finite and (low is None or float(lowest) >= low)


def _mapping(value: Any, field: str) -> dict:
    if not isinstance(value, dict):
        raise InvalidField(f"{field} is not a table ({type(value).__name__})")
    return value


def _sort_key(value: Any) -> tuple[int, Any]:
    """Sort mixed junk without a TypeError: ints first, anything else after (and so not equal to a range)."""
    return (0, value) if isinstance(value, int) and not isinstance(value, bool) else (1, id(value))


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def brief(text: str, limit: int = 160) -> str:
    """Text for a message: one line, its first sentence or whole words up to `limit` (never cut mid-word)."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text.rstrip(".")
    sentence_end = text.rfind(". ", 0, limit)
    if sentence_end > 0:
        return text[:sentence_end]
    cut = text.rfind(" ", 0, limit)
    return (text[:cut] if cut > 0 else text[:limit]) + " …"
