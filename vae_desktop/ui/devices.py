"""What this computer offers the window's form: datasets, devices, and how the chosen one reads."""

from __future__ import annotations

import torch

from vae_desktop.core.datasets import DATASETS
from vae_desktop.core.device import describe_device, pick_device
from vae_desktop.core.errors import ConfigError
from vae_desktop.core.wording import counted


def describe_training_device(requested: str, threads: int) -> str:
    """'CPU (3 training threads)' or the accelerator's name, for the status bar and the report."""
    try:
        device = pick_device(requested)
    except ConfigError:
        device = torch.device("cpu")
    if device.type == "cpu":
        return f"CPU ({counted(threads, 'training thread')})"
    return describe_device(device)


def dataset_choices() -> list[tuple[str, str]]:
    return [(info.name, info.title) for info in DATASETS.values()]


def available_devices() -> list[str]:
    found = []
    if torch.cuda.is_available():
        found.append("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        found.append("mps")
    return found
