"""Pick the compute device: CUDA, then Apple MPS, then CPU, unless the user names one."""

from __future__ import annotations

import torch

from vae_desktop.core.config import check_device_name
from vae_desktop.core.errors import ConfigError


def pick_device(requested: str = "auto") -> torch.device:
    """Return the device to train or evaluate on; an unknown name or a missing accelerator is a clear error."""
    check_device_name(requested)
    if requested == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError("CUDA was requested but no CUDA GPU is available; choose 'auto' or 'cpu'.")
    if requested.startswith("cuda:") and int(requested[5:]) >= torch.cuda.device_count():
        count = torch.cuda.device_count()
        raise ConfigError(f"{requested} was requested but this computer has {count} CUDA GPU{'s' if count != 1 else ''} "
                          f"(cuda:0 to cuda:{count - 1}).")
    if requested == "mps" and not _mps_available():
        raise ConfigError("MPS was requested but Apple's Metal backend is not available; choose 'auto' or 'cpu'.")
    return torch.device(requested)


def describe_device(device: torch.device) -> str:
    """A short human name for the status bar and About dialog."""
    if device.type == "cuda":
        return f"CUDA ({torch.cuda.get_device_name(device)})"
    if device.type == "mps":
        return "Apple MPS"
    return f"CPU ({torch.get_num_threads()} threads)"


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())
