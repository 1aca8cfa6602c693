"""The window's datasets: loaded off the GUI thread once per (name, seed), kept one at a time.

A dataset is loaded for a (name, seed): an image folder's train/test split follows the run's seed,
as in `vae-desktop train`, so the same seed gives the same run in both. A provided dataset (tests,
benchmarks) is stored under seed None and serves any seed. Every load is a `BackgroundCall` this
object holds until it completes, so shutdown joins each by reference.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from vae_desktop.core.datasets import ImageDataset, load_dataset
from vae_desktop.core.errors import VaeDesktopError
from vae_desktop.ui.background import BackgroundCall
from vae_desktop.ui.logging_setup import LOGGER_NAME

log = logging.getLogger(f"{LOGGER_NAME}.datasets")

Waiter = Callable[[ImageDataset | None], None]


class DatasetLoads(QObject):
    """`with_dataset(name, seed, then)`: `then(dataset)` in the GUI thread once loaded (`then(None)` on failure).

    A run trained at `--image-size 64` needs its dataset at 64 px: the size is part of what is asked
    for (None: the dataset's own size)."""

    errorRaised = Signal(str)  # user-facing message: a load failed

    def __init__(
        self, report_unexpected: Callable[[str, BaseException], None], after_failed_waiter: Callable[[], None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._report_unexpected = report_unexpected  # a waiter's unexpected exception: logged and shown
        self._after_failed_waiter = after_failed_waiter  # e.g. leave "loading"
        self._datasets: dict[tuple[str, int | None, int | None], ImageDataset] = {}  # (name, seed, size)
        self._loads: dict[tuple[str, int, int | None], BackgroundCall] = {}
        self._waiters: dict[tuple[str, int, int | None], list[tuple[Waiter, str]]] = {}

    def provide(self, dataset: ImageDataset, name: str) -> None:
        self._datasets = {(name, None, dataset.image_size): dataset}

    def loaded(self, name: str, seed: int, image_size: int | None = None) -> ImageDataset | None:
        return self._datasets.get((name, None, image_size)) or self._datasets.get((name, seed, image_size))

    def with_dataset(
        self, name: str, seed: int, then: Waiter, download: bool = True, quiet: bool = False,
        purpose: str = "show the dataset", image_size: int | None = None,
    ) -> None:
        """Call `then` with the dataset (at `image_size`); `purpose` completes "Could not ..." should `then` fail."""
        loaded = self.loaded(name, seed, image_size)
        if loaded is not None:
            self._deliver(then, purpose, loaded)
            return
        key = (name, seed, image_size)
        self._waiters.setdefault(key, []).append((then, purpose))
        if key in self._loads:
            return

        def done(dataset: ImageDataset) -> None:
            provided = self._datasets.get((name, None, image_size))
            if provided is not None:  # provided meanwhile (tests, benchmarks): that one wins
                dataset = provided
            else:
                self._datasets = {key: dataset}  # keep one dataset in memory: CIFAR-10 alone is 180 MB
            for waiter, why in self._waiters.pop(key, []):
                self._deliver(waiter, why, dataset)

        def failed(exc: BaseException) -> None:
            if not quiet:
                if isinstance(exc, VaeDesktopError):
                    self.errorRaised.emit(str(exc))
                else:
                    log.error("Loading dataset %s failed", name, exc_info=exc)
                    self.errorRaised.emit(f"Could not load the dataset {name}: {exc}")
            for waiter, why in self._waiters.pop(key, []):
                self._deliver(waiter, why, None)

        call = BackgroundCall(lambda: load_dataset(name, seed=seed, download=download, image_size=image_size), done, failed,
                              name=f"load {name}", parent=self)
        call.completed.connect(lambda: self._loads.pop(key, None))
        self._loads[key] = call
        call.start()

    def join(self, timeout_s: float) -> bool:
        """Wait up to `timeout_s` for the loads still running; True when none is left."""
        return all(call.join(timeout_s) for call in list(self._loads.values()))

    def _deliver(self, then: Waiter, purpose: str, dataset: ImageDataset | None) -> None:
        """Run one waiter; whatever it raises becomes a message, so a dataset load can never leave
        Start, Open and the form disabled."""
        try:
            then(dataset)
        except VaeDesktopError as exc:
            self.errorRaised.emit(str(exc))
        except Exception as exc:  # any failure: say so (the log has the traceback), stay usable
            self._report_unexpected(f"Could not {purpose}", exc)
        else:
            return
        self._after_failed_waiter()
