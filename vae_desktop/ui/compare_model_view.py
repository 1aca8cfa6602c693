"""The side panels follow the run selected in the comparison, without replacing the window's own run.

Selecting a run folder loads its latest checkpoint off the GUI thread and puts that model (weights
and architecture) into the window's ModelMirror, so the latent map, manifold, reconstructions and
inspector show it; the window's own run (its trainer, settings, file and history) is untouched,
and its model is kept aside and put back when the own run is selected again or the comparison
closes. Training only ever updates the own model: when training starts while a compared model is
shown, the own model goes back first (the worker's weights would not fit another architecture).
A model set by the window itself (a new run, an opened checkpoint) ends the borrowing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, Signal

from vae_desktop.core.config import ModelConfig
from vae_desktop.ui.background import BackgroundCall
from vae_desktop.ui.logging_setup import LOGGER_NAME

if TYPE_CHECKING:
    from vae_desktop.ui.main_window import MainWindow
    from vae_desktop.ui.model_mirror import ModelMirror

log = logging.getLogger(f"{LOGGER_NAME}.compare")


@dataclass(frozen=True)
class _Model:
    """A model as the mirror takes it: plain numpy weights, safe to pass between threads."""

    config: ModelConfig
    state: dict[str, np.ndarray]
    recon_loss: str
    beta: float = 1.0


def _load(path: str) -> _Model:
    from vae_desktop.core.checkpoint import load_checkpoint  # torch: loaded with the core

    ckpt = load_checkpoint(path)
    state = {k: v.detach().to("cpu", copy=True).numpy() for k, v in ckpt.model_state.items()}
    return _Model(ckpt.model_config, state, ckpt.train_config.recon_loss, ckpt.train_config.beta)


class ComparedModelView(QObject):
    """Shows the selected compared run's model in `mirror` while the window is not training."""

    shown = Signal(str)  # the checkpoint now in the mirror ('' once the own model is back)

    def __init__(self, window: MainWindow, mirror: ModelMirror) -> None:
        super().__init__(window)
        self._window = window
        self._mirror = mirror
        self._own: _Model | None = None  # the window's own model, kept aside while a compared one is shown
        self._own_was_empty = False
        self._showing = ""  # checkpoint path of the compared model in the mirror, '' when the own one is
        self._wanted = ""
        self._setting = False
        self._loads: list[BackgroundCall] = []
        mirror.modelReplaced.connect(self._on_model_replaced)
        window.statusChanged.connect(self._on_status)

    @property
    def showing(self) -> str:
        return self._showing

    def follow(self, checkpoint: str) -> None:
        """Show the model of `checkpoint` ('' for the window's own run)."""
        self._wanted = checkpoint
        if not checkpoint:
            self.restore_own()
            return
        if self._window.is_training:
            self._window.statusBar().showMessage(
                "The latent map and inspector keep showing the run that is training here.", 5000)
            return
        if checkpoint == self._showing:
            return
        call = BackgroundCall(partial(_load, checkpoint), partial(self._on_loaded, checkpoint),
                              partial(self._on_failed, checkpoint), name="compare-model", parent=self)
        self._loads.append(call)
        call.completed.connect(partial(self._loads.remove, call))
        call.start()

    def _on_loaded(self, checkpoint: str, model: _Model) -> None:
        if checkpoint != self._wanted or self._window.is_training:
            return  # another run was selected meanwhile, or training started
        mirror = self._mirror
        if not self._showing:
            current = mirror.model
            self._own_was_empty = current is None
            if current is not None:
                from vae_desktop.ui.model_mirror import state_to_numpy

                self._own = _Model(current.config, state_to_numpy(current), mirror.recon_loss, mirror.beta)
        self._set(model)
        self._showing = checkpoint
        self.shown.emit(checkpoint)
        log.info("Side panels show the compared run's model %s", checkpoint)

    def _on_failed(self, checkpoint: str, exc: BaseException) -> None:
        log.warning("Could not load %s for the comparison", checkpoint, exc_info=exc)
        self._window.show_error(f"Could not load the model of {checkpoint}: {exc}")

    def restore_own(self) -> None:
        """Put the window's own model back (or none, when it had none)."""
        if not self._showing:
            return
        own, self._own = self._own, None
        self._showing = ""
        if own is not None:
            self._set(own)
        elif self._own_was_empty:
            self._setting = True
            try:
                self._mirror.clear_model()
            finally:
                self._setting = False
        self.shown.emit("")

    def _set(self, model: _Model) -> None:
        self._setting = True
        try:
            self._mirror.set_model(model.config, model.state, model.recon_loss, model.beta)
        finally:
            self._setting = False

    def _on_model_replaced(self) -> None:
        if not self._setting and self._showing:  # the window set its own model: nothing to put back
            self._showing, self._own = "", None
            self.shown.emit("")

    def _on_status(self, _status: object) -> None:
        if self._window.is_training and self._showing:
            self.restore_own()

    def join(self, timeout_s: float) -> bool:
        return all(call.join(timeout_s) for call in list(self._loads))
