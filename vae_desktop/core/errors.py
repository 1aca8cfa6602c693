"""User-facing errors: each message is shown as-is in the window and printed as one CLI line."""


class VaeDesktopError(Exception):
    """Base class for errors whose message is meant for the user, not a traceback."""


class ConfigError(VaeDesktopError, ValueError):
    """A hyperparameter or setting is out of range or not a number."""


class DatasetError(VaeDesktopError):
    """A dataset cannot be found, read or downloaded."""


class CheckpointError(VaeDesktopError):
    """A checkpoint file cannot be read, is corrupt, or does not fit the model."""


class TrainingDivergedError(VaeDesktopError):
    """The loss became NaN or infinite; the model was rolled back to the last good weights."""

    def __init__(self, message: str, epoch: int, step: int) -> None:
        super().__init__(message)
        self.epoch = epoch
        self.step = step


class OutputError(VaeDesktopError):
    """A run's output (checkpoint, metrics.csv, its folder) cannot be written."""


class RunInUseError(VaeDesktopError):
    """Another live writer owns the checkpoint or run folder (see core/run_lock.py)."""


class DistributedError(VaeDesktopError):
    """A process of a distributed run could not reach its peers: one never arrived, died or hung."""
